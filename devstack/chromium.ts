import * as path from 'node:path';
import { type DevelopmentSettings, loadDevelopmentSettings } from '../config/development';
import { cacheDir, type Log, runWithProgress, which, withLock } from './cache';

/** apt-get waits this long for another dpkg user (an unattended upgrade, another install) to finish. */
const DPKG_LOCK_TIMEOUT_S = 600;

/**
 * Debian's Chromium, for the browser test of the Temporal UI (driven by playwright-core, which
 * downloads no browser). Installed with apt-get where that is possible (root on Debian), else a
 * clear error that says what to install.
 */
export async function ensureChromium(
  log: Log,
  settings: DevelopmentSettings = loadDevelopmentSettings(),
): Promise<string> {
  const existing = which('chromium', settings);
  if (existing) return existing;
  const aptGet = which('apt-get', settings);
  if (!aptGet || process.getuid?.() !== 0) {
    throw new Error("Chromium is missing: install Debian's package (`sudo apt-get install chromium`) for the UI test.");
  }
  // One install at a time from latchkey's side, and apt waits for any other dpkg user (two clones
  // provisioning at once otherwise fail on dpkg's lock).
  await withLock(path.join(cacheDir(settings), 'locks', 'chromium'), log, async () => {
    if (which('chromium', settings)) return;
    log("installing Debian's chromium for the Temporal UI test (once)");
    const aptEnv = { ...settings.childEnv, DEBIAN_FRONTEND: 'noninteractive' };
    const waitForDpkg = ['-o', `DPkg::Lock::Timeout=${DPKG_LOCK_TIMEOUT_S}`];
    await runWithProgress('apt-get update', aptGet, [...waitForDpkg, 'update', '-qq'], { env: aptEnv, log });
    await runWithProgress('apt-get install chromium', aptGet, [...waitForDpkg, 'install', '-y', '-qq', 'chromium'], {
      env: aptEnv,
      log,
    });
  });
  const installed = which('chromium', settings);
  if (!installed) throw new Error('apt-get installed chromium but it is not on PATH');
  return installed;
}
