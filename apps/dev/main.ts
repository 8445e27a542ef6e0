import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadConfig, type LatchkeyConfig } from '../../config/config';
import { temporalConnectionOptions } from '../../config/temporal-connection';
import { loadDevelopmentSettings, MAIL_CATCHER_DEFAULT_PORTS } from '../../config/development';
import { CATALOG_WORKFLOW_ID, catalogQuery } from '../../contracts/catalog';
import { stderrLog } from '../../devstack/cache';
import { startDevServer, waitForPort } from '../../devstack/dev-server';
import { hostEnv, startTemporalCluster } from '../../devstack/temporal-cluster';
import { preferredOrFreePort, startMailCatcher, type RunningMailCatcher } from '../../devstack/mail-catcher';
import { DEMO_DATABASE, seedDemoDatabase, startPostgres } from '../../devstack/postgres';
import { LocalOnePassword } from '../../onepassword/local/local-onepassword';
import { addMissingSeed } from '../../onepassword/local/state';
import { ensureTemporalCli } from '../../devstack/temporal-cli';
import { createDataConverter, loadCodecKeyring, loadOrCreateCodecKey } from '../../codec';
import { loadOrCreateLocalSigningKey } from '../api/identity/local-signing-key';
import { loadCommandSigningKey, trustCommandKey } from '../../trust/command-keys';
import { workerProcessEnv } from '../worker/process-env';

/**
 * `npm start`: the whole system on one machine, on its embedded defaults. The Temporal dev server
 * (state in data/temporal.db, Web UI), the worker (with the local 1Password) and the API, each a
 * process of its own as in production, and a mail catcher in this one; Ctrl-C stops them all.
 *
 * `npm run cluster` (--cluster): the same system in its production shape. A Temporal server on PostgreSQL
 * with mTLS (state in data/cluster, devstack/temporal-cluster.ts) instead of the dev server, and two workers
 * and two API instances, each as on a host of its own. Keys, the local 1Password and the demo database are
 * the same as `npm start`'s; run one or the other.
 */
async function main(): Promise<void> {
  const { values: flags } = parseArgs({ options: { cluster: { type: 'boolean', default: false } } });
  const config = loadConfig();
  const log = (message: string) => process.stdout.write(`[latchkey] ${message}\n`);

  // Keys every process shares are made once here, before the processes race to create them.
  await loadCodecKeyring(config.codec);
  if (config.auth.mode === 'local')
    await loadOrCreateLocalSigningKey(config.auth.signingKeyFile, config.auth.publicKeyFile);
  // The API signs commands with this key; the worker trusts its public half (a deployment provides both).
  trustCommandKey(
    config.commands.trustedKeysFile,
    loadCommandSigningKey(config.commands.signingKeyFile, { create: true }),
  );
  await loadOrCreateCodecKey(config.worker.internalKeyFile, 'internal');

  // In this process: a failed start below ends it, and the catcher with it.
  const mailCatcher = await startMailCatcherUnlessMailGoesElsewhere(config, log);
  const database = await startDemoDatabase(config, log);
  // A start that fails here leaves no server behind.
  const temporal = await (flags.cluster ? startCluster(config, log) : startDevServerFor(config, log)).catch(
    async (error: unknown) => {
      await database.server.stop();
      throw error;
    },
  );

  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('stopping…');
    await Promise.all(children.map((child) => stopChild(child)));
    await Promise.all([temporal.stop(), database.server.stop(), mailCatcher?.stop()]);
    log('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  const dist = path.resolve(__dirname, '..');
  const workerEnv = {
    ...workerProcessEnv(loadDevelopmentSettings().childEnv),
    // The demo policy's target demo-db reads its admin URL from here: only the worker holds it.
    [DEMO_DATABASE_ADMIN_VARIABLE]: database.demoAdminUrl,
    // The worker sends the notifications.
    ...(mailCatcher && {
      LATCHKEY_NOTIFY_SMTP_URL: mailCatcher.smtpUrl,
      LATCHKEY_NOTIFY_EMAIL_FROM: 'latchkey <latchkey@localhost>',
    }),
  };
  for (const host of temporal.hosts) {
    const script = path.join(dist, host.party, 'main.js');
    const env = host.party === 'worker' ? { ...workerEnv, ...host.env } : host.env;
    children.push(
      runChild(
        host.name,
        script,
        () => void stopAll(1),
        () => stopping,
        env,
      ),
    );
  }

  for (const port of temporal.apiPorts) await waitForPort(config.api.host, port, 60_000);
  await waitForCatalog(config, temporal.clientEnv, 120_000);
  printWhere(config, temporal, mailCatcher, log);
}

/** The Temporal service `npm start` or `npm run cluster` runs, and the latchkey processes to run on it. */
interface DevTemporal {
  address: string;
  uiUrl?: string;
  /** Each worker and API process: its name in the output, its program, its own settings. */
  hosts: Array<{ name: string; party: 'worker' | 'api'; env: NodeJS.ProcessEnv }>;
  apiPorts: number[];
  /** What a client of this process's own needs to reach Temporal (certificates in the cluster). */
  clientEnv: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

async function startDevServerFor(config: LatchkeyConfig, log: (message: string) => void): Promise<DevTemporal> {
  const [host, portText] = config.temporal.address.split(':');
  const cli = await ensureTemporalCli(stderrLog);
  log(`starting the Temporal dev server (state in ${path.join(config.dataDir, 'temporal.db')})`);
  const server = await startDevServer(cli, {
    ip: host === 'localhost' ? '127.0.0.1' : host,
    port: Number(portText),
    uiPort: config.temporal.devUiPort,
    uiCodecEndpoint: `${config.api.publicUrl}/codec`,
    namespace: config.temporal.namespace,
    dbFile: path.join(config.dataDir, 'temporal.db'),
    log: stderrLog,
  });
  return {
    address: server.address,
    uiUrl: server.uiUrl,
    hosts: [
      { name: 'worker', party: 'worker', env: {} },
      { name: 'api', party: 'api', env: {} },
    ],
    apiPorts: [config.api.port],
    clientEnv: {},
    stop: () => server.stop(),
  };
}

/** Two workers and two API instances, on the ports after the configured ones: 3000 and 3001, 9464 and 9465. */
async function startCluster(config: LatchkeyConfig, log: (message: string) => void): Promise<DevTemporal> {
  const dir = path.join(config.dataDir, 'cluster');
  log(`starting the Temporal cluster: Temporal server on PostgreSQL, with mTLS (state in ${dir})`);
  const cluster = await startTemporalCluster({
    dir,
    letThrough: config.dataDir,
    frontendPort: Number(config.temporal.address.split(':')[1]),
    log: stderrLog,
  });
  const apiPorts = [config.api.port, config.api.port + 1];
  const worker = (i: number) => ({
    name: `worker-${i + 1}`,
    party: 'worker' as const,
    env: {
      ...hostEnv(cluster, config, { name: `worker-${i + 1}`, party: 'worker' }),
      LATCHKEY_WORKER_METRICS_PORT: String(config.worker.metricsPort + i),
    },
  });
  const api = (i: number) => ({
    name: `api-${i + 1}`,
    party: 'api' as const,
    env: {
      ...hostEnv(cluster, config, { name: `api-${i + 1}`, party: 'api' }),
      LATCHKEY_API_PORT: String(apiPorts[i]),
    },
  });
  return {
    address: cluster.address,
    hosts: [worker(0), worker(1), api(0), api(1)],
    apiPorts,
    clientEnv: cluster.clientEnv('admin'),
    stop: () => cluster.stop(),
  };
}

/**
 * Ready means the API answers and the worker has published the resource catalog, so that the first
 * request anyone makes is accepted (the API answers 503 until then).
 */
async function waitForCatalog(config: LatchkeyConfig, clientEnv: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  const { temporal } = loadConfig({ ...loadDevelopmentSettings().childEnv, ...clientEnv });
  const connection = await Connection.connect(temporalConnectionOptions(temporal));
  try {
    const keyring = await loadCodecKeyring(config.codec);
    const client = new Client({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: createDataConverter(keyring),
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const catalog = await client.workflow
        .getHandle(CATALOG_WORKFLOW_ID)
        .query(catalogQuery)
        .catch(() => undefined);
      if (catalog) return;
      if (Date.now() > deadline)
        throw new Error(`the worker published no resource catalog within ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await connection.close();
  }
}

/**
 * A mail catcher, so that a newcomer sees the mail latchkey sends: unless mail goes to an SMTP server of the
 * user's (`LATCHKEY_NOTIFY_SMTP_URL`) or `LATCHKEY_MAIL_CATCHER=off`. On ports 1025 and 8025 unless set;
 * a default port that something else holds (another catcher) gives way to a free one.
 */
async function startMailCatcherUnlessMailGoesElsewhere(
  config: LatchkeyConfig,
  log: (message: string) => void,
): Promise<RunningMailCatcher | undefined> {
  const settings = loadDevelopmentSettings().mailCatcher;
  if (config.notify.email || !settings.enabled) return undefined;
  const host = '127.0.0.1';
  const smtpPort = settings.smtpPort ?? (await preferredOrFreePort(host, MAIL_CATCHER_DEFAULT_PORTS.smtp));
  const webPort = settings.webPort ?? (await preferredOrFreePort(host, MAIL_CATCHER_DEFAULT_PORTS.web));
  try {
    return await startMailCatcher({ host, smtpPort, webPort, log: (message) => log(`mail catcher: ${message}`) });
  } catch (error) {
    throw new Error(
      `the mail catcher could not listen on ${host}:${smtpPort} (SMTP) and :${webPort} (web): ` +
        `${error instanceof Error ? error.message : String(error)}; set LATCHKEY_MAIL_CATCHER_SMTP_PORT and ` +
        'LATCHKEY_MAIL_CATCHER_WEB_PORT, or LATCHKEY_MAIL_CATCHER=off',
    );
  }
}

/** The variable that the demo policy's target `demo-db` names for its admin URL. */
const DEMO_DATABASE_ADMIN_VARIABLE = 'LATCHKEY_DEMO_DB_ADMIN_URL';

/**
 * The demo PostgreSQL (state in data/postgres), seeded once so that the local 1Password's "Reporting database"
 * item holds the password of its `reporting` role: from then on only rotations change either.
 */
async function startDemoDatabase(config: LatchkeyConfig, log: (message: string) => void) {
  const dir = path.join(config.dataDir, 'postgres');
  log(`starting PostgreSQL on 127.0.0.1:${config.demoDatabase.port} (state in ${dir})`);
  const server = await startPostgres({
    dir,
    port: config.demoDatabase.port,
    letThrough: config.dataDir,
    log: stderrLog,
  });
  // The demo policy's reporting-db: the local 1Password's "Reporting database" (docs/demo-data.md), which
  // says where the database listens, as an administrator would keep it.
  const item = { vaultId: 'vlt_prod', itemId: 'itm_reporting_db' };
  const onePassword = new LocalOnePassword({ stateFile: config.localOnePassword.stateFile });
  // A data folder from an earlier latchkey keeps its requests and secrets, and gains the demo items added since.
  let added: string[] = [];
  await onePassword.administer((state) => {
    added = addMissingSeed(state, new Date());
  });
  if (added.length > 0) log(`added to the local 1Password what its demo seed gained since: ${added.join(', ')}`);
  await seedDemoDatabase(server.adminUrl, await onePassword.getItemSecret(item.vaultId, item.itemId));
  await onePassword.administer((state) => {
    const port = state.items.find((candidate) => candidate.id === item.itemId)?.fields.find((f) => f.id === 'port');
    if (port) port.value = String(server.port);
  });
  const demoAdminUrl = new URL(server.adminUrl);
  demoAdminUrl.pathname = `/${DEMO_DATABASE.database}`;
  return { server, demoAdminUrl: demoAdminUrl.toString() };
}

function runChild(
  name: string,
  script: string,
  onCrash: () => void,
  stopping: () => boolean,
  env: NodeJS.ProcessEnv = {},
): ChildProcess {
  const child = spawn(process.execPath, [script], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...loadDevelopmentSettings().childEnv, ...env },
  });
  const prefix = (stream: NodeJS.WritableStream) => (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line) stream.write(`[${name}] ${line}\n`);
  };
  child.stdout?.on('data', prefix(process.stdout));
  child.stderr?.on('data', prefix(process.stderr));
  child.on('exit', (code, signal) => {
    if (stopping()) return;
    process.stderr.write(`[latchkey] ${name} exited (${signal ?? code}); stopping everything\n`);
    onCrash();
  });
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function printWhere(
  config: LatchkeyConfig,
  temporal: DevTemporal,
  mailCatcher: RunningMailCatcher | undefined,
  log: (m: string) => void,
) {
  const apiUrl = config.api.publicUrl;
  log('ready:');
  log(`  Portal            ${apiUrl}/portal/   (sign in as one of the demo people)`);
  log(`  API               ${apiUrl}   (health ${apiUrl}/healthz, docs ${apiUrl}/docs)`);
  if (temporal.apiPorts.length > 1) {
    log(`  API instances     ${temporal.apiPorts.map((port) => `http://${config.api.host}:${port}`).join(', ')}`);
  }
  log(`  Temporal          ${temporal.address}${temporal.clientEnv.TEMPORAL_TLS_CA_FILE ? ' (mTLS)' : ''}`);
  log(`  Temporal Web UI   ${temporal.uiUrl ?? '(none)'}`);
  log(`  PostgreSQL        127.0.0.1:${config.demoDatabase.port}   (the demo database, target demo-db)`);
  const workers = temporal.hosts.filter((host) => host.party === 'worker').length;
  log(
    `  ${workers > 1 ? `${workers} workers ` : 'worker          '}  task queue "${config.temporal.taskQueue}", local 1Password in ${config.localOnePassword.stateFile}`,
  );
  if (mailCatcher) log(`  Mail (catcher)    ${mailCatcher.webUrl}   (every mail latchkey sends)`);
  // The host only: the URL may hold a password.
  else if (config.notify.email) log(`  Mail              sent through ${new URL(config.notify.email.smtpUrl).host}`);
  log('  mint a token:     npm run --silent token -- --sub alice --email alice@example.com --groups engineering');
  log('press Ctrl-C to stop everything');
}

main().catch((error: unknown) => {
  process.stderr.write(`[latchkey] failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
