import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { TargetError, type RotationCheck, type Rotator } from '../port';

export interface CommandRotatorOptions {
  /** The program and its arguments, fixed by configuration: nothing of a request goes in them. */
  command: readonly string[];
  /** How long one run may take (default 60 s); then its whole process group is killed. */
  timeoutMs?: number;
  /**
   * The child's environment, besides LATCHKEY_ROTATION_REFERENCE: non-secret values from configuration.
   * The worker's own environment is not inherited (it holds the 1Password tokens). Default: a PATH.
   */
  env?: Record<string, string>;
  cwd?: string;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
/** How much of the command's stderr a failure quotes (after the secret is blanked out). */
export const STDERR_QUOTED_CHARS = 200;
/** How much stderr is kept at all: enough to find the secret in what is quoted. */
const STDERR_KEPT_BYTES = 64 * 1024;

/**
 * A rotator that runs a configured program: the new secret on its standard input, followed by a newline
 * (never in its arguments or environment, which other users of the machine can read in /proc); exit status
 * 0 means the target accepts the secret. It cannot log in to check, so `verify` answers `checked: false`.
 */
export class CommandRotator implements Rotator {
  private readonly name: string;

  constructor(private readonly options: CommandRotatorOptions) {
    if (options.command.length === 0 || !options.command[0]) {
      throw new TargetError('invalid-argument', 'a rotation command needs a program to run');
    }
    this.name = path.basename(options.command[0]);
  }

  async setSecret(secret: string, reference: string): Promise<void> {
    if (!secret || /[\r\n]/.test(secret)) {
      throw new TargetError(
        'invalid-argument',
        `a secret for rotation command ${this.name} must be one non-empty line`,
      );
    }
    const outcome = await this.run(secret, reference);
    if (outcome.code === 0) return;
    if (outcome.timedOut) {
      const ms = this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      throw new TargetError(
        'unavailable',
        `rotation command ${this.name} did not finish within ${ms} ms and was killed`,
      );
    }
    if (outcome.spawnError) {
      throw new TargetError('refused', `rotation command ${this.name} could not be run (${outcome.spawnError})`);
    }
    const status = outcome.signal ? `was ended by ${outcome.signal}` : `exited with code ${outcome.code}`;
    const said = quotedStderr(outcome.stderr, secret);
    throw new TargetError('refused', `rotation command ${this.name} ${status}${said ? `: ${said}` : ''}`);
  }

  verify(): Promise<RotationCheck> {
    return Promise.resolve({ checked: false });
  }

  private run(secret: string, reference: string): Promise<RunOutcome> {
    const [program, ...args] = this.options.command;
    const child = spawn(program, args, {
      cwd: this.options.cwd,
      env: { ...(this.options.env ?? DEFAULT_ENV), LATCHKEY_ROTATION_REFERENCE: reference },
      stdio: ['pipe', 'ignore', 'pipe'],
      // A process group of its own, so that a timeout ends whatever the command started too.
      detached: true,
    });
    const stderr: Buffer[] = [];
    let kept = 0;
    child.stderr.on('data', (chunk: Buffer) => {
      if (kept < STDERR_KEPT_BYTES) stderr.push(chunk);
      kept += chunk.length;
    });
    // A command that exits without reading its input makes the write fail (EPIPE): its exit status tells.
    child.stdin.on('error', () => undefined);
    child.stdin.end(`${secret}\n`);

    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
      child.stderr.destroy(); // a grandchild that left the group may still hold it open
    }, this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    return new Promise((resolve) => {
      child.once('error', (error) => {
        clearTimeout(timer);
        resolve({ code: null, signal: null, timedOut, stderr: '', spawnError: error.message });
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, timedOut, stderr: Buffer.concat(stderr).toString('utf8') });
      });
    });
  }
}

interface RunOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stderr: string;
  spawnError?: string;
}

/** The secret is blanked out before the text is cut, so that no part of it survives at the cut. */
function quotedStderr(stderr: string, secret: string): string {
  return stderr.split(secret).join('[redacted]').trim().slice(0, STDERR_QUOTED_CHARS);
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
