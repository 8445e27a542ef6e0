import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type DevelopmentSettings, loadDevelopmentSettings } from '../config/development';

/**
 * Where provisioned servers are cached: outside the work tree, shared by every clone on the machine
 * (config/development.ts says how to move it).
 */
export function cacheDir(settings: DevelopmentSettings = loadDevelopmentSettings()): string {
  return settings.cacheDir;
}

export type Log = (message: string) => void;

export const stderrLog: Log = (message) => process.stderr.write(`[latchkey:provision] ${message}\n`);

export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Finds a program on PATH, like `command -v`. */
export function which(program: string, settings: DevelopmentSettings = loadDevelopmentSettings()): string | undefined {
  for (const dir of (settings.childEnv.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, program);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Runs `fn` while holding an exclusive lock (a directory, created atomically), so that parallel test
 * workers or a test run beside `npm start` never build the same thing twice at once.
 */
export async function withLock<T>(lockDir: string, log: Log, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(path.dirname(lockDir), { recursive: true });
  let waitedMs = 0;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (lockHolderIsGone(lockDir)) {
        fs.rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (waitedMs % 30_000 === 0) log(`waiting for another process to finish (${lockDir})`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      waitedMs += 1_000;
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

function lockHolderIsGone(lockDir: string): boolean {
  try {
    const pid = Number(fs.readFileSync(path.join(lockDir, 'pid'), 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return true;
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // ESRCH: no such process. A lock without a pid file yet is young; leave it alone.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Runs a long build step, printing a line every 30 seconds so that nobody mistakes a cold
 * `go install` (minutes) for a hang. Output is kept and shown only if the command fails.
 */
export async function runWithProgress(
  label: string,
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; log: Log },
): Promise<void> {
  const started = Date.now();
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const ticker = setInterval(() => {
    options.log(`${label}: still working (${Math.round((Date.now() - started) / 1000)} s)`);
  }, 30_000);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (code !== 0) {
      const tail = output.join('').split('\n').slice(-30).join('\n');
      throw new Error(`${label} failed (exit ${code}):\n${tail}`);
    }
    options.log(`${label}: done in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    clearInterval(ticker);
  }
}
