import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from '../../config/config';
import { cacheDir, isExecutable, type Log, runWithProgress, which, withLock } from '../../devstack/cache';

/** Pinned, so every machine fuzzes with the same generator. */
export const SCHEMATHESIS_VERSION = '4.32.5';

/** What the hostile run tells schemathesis beyond its flags: the refusals a valid request may get (read it). */
export const SCHEMATHESIS_CONFIG = path.join(repoRoot(), 'bench', 'schemathesis.toml');

function installedVersion(binary: string): string | undefined {
  if (!isExecutable(binary)) return undefined;
  const answer = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return /version\s+(\S+)/.exec(answer.stdout ?? '')?.[1];
}

/**
 * schemathesis from PyPI in a virtualenv in latchkey's cache, made once and reused; safe to call from
 * several processes at once. Needs python3 with the venv module (Debian: python3-venv).
 */
export async function ensureSchemathesis(log: Log): Promise<string> {
  const venv = path.join(cacheDir(), 'venv', `schemathesis-${SCHEMATHESIS_VERSION}`);
  const binary = path.join(venv, 'bin', 'schemathesis');
  if (installedVersion(binary) === SCHEMATHESIS_VERSION) return binary;
  const python = which('python3');
  if (!python) throw new Error('python3 is needed for schemathesis (Debian: apt-get install python3 python3-venv)');
  await withLock(path.join(cacheDir(), 'locks', 'schemathesis'), log, async () => {
    if (installedVersion(binary) === SCHEMATHESIS_VERSION) return;
    log(`installing schemathesis ${SCHEMATHESIS_VERSION} from PyPI into ${venv}`);
    await runWithProgress('python3 -m venv', python, ['-m', 'venv', '--clear', venv], { log });
    await runWithProgress(
      'pip install schemathesis',
      path.join(venv, 'bin', 'pip'),
      ['install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`],
      { log },
    );
  });
  const version = installedVersion(binary);
  if (version !== SCHEMATHESIS_VERSION) throw new Error(`schemathesis in ${venv} reports version ${version ?? 'none'}`);
  return binary;
}
