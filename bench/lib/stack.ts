import { loadCommandSigningKey, trustCommandKey } from '../../trust/command-keys';
import { CommandSigner } from '../../trust/command-signer';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { createDataConverter, loadCodecKeyring, loadOrCreateCodecKey } from '../../codec';
import { type LatchkeyConfig, loadConfig, repoRoot } from '../../config/config';
import { temporalConnectionOptions } from '../../config/temporal-connection';
import { loadDevelopmentSettings } from '../../config/development';
import { TASK_QUEUE } from '../../contracts/task-queue';
import { type RunningDevServer, startDevServer, waitForPort } from '../../devstack/dev-server';
import { chooseServerPorts } from '../../devstack/ports';
import { hostEnv, startTemporalCluster, type RunningTemporalCluster } from '../../devstack/temporal-cluster';
import { ensureTemporalCli, type TemporalCliSource } from '../../devstack/temporal-cli';
import {
  loadOrCreateLocalSigningKey,
  type LocalSigningKey,
  mintLocalToken,
} from '../../apps/api/identity/local-signing-key';
import { LocalOnePassword } from '../../onepassword/local/local-onepassword';
import { workerProcessEnv } from '../../apps/worker/process-env';
import { processCpuSeconds, processCpuSecondsByThread, type ThreadKind } from './machine';

export type Log = (message: string) => void;

const READY_PROBE = { sub: 'bench-ready-probe', email: 'probe@example.com', groups: ['engineering'], roles: [] };

export const BENCH_POLICY_FILE = path.join(repoRoot(), 'bench', 'bench-policy.yaml');

/** Pragmas that make the dev server's SQLite fast: fine for a benchmark, not for data you keep. */
export const FAST_SQLITE_PRAGMAS = ['journal_mode=WAL', 'synchronous=OFF'];

export interface StackOptions {
  log: Log;
  /** Added to every local 1Password call (simulates the network to 1Password). */
  opLatencyMs?: number;
  sqlitePragmas?: string[];
  policyFile?: string;
  /** Start a worker for the do-nothing baseline workflow on its own task queue. */
  baselineWorker?: boolean;
  /** Keep the data folder after stop (for a post-mortem). */
  keepData?: boolean;
  /** LATCHKEY_ONEPASSWORD_CHECK for the workers (the chaos run revokes the token for seconds on purpose). */
  onePasswordCheck?: 'refuse' | 'warn';
  /**
   * The API's rate limits per minute (LATCHKEY_API_RATE_LIMIT_*). Off unless given: a benchmark drives
   * hundreds of requests a second as a handful of personas, and measures the API, not the limiter.
   */
  apiRateLimit?: 'off' | { perMinute: number; anonymousPerMinute: number; probesPerMinute: number };
  /**
   * The production shape (devstack/temporal-cluster.ts): the Temporal server on PostgreSQL with mTLS instead
   * of the dev server, and two workers and two API instances, each with a data folder of its own as if on a
   * host of its own. Only what a deployment shares is shared: the keys and 1Password (the local one's file).
   */
  cluster?: boolean;
  /** A folder where every Node process of the stack writes a V8 CPU profile when it exits (`--cpu-prof`). */
  cpuProfileDir?: string;
}

interface ManagedChild {
  name: string;
  script: string;
  args: string[];
  /** This process's own settings, over the stack's. */
  env: NodeJS.ProcessEnv;
  process?: ChildProcess;
  exited?: Promise<void>;
  logFile: string;
}

function rateLimitEnv(limits: StackOptions['apiRateLimit']): NodeJS.ProcessEnv {
  if (!limits || limits === 'off') return { LATCHKEY_API_RATE_LIMIT_PER_MINUTE: 'off' };
  return {
    LATCHKEY_API_RATE_LIMIT_PER_MINUTE: String(limits.perMinute),
    LATCHKEY_API_RATE_LIMIT_ANONYMOUS_PER_MINUTE: String(limits.anonymousPerMinute),
    LATCHKEY_API_RATE_LIMIT_PROBES_PER_MINUTE: String(limits.probesPerMinute),
  };
}

/**
 * latchkey's whole stack, booted for a benchmark or a fault run in a temporary data folder on free
 * ports: the real Temporal dev server (SQLite file) or a production-shaped cluster, the worker and API
 * processes and the local 1Password. Settings reach the child processes only through the environment
 * variables that config/config.ts reads, exactly as in production.
 */
export class Stack {
  readonly dataDir: string;
  readonly dbFile: string;
  readonly baselineTaskQueue = 'latchkey-bench-baseline';
  config!: LatchkeyConfig;
  private env: NodeJS.ProcessEnv = {};
  private cli?: TemporalCliSource;
  private server?: RunningDevServer;
  private cluster?: RunningTemporalCluster;
  private temporalPort = 0;
  /** The worker and API processes by name: one of each, or two of each in the cluster shape. */
  readonly workers: string[];
  readonly apis: string[];
  private readonly apiPorts = new Map<string, number>();
  private readonly children = new Map<string, ManagedChild>();
  private connection?: Connection;
  private clientInstance?: Client;
  private signingKey?: LocalSigningKey;
  /** Signs commands as the stack's API does, for benchmarks that talk to Temporal directly. */
  commandSigner!: CommandSigner;
  private onePasswordInstance?: LocalOnePassword;

  constructor(private readonly options: StackOptions) {
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-bench-'));
    this.dbFile = path.join(this.dataDir, 'temporal.db');
    this.workers = options.cluster ? ['worker-1', 'worker-2'] : ['worker'];
    this.apis = options.cluster ? ['api-1', 'api-2'] : ['api'];
  }

  get log(): Log {
    return this.options.log;
  }

  get apiUrl(): string {
    return this.apiUrls[0];
  }

  /** Every API instance's address. */
  get apiUrls(): string[] {
    return this.apis.map((name) => `http://127.0.0.1:${this.apiPorts.get(name)}`);
  }

  get temporalAddress(): string {
    return this.cluster?.address ?? `127.0.0.1:${this.temporalPort}`;
  }

  get client(): Client {
    if (!this.clientInstance) throw new Error('the stack is not started');
    return this.clientInstance;
  }

  get onePassword(): LocalOnePassword {
    if (!this.onePasswordInstance) throw new Error('the stack is not started');
    return this.onePasswordInstance;
  }

  get key(): LocalSigningKey {
    if (!this.signingKey) throw new Error('the stack is not started');
    return this.signingKey;
  }

  async start(): Promise<void> {
    const ports = await chooseServerPorts(this.apis.length + this.workers.length);
    this.apis.forEach((name, i) => this.apiPorts.set(name, ports[i]));
    const metricsPorts = ports.slice(this.apis.length);
    // The server first: its port is chosen on its first start (another one if that one is taken).
    if (this.options.cluster) {
      this.cluster = await startTemporalCluster({
        dir: path.join(this.dataDir, 'cluster'),
        letThrough: this.dataDir,
        log: this.log,
      });
    } else {
      this.cli = await ensureTemporalCli(this.log);
      await this.startServer();
    }
    this.env = {
      ...loadDevelopmentSettings().childEnv,
      LATCHKEY_DATA_DIR: this.dataDir,
      LATCHKEY_POLICY_FILE: this.options.policyFile ?? BENCH_POLICY_FILE,
      TEMPORAL_ADDRESS: this.temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      LATCHKEY_TASK_QUEUE: TASK_QUEUE,
      LATCHKEY_API_HOST: '127.0.0.1',
      LATCHKEY_API_PORT: String(ports[0]),
      LATCHKEY_LOCAL_1PASSWORD_FILE: path.join(this.dataDir, 'local-1password.json'),
      LATCHKEY_WORKER_METRICS_PORT: String(metricsPorts[0]),
      LATCHKEY_LOG_LEVEL: 'warn',
      LATCHKEY_ONEPASSWORD_CHECK: this.options.onePasswordCheck ?? 'refuse',
      ...rateLimitEnv(this.options.apiRateLimit),
      // The stack's own client (the operator's, in the chaos run) presents the admin certificate.
      ...this.cluster?.clientEnv('admin'),
    };
    this.config = loadConfig(this.env);

    // Keys every process shares are made here once, before the processes race to create them.
    const keyring = await loadCodecKeyring(this.config.codec);
    if (this.config.auth.mode !== 'local') throw new Error('the bench stack uses local tokens');
    this.signingKey = await loadOrCreateLocalSigningKey(this.config.auth.signingKeyFile);
    const commandKey = loadCommandSigningKey(this.config.commands.signingKeyFile, { create: true });
    trustCommandKey(this.config.commands.trustedKeysFile, commandKey);
    await loadOrCreateCodecKey(this.config.worker.internalKeyFile, 'internal');
    this.commandSigner = new CommandSigner(commandKey);

    // A fresh local 1Password with the demo seed, and the requested latency.
    this.onePasswordInstance = new LocalOnePassword({ stateFile: this.config.localOnePassword.stateFile });
    await this.onePasswordInstance.reset();
    if (this.options.opLatencyMs) await this.onePassword.setFaults({ latencyMs: this.options.opLatencyMs });

    this.connection = await Connection.connect(temporalConnectionOptions(this.config.temporal));
    this.clientInstance = new Client({
      connection: this.connection,
      namespace: 'default',
      dataConverter: createDataConverter(keyring),
    });

    const dist = path.join(repoRoot(), 'dist');
    // As the worker image does (Dockerfile): the workflow code bundled once, ahead of the workers, which then
    // start without webpack, and run the same bundle after every restart.
    const workflowBundle = path.join(this.dataDir, 'workflow-bundle.js');
    execFileSync(process.execPath, [path.join(dist, 'apps', 'worker', 'bundle.js'), workflowBundle], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 120_000,
    });
    this.workers.forEach((name, i) => {
      const env = {
        ...workerProcessEnv(loadDevelopmentSettings().childEnv),
        LATCHKEY_WORKER_METRICS_PORT: String(metricsPorts[i]),
        LATCHKEY_WORKFLOW_BUNDLE: workflowBundle,
        ...this.hostEnv(name, 'worker'),
      };
      this.children.set(name, this.child(name, path.join(dist, 'apps', 'worker', 'main.js'), [], env));
    });
    for (const name of this.apis) {
      const env = { LATCHKEY_API_PORT: String(this.apiPorts.get(name)), ...this.hostEnv(name, 'api') };
      this.children.set(name, this.child(name, path.join(dist, 'apps', 'api', 'main.js'), [], env));
    }
    if (this.options.baselineWorker) {
      this.children.set(
        'baseline',
        this.child(
          'baseline',
          path.join(dist, 'bench', 'baseline-worker.js'),
          ['--task-queue', this.baselineTaskQueue],
          { ...workerProcessEnv(loadDevelopmentSettings().childEnv), ...this.cluster?.clientEnv('worker') },
        ),
      );
    }
    for (const name of this.children.keys()) this.startChild(name);
    await this.waitReady();
  }

  /** A process's own settings: in the cluster, those of a host of its own (devstack/temporal-cluster.ts). */
  private hostEnv(name: string, party: 'worker' | 'api'): NodeJS.ProcessEnv {
    return this.cluster ? hostEnv(this.cluster, this.config, { name, party }) : {};
  }

  private child(name: string, script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): ManagedChild {
    return { name, script, args, env, logFile: path.join(this.dataDir, `${name}.log`) };
  }

  private async startServer(): Promise<void> {
    if (!this.cli) throw new Error('no Temporal CLI');
    this.server = await startDevServer(this.cli, {
      // Kept across restarts: the worker and the API know it.
      port: this.temporalPort || undefined,
      dbFile: this.dbFile,
      sqlitePragmas: this.options.sqlitePragmas ?? FAST_SQLITE_PRAGMAS,
      logFile: path.join(this.dataDir, 'temporal.log'),
      log: this.log,
    });
    this.temporalPort = this.server.port;
  }

  /** Starts (or restarts) a child process by name; its output goes to a log file in the data folder. */
  startChild(name: string): void {
    const child = this.children.get(name);
    if (!child) throw new Error(`no child ${name}`);
    const fd = fs.openSync(child.logFile, 'a');
    // A folder per child, and Node's own file names in it: each thread writes a profile of its own (the worker's
    // workflow thread inherits the flags; with one file name for the process, its profile was overwritten).
    const profiling = this.options.cpuProfileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${path.join(this.options.cpuProfileDir, name)}`]
      : [];
    const proc = spawn(process.execPath, [...profiling, child.script, ...child.args], {
      stdio: ['ignore', fd, fd],
      env: { ...this.env, ...child.env },
    });
    fs.closeSync(fd);
    child.process = proc;
    child.exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  }

  pid(name: string): number | undefined {
    return this.children.get(name)?.process?.pid;
  }

  isRunning(name: string): boolean {
    const proc = this.children.get(name)?.process;
    return !!proc && proc.exitCode === null && proc.signalCode === null;
  }

  get serverPid(): number | undefined {
    return this.cluster ? this.cluster.serverPid() : this.server?.pid;
  }

  /** Kills a child with a signal and waits until it is gone. */
  async killChild(name: string, signal: NodeJS.Signals): Promise<void> {
    const child = this.children.get(name);
    const proc = child?.process;
    if (!child || !proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    await child.exited;
    clearTimeout(timer);
  }

  /** Stops the Temporal server and starts it again on the same port with the same database. */
  async restartServer(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    if (this.cluster) return this.cluster.restartServer(signal);
    if (signal === 'SIGKILL' && this.server?.pid) process.kill(this.server.pid, 'SIGKILL');
    await this.server?.stop();
    await this.startServer();
  }

  /** The cluster's PostgreSQL, stopped, left down for `downMs`, and started again on the same port and data. */
  async restartPostgres(downMs = 0): Promise<void> {
    if (!this.cluster) throw new Error('only the cluster shape runs on PostgreSQL');
    await this.cluster.restartPostgres(downMs);
  }

  /** Waits until the APIs are ready and the workers poll their task queues. */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const [i, name] of this.apis.entries()) {
      const port = this.apiPorts.get(name) ?? 0;
      await waitForPort('127.0.0.1', port, timeoutMs, () => this.exitedEarly(name));
      for (;;) {
        try {
          const res = await fetch(`${this.apiUrls[i]}/readyz`);
          if (res.ok) break;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`the API did not become ready; see ${this.logOf(name)}`);
        await sleep(250);
      }
    }
    await this.waitForPollers(TASK_QUEUE, deadline, this.workers);
    if (this.options.baselineWorker) await this.waitForPollers(this.baselineTaskQueue, deadline, ['baseline']);
    // The API answers requests only once the worker's catalog workflow has discovered 1Password.
    const token = await mintLocalToken(this.key, this.config.auth.issuer, this.config.auth.audience, READY_PROBE, 300);
    for (;;) {
      try {
        const res = await fetch(`${this.apiUrl}/v1/resources`, { headers: { authorization: `Bearer ${token}` } });
        if (res.ok) return;
      } catch {
        // restarting
      }
      if (Date.now() > deadline)
        throw new Error(`the resource catalog did not become available; see ${this.logOf(this.workers[0])}`);
      await sleep(250);
    }
  }

  /** Waits until as many pollers as `names` poll the task queue (the server remembers a gone one for a while). */
  async waitForPollers(taskQueue: string, deadline: number, names: string[]): Promise<void> {
    for (;;) {
      const exited = names.find((name) => this.exitedEarly(name));
      if (exited) throw new Error(`the ${exited} exited; see ${this.logOf(exited)}`);
      try {
        const answer = await this.client.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: taskQueue },
          taskQueueType: 1, // workflow
        });
        if ((answer.pollers?.length ?? 0) >= names.length) return;
      } catch {
        // the server may be restarting
      }
      if (Date.now() > deadline)
        throw new Error(`fewer than ${names.length} pollers on "${taskQueue}"; see ${this.logOf(names[0])}`);
      await sleep(250);
    }
  }

  private exitedEarly(name: string): boolean {
    const proc = this.children.get(name)?.process;
    return !!proc && (proc.exitCode !== null || proc.signalCode !== null);
  }

  logOf(name: string): string {
    return this.children.get(name)?.logFile ?? path.join(this.dataDir, `${name}.log`);
  }

  /** Resident memory of a process in bytes, from /proc (Linux). */
  rssOf(pid: number | undefined): number | undefined {
    if (!pid) return undefined;
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
      return match ? Number(match[1]) * 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  /** CPU time a process has used so far, in seconds: see `processCpuSeconds`. */
  cpuSecondsOf(pid: number | undefined): number | undefined {
    return pid ? processCpuSeconds(pid) : undefined;
  }

  /** The same by kind of thread: see `processCpuSecondsByThread`. */
  cpuSecondsByThreadOf(pid: number | undefined): Record<ThreadKind, number> | undefined {
    return pid ? processCpuSecondsByThread(pid) : undefined;
  }

  /** The SQLite database with its WAL and shared-memory files. */
  dbBytes(): number {
    if (this.cluster) return directoryBytes(path.join(this.dataDir, 'cluster', 'postgres', 'pgdata'));
    let total = 0;
    for (const suffix of ['', '-wal', '-shm']) {
      try {
        total += fs.statSync(this.dbFile + suffix).size;
      } catch {
        // absent
      }
    }
    return total;
  }

  /** Stops everything. The data folder stays, and the log says where, with --keep-data or after a failed run. */
  async stop(runFailed = false): Promise<void> {
    for (const name of [...this.apis, ...this.workers, 'baseline']) await this.killChild(name, 'SIGTERM');
    await this.connection?.close().catch(() => undefined);
    await this.server?.stop();
    await this.cluster?.stop();
    if (this.options.keepData || runFailed) {
      this.log(`data folder kept: ${this.dataDir} (the servers' and every process's log)`);
    } else {
      fs.rmSync(this.dataDir, { recursive: true, force: true });
    }
  }
}

/** The bytes of the files under a directory. */
function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

/**
 * Runs `main`, stopping the stack on Ctrl-C and on the way out; the exit code is main's. A run that
 * does not end with 0 keeps its data folder: its logs are the only record of what went wrong.
 */
export function runMain(name: string, main: (onStop: (stack: Stack) => void) => Promise<number>): void {
  let current: Stack | undefined;
  const stopAndExit = (code: number) => {
    const stopping = current ? current.stop(code !== 0).catch(() => undefined) : Promise.resolve();
    void stopping.then(() => process.exit(code));
  };
  process.on('SIGINT', () => stopAndExit(130));
  process.on('SIGTERM', () => stopAndExit(143));
  main((stack) => {
    current = stack;
  }).then(
    (code) => stopAndExit(code),
    (error: unknown) => {
      process.stderr.write(
        `[${name}] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      stopAndExit(2);
    },
  );
}
