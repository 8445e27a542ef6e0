import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../contracts/search-attributes';
import { checkDevDatabase, temporalServerVersion } from './dev-database';
import type { Log } from './cache';
import { chooseServerPort, releaseServerPort } from './ports';
import type { TemporalCliSource } from './temporal-cli';

export interface DevServerOptions {
  /** SQLite file for durable state; omit for an in-memory server (tests). */
  dbFile?: string;
  ip?: string;
  /**
   * Frontend port. A given port is kept: a start that meets a port conflict is retried on the same
   * port, since clients know it (a restart, `npm start`). Omit it to have one chosen outside the
   * ephemeral range (devstack/ports.ts), and another one chosen if it turns out to be taken.
   */
  port?: number;
  /** Web UI port; omit for a headless server. */
  uiPort?: number;
  /** Remote codec endpoint the Web UI calls to decode encrypted payloads. */
  uiCodecEndpoint?: string;
  namespace?: string;
  /** Extra SQLite pragmas, e.g. `synchronous=OFF` for benchmarks. */
  sqlitePragmas?: string[];
  /** Server log lines go here (default: a file beside the database, or a temporary file). */
  logFile?: string;
  /** How many times a start that meets a port conflict is tried in all (default MAX_START_ATTEMPTS). */
  startAttempts?: number;
  log: Log;
}

export interface RunningDevServer {
  address: string;
  port: number;
  uiUrl?: string;
  /** The OS process, when latchkey spawned it (not when the SDK manages it). */
  pid?: number;
  stop(): Promise<void>;
}

/** How many times a start that met a port conflict is tried in all. */
export const MAX_START_ATTEMPTS = 5;
/** A port held by a dying connection or a process on its way out is usually free again within a second. */
const CONFLICT_RETRY_DELAY_MS = 1_000;
const START_TIMEOUT_MS = 60_000;
/** How much of the server's log a failed start quotes. */
export const LOG_TAIL_LINES = 20;

/**
 * A start that failed. Its message quotes the log this start wrote (its first error line and its last
 * lines), because the log itself may be gone by the time someone reads the message.
 */
export class DevServerStartError extends Error {
  /** The line that says a port was taken, when that is why the server stopped (retried). */
  readonly portConflict?: string;
  readonly logTail: string[];

  constructor(
    readonly address: string,
    readonly reason: string,
    readonly logFile: string,
    startLog: string[],
  ) {
    super(startFailureMessage(address, reason, logFile, startLog));
    this.name = DevServerStartError.name;
    this.portConflict = portConflictLine(startLog);
    this.logTail = startLog.slice(-LOG_TAIL_LINES);
  }
}

export function startFailureMessage(address: string, reason: string, logFile: string, startLog: string[]): string {
  const tail = startLog.slice(-LOG_TAIL_LINES);
  // A Go panic prints a long stack after its cause: name the first error even when the tail misses it.
  const firstError = firstErrorLine(startLog);
  const cause = firstError && !tail.includes(firstError) ? `; first error: ${firstError}` : '';
  const quoted = tail.length
    ? `last ${tail.length} lines of ${logFile}:\n${tail.map((line) => `  | ${line}`).join('\n')}`
    : `${logFile} is empty`;
  return `Temporal dev server did not start on ${address}: ${reason}${cause}; ${quoted}`;
}

/** The Temporal CLI's words for a port it could not listen on (its own check, or a service's bind). */
export function portConflictLine(lines: string[]): string | undefined {
  return lines.find((line) => /address already in use|can't (set|use) .*port/i.test(line));
}

function firstErrorLine(lines: string[]): string | undefined {
  return lines.find((line) => /^(panic|fatal error|Error):|level=(ERROR|FATAL)/.test(line));
}

/** The non-empty lines of a log from byte `from` on (where this start's lines begin). */
export function logLinesFrom(file: string, from = 0): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file).subarray(from).toString('utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter(Boolean);
}

function searchAttributeArgs(): string[] {
  return CUSTOM_SEARCH_ATTRIBUTES.flatMap(({ name, type }) => ['--search-attribute', `${name}=${type}`]);
}

/**
 * The server settings latchkey runs with, as the cluster's deploy/temporal/dynamicconfig.yaml sets them: an
 * activity a workflow task schedules goes back to the worker with that task's answer when the worker has room
 * (eager dispatch), one matching round trip less before a grant starts.
 */
export const DYNAMIC_CONFIG = ['system.enableActivityEagerExecution=true'];

function dynamicConfigArgs(): string[] {
  return DYNAMIC_CONFIG.flatMap((setting) => ['--dynamic-config-value', setting]);
}

/**
 * Starts the real Temporal dev server (`temporal server start-dev`) with latchkey's custom search
 * attributes registered, and resolves once its frontend accepts connections. A start that fails
 * because a port is taken is retried (and says so); any other failure throws a DevServerStartError.
 */
export async function startDevServer(source: TemporalCliSource, options: DevServerOptions): Promise<RunningDevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const keepPort = options.port !== undefined;
  let port = options.port ?? (await chooseServerPort({ host: ip }));
  if (source.kind === 'sdk-download') return startThroughSdk(options, ip, port);

  if (options.dbFile) {
    const version = temporalServerVersion(source.path);
    if (version) checkDevDatabase(options.dbFile, version);
  }
  const attempts = options.startAttempts ?? MAX_START_ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnDevServer(source.path, { ...options, ip, port });
    } catch (error) {
      const conflict = error instanceof DevServerStartError ? error.portConflict : undefined;
      if (!conflict || attempt >= attempts) throw error;
      const retry = `(${conflict}); attempt ${attempt + 1} of ${attempts}`;
      port = await portAfterConflict({ ip, port, keepPort, log: options.log, retry });
    }
  }
}

/**
 * The port for the next attempt: the same one a moment later when the caller gave it (clients know
 * it; whatever held it is usually gone within a second), a newly chosen one otherwise.
 */
async function portAfterConflict(at: { ip: string; port: number; keepPort: boolean; log: Log; retry: string }) {
  if (at.keepPort) {
    at.log(`port conflict on ${at.ip}:${at.port}, retrying on the same port ${at.retry}`);
    await sleep(CONFLICT_RETRY_DELAY_MS);
    return at.port;
  }
  releaseServerPort(at.port);
  const next = await chooseServerPort({ host: at.ip, avoid: [at.port] });
  at.log(`port conflict on ${at.ip}:${at.port}, starting on port ${next} instead ${at.retry}`);
  return next;
}

function devServerArgs(options: DevServerOptions & { ip: string; port: number }): string[] {
  const args = ['server', 'start-dev', '--ip', options.ip, '--port', String(options.port), '--log-level', 'warn'];
  args.push('--namespace', options.namespace ?? 'default');
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (options.uiPort) {
    args.push('--ui-port', String(options.uiPort), '--ui-ip', options.ip);
    if (options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  } else {
    args.push('--headless');
  }
  for (const pragma of options.sqlitePragmas ?? []) args.push('--sqlite-pragma', pragma);
  return [...args, ...dynamicConfigArgs(), ...searchAttributeArgs()];
}

/** One attempt: spawn the CLI, wait until its frontend accepts connections or it exits. */
async function spawnDevServer(
  cliPath: string,
  options: DevServerOptions & { ip: string; port: number },
): Promise<RunningDevServer> {
  const { ip, port } = options;
  const address = `${ip}:${port}`;
  if (options.dbFile) fs.mkdirSync(path.dirname(options.dbFile), { recursive: true });
  const log = serverLogFile(options);
  const logStart = fileSize(log.file);
  const logFd = fs.openSync(log.file, 'a');
  const child: ChildProcess = spawn(cliPath, devServerArgs(options), { stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);

  let exitStatus: string | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      exitStatus = `it could not be run (${error.message})`;
      resolve();
    });
    child.once('exit', (code, signal) => {
      exitStatus = `the process exited (${signal ?? `code ${code}`})`;
      resolve();
    });
  });
  try {
    await waitForPort(ip, port, START_TIMEOUT_MS, () => exitStatus !== undefined);
  } catch (error) {
    const reason = exitStatus ?? (error as Error).message;
    child.kill('SIGKILL');
    await exit;
    throw new DevServerStartError(address, reason, log.file, logLinesFrom(log.file, logStart));
  }
  return {
    address,
    port,
    uiUrl: options.uiPort ? `http://${ip === '0.0.0.0' ? 'localhost' : ip}:${options.uiPort}` : undefined,
    pid: child.pid,
    async stop() {
      if (exitStatus === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exit;
        clearTimeout(timer);
      }
      log.removeIfTemporary();
    },
  };
}

/** Where the server writes: the given file, one beside the database, or a temporary one (kept if the start fails). */
function serverLogFile(options: DevServerOptions): { file: string; removeIfTemporary: () => void } {
  const given = options.logFile ?? (options.dbFile ? `${options.dbFile}.log` : undefined);
  if (given) return { file: given, removeIfTemporary: () => undefined };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-temporal-'));
  return {
    file: path.join(dir, 'temporal.log'),
    removeIfTemporary: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** Fallback where Go is missing but the internet is not: the SDK downloads and runs the same CLI. */
async function startThroughSdk(options: DevServerOptions, ip: string, port: number): Promise<RunningDevServer> {
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'cached-download' },
      ip,
      port,
      namespace: options.namespace ?? 'default',
      dbFilename: options.dbFile,
      ui: options.uiPort !== undefined,
      uiPort: options.uiPort,
      extraArgs: [
        '--log-level',
        'warn',
        ...(options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
        ...(options.sqlitePragmas ?? []).flatMap((pragma) => ['--sqlite-pragma', pragma]),
        ...dynamicConfigArgs(),
        ...searchAttributeArgs(),
      ],
    },
  });
  return {
    address: `${ip}:${port}`,
    port,
    uiUrl: options.uiPort ? `http://${ip}:${options.uiPort}` : undefined,
    stop: () => env.teardown(),
  };
}

export async function waitForPort(host: string, port: number, timeoutMs: number, gaveUp: () => boolean = () => false) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gaveUp()) throw new Error('the process exited');
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
