import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../contracts/search-attributes';
import type { Log } from './cache';
import type { TemporalCliSource } from './temporal-cli';

export interface DevServerOptions {
  /** SQLite file for durable state; omit for an in-memory server (tests). */
  dbFile?: string;
  ip?: string;
  port: number;
  /** Web UI port; omit for a headless server. */
  uiPort?: number;
  /** Remote codec endpoint the Web UI calls to decode encrypted payloads. */
  uiCodecEndpoint?: string;
  namespace?: string;
  /** Extra SQLite pragmas, e.g. `synchronous=OFF` for benchmarks. */
  sqlitePragmas?: string[];
  /** Server log lines go here (default: a file beside the database, or discarded). */
  logFile?: string;
  log: Log;
}

export interface RunningDevServer {
  address: string;
  uiUrl?: string;
  /** The OS process, when latchkey spawned it (not when the SDK manages it). */
  pid?: number;
  stop(): Promise<void>;
}

function searchAttributeArgs(): string[] {
  return CUSTOM_SEARCH_ATTRIBUTES.flatMap(({ name, type }) => ['--search-attribute', `${name}=${type}`]);
}

/**
 * Starts the real Temporal dev server (`temporal server start-dev`) with latchkey's custom search
 * attributes registered, and resolves once its frontend accepts connections.
 */
export async function startDevServer(source: TemporalCliSource, options: DevServerOptions): Promise<RunningDevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const address = `${ip}:${options.port}`;
  if (source.kind === 'sdk-download') return startThroughSdk(options, ip, address);

  const args = ['server', 'start-dev', '--ip', ip, '--port', String(options.port), '--log-level', 'warn'];
  args.push('--namespace', options.namespace ?? 'default');
  if (options.dbFile) {
    fs.mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  if (options.uiPort) {
    args.push('--ui-port', String(options.uiPort), '--ui-ip', ip);
    if (options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  } else {
    args.push('--headless');
  }
  for (const pragma of options.sqlitePragmas ?? []) args.push('--sqlite-pragma', pragma);
  args.push(...searchAttributeArgs());

  const logFile = options.logFile ?? (options.dbFile ? `${options.dbFile}.log` : undefined);
  const logFd = logFile ? fs.openSync(logFile, 'a') : 'ignore';
  const child: ChildProcess = spawn(source.path, args, { stdio: ['ignore', logFd, logFd], detached: false });
  if (typeof logFd === 'number') fs.closeSync(logFd);

  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  try {
    await waitForPort(ip, options.port, 60_000, () => exited);
  } catch (error) {
    child.kill('SIGKILL');
    const hint = logFile ? ` (see ${logFile})` : '';
    throw new Error(`Temporal dev server did not start on ${address}${hint}: ${(error as Error).message}`);
  }
  return {
    address,
    uiUrl: options.uiPort ? `http://${ip === '0.0.0.0' ? 'localhost' : ip}:${options.uiPort}` : undefined,
    pid: child.pid,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** Fallback where Go is missing but the internet is not: the SDK downloads and runs the same CLI. */
async function startThroughSdk(options: DevServerOptions, ip: string, address: string): Promise<RunningDevServer> {
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'cached-download' },
      ip,
      port: options.port,
      namespace: options.namespace ?? 'default',
      dbFilename: options.dbFile,
      ui: options.uiPort !== undefined,
      uiPort: options.uiPort,
      extraArgs: [
        '--log-level',
        'warn',
        ...(options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
        ...(options.sqlitePragmas ?? []).flatMap((pragma) => ['--sqlite-pragma', pragma]),
        ...searchAttributeArgs(),
      ],
    },
  });
  return {
    address,
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

/** Asks the OS for a free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
