import * as path from 'node:path';
import { type DevelopmentSettings, loadDevelopmentSettings } from '../config/development';
import { cacheDir, type Log, runWithProgress, which, withLock } from './cache';

/** apt-get waits this long for another dpkg user (an unattended upgrade, another install) to finish. */
const DPKG_LOCK_TIMEOUT_S = 600;

/** A program the tests run, from Debian's packages. */
export interface DebianProgram {
  command: string;
  package: string;
  /** What needs it, for the log and the error. */
  purpose: string;
}

export const CHROMIUM: DebianProgram = {
  command: 'chromium',
  package: 'chromium',
  purpose: 'the browser test of the Temporal UI',
};
/** psql and jq: the README's database walkthrough uses them, and its test runs it as written. */
export const PSQL: DebianProgram = {
  command: 'psql',
  package: 'postgresql-client',
  purpose: "the README's database walkthrough",
};
export const JQ: DebianProgram = { command: 'jq', package: 'jq', purpose: "the README's database walkthrough" };

/**
 * A program from Debian's packages (Chromium is driven by playwright-core, which downloads no browser), installed
 * with apt-get where that is possible (root on Debian), else a clear error that says what to install.
 */
export async function ensureDebianProgram(
  program: DebianProgram,
  log: Log,
  settings: DevelopmentSettings = loadDevelopmentSettings(),
): Promise<string> {
  const existing = which(program.command, settings);
  if (existing) return existing;
  const aptGet = which('apt-get', settings);
  if (!aptGet || process.getuid?.() !== 0) {
    throw new Error(
      `${program.command} is missing: install Debian's package (\`sudo apt-get install ${program.package}\`) for ${program.purpose}.`,
    );
  }
  // One install at a time from latchkey's side, and apt waits for any other dpkg user (two clones
  // provisioning at once otherwise fail on dpkg's lock).
  await withLock(path.join(cacheDir(settings), 'locks', 'apt-get'), log, async () => {
    if (which(program.command, settings)) return;
    log(`installing Debian's ${program.package} for ${program.purpose} (once)`);
    const aptEnv = { ...settings.childEnv, DEBIAN_FRONTEND: 'noninteractive' };
    const waitForDpkg = ['-o', `DPkg::Lock::Timeout=${DPKG_LOCK_TIMEOUT_S}`];
    await runWithProgress('apt-get update', aptGet, [...waitForDpkg, 'update', '-qq'], { env: aptEnv, log });
    await runWithProgress(
      `apt-get install ${program.package}`,
      aptGet,
      [...waitForDpkg, 'install', '-y', '-qq', program.package],
      { env: aptEnv, log },
    );
  });
  const installed = which(program.command, settings);
  if (!installed) throw new Error(`apt-get installed ${program.package} but ${program.command} is not on PATH`);
  return installed;
}
