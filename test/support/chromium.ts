import { chromium, type Browser } from 'playwright-core';
import { which } from '../../devstack/cache';

/**
 * Debian's Chromium, driven by playwright-core (no browser download). `npm test` installs it
 * (devstack/debian-programs.ts); a missing browser fails the test with what to install.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = which('chromium');
  if (!executablePath)
    throw new Error('Chromium is not installed: `apt-get install chromium` (Debian) provides /usr/bin/chromium');
  return chromium.launch({
    executablePath,
    // The machine has no internet: keep Chromium from trying to reach Google's services at start.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
