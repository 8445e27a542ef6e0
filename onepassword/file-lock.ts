import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OnePasswordError } from './port';

/**
 * Cross-process exclusion for small state files shared by the worker, the API and the CLI: an
 * exclusive-create lock file next to the state, with stale-lock recovery for holders that died.
 *
 * The file operations are synchronous on purpose: each is a few microseconds on a local file, where a
 * promise-based one costs a trip through libuv's thread pool (the local 1Password's calls took about 2 ms of
 * CPU each that way, most of it handing a dozen operations over). Only waiting for another holder, and the
 * rename that replaces a file (which can wait for the disk), yield to the event loop.
 */
export interface FileLockOptions {
  /** Give up (as `unavailable`, which is retryable) after waiting this long. */
  timeoutMs?: number;
  /** A lock older than this is taken to belong to a dead process. Operations hold it for milliseconds. */
  staleMs?: number;
}

export async function withFileLock<T>(
  lockPath: string,
  work: () => T | Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const staleMs = options.staleMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  const owner = `${process.pid}:${randomBytes(6).toString('hex')}`;
  for (let attempt = 0; !tryToLock(lockPath, owner); attempt++) {
    removeIfStale(lockPath, staleMs);
    if (Date.now() > deadline) {
      throw new OnePasswordError('unavailable', 'the local 1Password state is locked by another process');
    }
    // Jitter keeps several waiting processes from retrying in lockstep.
    await sleep(Math.min(50, 2 + attempt * 2) + Math.random() * 5);
  }
  try {
    return await work();
  } finally {
    releaseIfOwned(lockPath, owner);
  }
}

/** Takes the lock if nobody holds it; false if someone does. */
function tryToLock(lockPath: string, owner: string): boolean {
  let fd: number;
  try {
    fd = openCreatingFolder(lockPath, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    fs.writeSync(fd, owner);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** Opens a file, making its folder first if it is missing (once: the folder is there from then on). */
function openCreatingFolder(filePath: string, flags: string, mode?: number): number {
  try {
    return fs.openSync(filePath, flags, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    fs.mkdirSync(path.dirname(filePath), { recursive: true });
    return fs.openSync(filePath, flags, mode);
  }
}

function removeIfStale(lockPath: string, staleMs: number): void {
  try {
    const stat = fs.statSync(lockPath);
    if (Date.now() - stat.mtimeMs < staleMs) return;
    // Rename first: only one process wins the rename, so two recoverers never delete a fresh lock twice.
    const grave = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    fs.renameSync(lockPath, grave);
    fs.rmSync(grave, { force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function releaseIfOwned(lockPath: string, owner: string): void {
  try {
    if (fs.readFileSync(lockPath, 'utf8') === owner) fs.rmSync(lockPath, { force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * Readers see the old file or the new one, never half of one: the content goes to a temporary file that is
 * then renamed over the old. Not flushed to disk: the readers are processes of this machine, which see the
 * rename whatever happens to the writer; only a crash of the machine itself could lose the last write. The
 * rename is left to the thread pool: on ext4 replacing a file waits for the new one's blocks to be written.
 */
export async function writeFileAtomic(filePath: string, content: string, mode = 0o600): Promise<void> {
  const temp = `${filePath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openCreatingFolder(temp, 'w', mode);
  try {
    fs.writeSync(fd, content);
  } finally {
    fs.closeSync(fd);
  }
  await fs.promises.rename(temp, filePath);
}
