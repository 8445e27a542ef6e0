import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { createDataConverter, loadCodecKeyring } from '../codec';
import { repoRoot } from '../config/config';
import { DevServerStartError, type RunningDevServer, startDevServer } from '../devstack/dev-server';
import { canListen, chooseServerPort, chooseServerPorts, ephemeralPortRange } from '../devstack/ports';
import { ensureTemporalCli } from '../devstack/temporal-cli';
import type { BaselineInput } from './baseline-workflow';

/**
 * Restarts the real Temporal dev server N times on the same port and SQLite file, alternating SIGTERM
 * and SIGKILL, while real clients keep reconnecting to it as the chaos suite's do: a Temporal Worker
 * process polling a task queue (the bench's baseline worker, Rust core) and a Client here (grpc-js, as
 * the API) calling the frontend in a loop. After each start one workflow runs end to end, so "started"
 * means usable. Prints restarts, failed starts and each failure's cause (the server log's last lines
 * and the sockets on the port); exits 1 when a start failed. See docs/ci.md.
 */
const { values: flags } = parseArgs({
  options: {
    restarts: { type: 'string', default: '200' },
    /** `outside-ephemeral`: latchkey's port chooser; `os`: listen(0), as before issue 22; or a port number. */
    ports: { type: 'string', default: 'outside-ephemeral' },
    /** Attempts per start on a port conflict; 1 shows every conflict as a failed start. */
    attempts: { type: 'string' },
    /** Longest time the server stays down, while the clients reconnect. */
    'down-ms': { type: 'string', default: '2000' },
    /**
     * Instead of restarts: N first starts, each on new ports chosen as the bench stack chooses them
     * (the server's, the API's, the worker's metrics), checking the latter two are still free after.
     */
    'first-starts': { type: 'boolean', default: false },
    out: { type: 'string' },
    'keep-data': { type: 'boolean', default: false },
  },
});

const settings = {
  restarts: positiveInt('restarts'),
  ports: portChoice(flags.ports ?? 'outside-ephemeral'),
  attempts: flags.attempts === undefined ? undefined : positiveInt('attempts'),
  downMs: positiveInt('down-ms', 0),
};

function portChoice(value: string): 'os' | 'outside-ephemeral' | number {
  if (value === 'os' || value === 'outside-ephemeral') return value;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error('--ports: os, outside-ephemeral or a port');
  return port;
}

function positiveInt(name: 'restarts' | 'attempts' | 'down-ms', min = 1): number {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}`);
  return value;
}

const TASK_QUEUE = 'latchkey-restart-loop';
const CODEC_KEY_ID = 'restart-loop';
const ROUND_TRIP_TIMEOUT_MS = 60_000;
/** Consecutive failed starts after which the loop stops: the server is not coming back. */
const GIVE_UP_AFTER = 5;

const log = (message: string) =>
  process.stderr.write(`[restart-loop] ${new Date().toISOString().slice(11, 19)} ${message}\n`);

interface FailedStart {
  restart: number;
  signal: string;
  message: string;
  portConflict?: string;
  socketsOnPort: string[];
  /** A socket connected from the port to the same port: a client that connected to itself. */
  selfConnected: boolean;
}

/** The port choice before issue 22: whatever `listen(0)` gets, i.e. inside the ephemeral range. */
function osAssignedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function isSelfConnection(ssLine: string, port: number): boolean {
  return ssLine.split(/\s+/).filter((field) => field.endsWith(`:${port}`)).length >= 2;
}

function portFor(choice: typeof settings.ports): Promise<number> {
  if (choice === 'os') return osAssignedPort();
  if (choice === 'outside-ephemeral') return chooseServerPort();
  return Promise.resolve(choice);
}

/** Every TCP socket on the port with its owner (`ss -tanp`): a self-connected client shows as port → same port. */
function socketsOn(port: number): string[] {
  try {
    const out = execFileSync('ss', ['-tanp'], { encoding: 'utf8' });
    return out.split('\n').filter((line) => line.includes(`:${port} `));
  } catch {
    return ['(ss is not available)'];
  }
}

/** The baseline worker as a process of its own, restarted if it dies (counted). */
class WorkerProcess {
  private child?: ChildProcess;
  deaths = 0;
  private stopping = false;

  constructor(
    private readonly args: string[],
    private readonly logFile: string,
  ) {}

  start(): void {
    const fd = fs.openSync(this.logFile, 'a');
    const script = path.join(repoRoot(), 'dist', 'bench', 'baseline-worker.js');
    this.child = spawn(process.execPath, [script, ...this.args], { stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    this.child.once('exit', () => {
      if (this.stopping) return;
      this.deaths++;
      log(`the worker exited by itself; restarting it (see ${this.logFile})`);
      this.start();
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

/** A client calling the frontend in a loop, as the API does; its calls fail while the server is down. */
function callInLoop(connection: Connection, counts: { ok: number; failed: number }, running: () => boolean) {
  return (async () => {
    while (running()) {
      try {
        await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({}));
        counts.ok++;
      } catch {
        counts.failed++;
      }
      await sleep(100);
    }
  })();
}

/** One short workflow end to end: the server answers and the worker has reconnected. */
async function roundTrip(client: Client, id: string): Promise<void> {
  const input: BaselineInput = { activities: 1, timers: 1, holdMs: 1, waitForUpdate: false, activitiesBeforeAnswer: 0 };
  const handle = await client.workflow.start('baselineWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: id,
    args: [input],
  });
  await client.connection.withDeadline(Date.now() + ROUND_TRIP_TIMEOUT_MS, () => handle.result());
}

async function main(): Promise<number> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-restart-loop-'));
  try {
    return await (flags['first-starts'] ? firstStarts(dataDir) : loop(dataDir));
  } catch (error) {
    log(`data folder kept: ${dataDir}`);
    throw error;
  }
}

async function loop(dataDir: string): Promise<number> {
  const cli = await ensureTemporalCli(log);
  const port = await portFor(settings.ports);
  const { low, high } = ephemeralPortRange();
  log(`settings: ${JSON.stringify(settings)}; port ${port} (ephemeral range ${low}-${high}); data folder ${dataDir}`);

  const conflicts = { retried: 0 };
  const serverOptions = {
    port,
    dbFile: path.join(dataDir, 'temporal.db'),
    logFile: path.join(dataDir, 'temporal.log'),
    sqlitePragmas: ['journal_mode=WAL'],
    startAttempts: settings.attempts,
    log: (message: string) => {
      if (message.startsWith('port conflict')) conflicts.retried++;
      log(message);
    },
  };
  let server: RunningDevServer = await startDevServer(cli, serverOptions);
  const clients = await startClients(dataDir, server.address);
  const failures: FailedStart[] = [];
  const started = Date.now();
  let restarts = 0;
  try {
    await roundTrip(clients.client, 'restart-loop-0');
    for (let restart = 1; restart <= settings.restarts; restart++) {
      const signal = restart % 2 === 1 ? 'SIGTERM' : 'SIGKILL';
      if (signal === 'SIGKILL' && server.pid) process.kill(server.pid, 'SIGKILL');
      await server.stop();
      // Down for a while, as in the chaos suite: the clients keep reconnecting meanwhile.
      await sleep(Math.floor(Math.random() * settings.downMs));
      server = await startAgain(cli, serverOptions, restart, signal, failures);
      await roundTrip(clients.client, `restart-loop-${restart}`);
      restarts = restart;
      if (restart % 10 === 0) {
        log(`${restart} restarts, ${failures.length} failed starts, ${conflicts.retried} port conflicts retried`);
      }
    }
  } finally {
    await clients.stop();
    await server.stop();
  }

  const report: Report = {
    kind: 'latchkey-restart-loop',
    finishedAt: new Date().toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
    settings,
    port,
    ephemeralRange: { low, high },
    restarts,
    failedStarts: failures.length,
    portConflictsRetried: conflicts.retried,
    workerDeaths: clients.worker.deaths,
    clientCalls: clients.calls,
    failures,
  };
  const out = flags.out ?? path.join(repoRoot(), '.bench', `restart-loop-${Date.now()}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  printSummary(report, out);

  const failed = failures.length > 0;
  if (failed || flags['keep-data']) log(`data folder kept: ${dataDir}`);
  else fs.rmSync(dataDir, { recursive: true, force: true });
  return failed ? 1 : 0;
}

interface Report {
  kind: 'latchkey-restart-loop';
  finishedAt: string;
  seconds: number;
  settings: typeof settings;
  port: number;
  ephemeralRange: { low: number; high: number };
  restarts: number;
  failedStarts: number;
  portConflictsRetried: number;
  workerDeaths: number;
  clientCalls: { ok: number; failed: number };
  failures: FailedStart[];
}

/** The clients that reconnect while the server is down: the worker process and a calling client. */
async function startClients(dataDir: string, address: string) {
  const codecKeyFile = path.join(dataDir, 'codec-key.json');
  const keyring = await loadCodecKeyring({ keyFile: codecKeyFile, keyId: CODEC_KEY_ID, decodeKeys: [] });
  const worker = new WorkerProcess(
    [
      ...['--address', address, '--task-queue', TASK_QUEUE],
      ...['--codec-key-file', codecKeyFile, '--codec-key-id', CODEC_KEY_ID],
    ],
    path.join(dataDir, 'worker.log'),
  );
  worker.start();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, dataConverter: createDataConverter(keyring) });
  let running = true;
  const calls = { ok: 0, failed: 0 };
  const caller = callInLoop(connection, calls, () => running);
  return {
    client,
    worker,
    calls,
    async stop() {
      running = false;
      await caller;
      await worker.stop();
      await connection.close();
    },
  };
}

/**
 * N first starts, as `npm test`, bench, chaos and hostile make them: ports for the server, the API and
 * the worker's metrics are chosen, then the server starts. Ports from `listen(0)` are free and unheld
 * until their servers listen, while the dev server takes ports for its own services with `bind(0)`
 * from the same range; a start fails when it took its own frontend port, and a companion port it
 * took would fail the API or the worker a moment later.
 */
async function firstStarts(dataDir: string): Promise<number> {
  const cli = await ensureTemporalCli(log);
  const { low, high } = ephemeralPortRange();
  log(`first starts: ${JSON.stringify(settings)}; ephemeral range ${low}-${high}; data folder ${dataDir}`);
  const failures: string[] = [];
  let conflictsRetried = 0;
  const started = Date.now();
  for (let start = 1; start <= settings.restarts; start++) {
    const [port, apiPort, metricsPort] = await portsFor(settings.ports);
    try {
      const server = await startDevServer(cli, {
        port,
        logFile: path.join(dataDir, 'temporal.log'),
        startAttempts: settings.attempts,
        log: (message) => {
          if (message.startsWith('port conflict')) conflictsRetried++;
          log(message);
        },
      });
      for (const [name, companion] of [
        ['API', apiPort],
        ['worker metrics', metricsPort],
      ] as const) {
        if (!(await canListen('127.0.0.1', companion)))
          failures.push(`start ${start}: the ${name} port ${companion} was taken`);
      }
      await server.stop();
    } catch (error) {
      if (!(error instanceof DevServerStartError)) throw error;
      failures.push(`start ${start}: ${error.portConflict ?? error.message.split('\n')[0]}`);
      log(`start ${start}: FAILED START\n${error.message}`);
    }
    if (start % 10 === 0)
      log(`${start} first starts, ${failures.length} failures, ${conflictsRetried} port conflicts retried`);
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  const summary = [
    `first starts: ${settings.restarts}, failures: ${failures.length}, port conflicts retried: ${conflictsRetried} (${seconds} s)`,
    ...failures.map((failure) => `  ${failure}`),
  ];
  process.stdout.write(summary.join('\n') + '\n');
  if (failures.length || flags['keep-data']) log(`data folder kept: ${dataDir}`);
  else fs.rmSync(dataDir, { recursive: true, force: true });
  return failures.length ? 1 : 0;
}

async function portsFor(choice: typeof settings.ports): Promise<number[]> {
  if (choice === 'outside-ephemeral') return chooseServerPorts(3);
  return [await portFor(choice), await osAssignedPort(), await osAssignedPort()];
}

/** Starts the server again on its port; a failed start is recorded with its evidence and tried again. */
async function startAgain(
  cli: Awaited<ReturnType<typeof ensureTemporalCli>>,
  options: Parameters<typeof startDevServer>[1] & { port: number },
  restart: number,
  signal: string,
  failures: FailedStart[],
): Promise<RunningDevServer> {
  for (let consecutive = 1; ; consecutive++) {
    try {
      return await startDevServer(cli, options);
    } catch (error) {
      if (!(error instanceof DevServerStartError)) throw error;
      const socketsOnPort = socketsOn(options.port);
      const selfConnected = socketsOnPort.some((line) => isSelfConnection(line, options.port));
      failures.push({
        restart,
        signal,
        message: error.message,
        portConflict: error.portConflict,
        socketsOnPort,
        selfConnected,
      });
      log(
        `restart ${restart} (${signal}): FAILED START\n${error.message}\nsockets on :${options.port}:\n${socketsOnPort.join('\n')}`,
      );
      if (consecutive >= GIVE_UP_AFTER) throw error;
      await sleep(1_000);
    }
  }
}

function printSummary(report: Report, out: string): void {
  const lines = [
    `restarts: ${report.restarts}, failed starts: ${report.failedStarts}, ` +
      `port conflicts retried: ${report.portConflictsRetried} (${report.seconds} s)`,
    ...report.failures.map(
      (failure) =>
        `  restart ${failure.restart} (${failure.signal}): ${failure.portConflict ?? failure.message.split('\n')[0]}` +
        (failure.selfConnected ? ' [a client is connected to itself on the port]' : ''),
    ),
    `report: ${out}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `[restart-loop] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(2);
  },
);
