import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OnePasswordError } from './port';

/**
 * Cross-process exclusion for small state files shared by the worker, the API and the CLI: an
 * exclusive-create lock file next to the state, with stale-lock recovery for holders that died.
 */
export interface FileLockOptions {
  /** Give up (as `unavailable`, which is retryable) after waiting this long. */
  timeoutMs?: number;
  /** A lock older than this is taken to belong to a dead process. Operations hold it for milliseconds. */
  staleMs?: number;
}

export async function withFileLock<T>(
  lockPath: string,
  work: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const staleMs = options.staleMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  const owner = `${process.pid}:${randomBytes(6).toString('hex')}`;
  await fs.mkdir(path.dirname(lockPath), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await fs.open(lockPath, 'wx');
      try {
        await handle.writeFile(owner);
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      await removeIfStale(lockPath, staleMs);
      if (Date.now() > deadline) {
        throw new OnePasswordError('unavailable', 'the local 1Password state is locked by another process');
      }
      // Jitter keeps several waiting processes from retrying in lockstep.
      await sleep(Math.min(50, 2 + attempt * 2) + Math.random() * 5);
    }
  }
  try {
    return await work();
  } finally {
    await releaseIfOwned(lockPath, owner);
  }
}

async function removeIfStale(lockPath: string, staleMs: number): Promise<void> {
  try {
    const stat = await fs.stat(lockPath);
    if (Date.now() - stat.mtimeMs < staleMs) return;
    // Rename first: only one process wins the rename, so two recoverers never delete a fresh lock twice.
    const grave = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    await fs.rename(lockPath, grave);
    await fs.rm(grave, { force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

async function releaseIfOwned(lockPath: string, owner: string): Promise<void> {
  try {
    if ((await fs.readFile(lockPath, 'utf8')) === owner) await fs.rm(lockPath, { force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Readers see the old file or the new one, never half of one. */
export async function writeFileAtomic(filePath: string, content: string, mode = 0o600): Promise<void> {
  await fs.mkdir(path.dirname(filePath), { recursive: true });
  const temp = `${filePath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await fs.open(temp, 'w', mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, filePath);
}
