import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Client, escapeIdentifier, escapeLiteral } from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
import { type LatchkeyConfig, repoRoot } from '../config/config';
import { loadDevelopmentSettings } from '../config/development';
import type { Log } from './cache';
import { logLinesFrom, LOG_TAIL_LINES, waitForPort } from './dev-server';
import { chooseServerPorts, serverPortRanges } from './ports';
import { startPostgres, type RunningPostgres } from './postgres';
import { ensureTemporalCli } from './temporal-cli';
import { ensureTemporalServer, type TemporalServerBuild } from './temporal-server';
import { ensureRateLedgerDatabase } from '../onepassword/sdk/rate-ledger-database';

/**
 * A Temporal cluster of the production shape on this machine, without Docker: PostgreSQL for persistence
 * and SQL visibility, its schema applied by Temporal's own SQL tool, and the Temporal server (not the dev
 * server) with mTLS on its frontend. The steps and settings are the compose file's, through the same
 * scripts (deploy/): the same certificates (make-certs.sh), the same schema set-up (setup-schema.sh), the
 * server started as its image starts it (start-server.sh: the server's own configuration template, filled
 * from the environment) and the same namespace and search attributes (register-search-attributes.sh).
 */
export interface TemporalClusterOptions {
  /** Holds PostgreSQL's data, the certificates, the password and the logs; an existing one is reused. */
  dir: string;
  /** A directory of latchkey's own above `dir` that PostgreSQL's account may pass through (see postgres.ts). */
  letThrough?: string;
  /** The frontend's port; a free one when not given. */
  frontendPort?: number;
  log: Log;
}

/** Each party's certificate directory (ca.crt, tls.crt, tls.key), as make-certs.sh lays them out. */
export type TlsParty = 'temporal' | 'admin' | 'api' | 'worker' | 'ui';

export interface RunningTemporalCluster {
  /** host:port of the frontend (mTLS). */
  address: string;
  /** What a latchkey process of this party needs to reach the frontend: TEMPORAL_ADDRESS and TEMPORAL_TLS_*. */
  clientEnv(party: TlsParty): NodeJS.ProcessEnv;
  /**
   * A file holding the URL of latchkey's own database on the cluster's PostgreSQL, where the workers share their
   * 1Password rate budgets (onepassword/sdk/rate-ledger-database.ts): LATCHKEY_RATE_BUDGET_DATABASE_URL_FILE.
   */
  rateLedgerUrlFile: string;
  serverPid(): number | undefined;
  /** Stops the Temporal server (SIGTERM: graceful; SIGKILL: a crash) and starts it again on the same ports. */
  restartServer(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Stops PostgreSQL, leaves it down for `downMs`, and starts it again on the same port and data. */
  restartPostgres(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const DEPLOY = path.join(repoRoot(), 'deploy');
const TEMPORAL_USER = 'temporal';
const SERVER_NAME = 'temporal';
const SERVER_START_TIMEOUT_MS = 120_000;
/** The frontend, then history, matching and the internal worker service, each with a gRPC and a membership port. */
const PORT_VARIABLES = [
  'FRONTEND_GRPC_PORT',
  'FRONTEND_HTTP_PORT',
  'FRONTEND_MEMBERSHIP_PORT',
  'HISTORY_GRPC_PORT',
  'HISTORY_MEMBERSHIP_PORT',
  'MATCHING_GRPC_PORT',
  'MATCHING_MEMBERSHIP_PORT',
  'WORKER_GRPC_PORT',
  'WORKER_MEMBERSHIP_PORT',
] as const;

/** The environment the cluster's programs inherit (PATH and the rest). */
const childEnv = (): NodeJS.ProcessEnv => loadDevelopmentSettings().childEnv;

/** Temporal keeps each service's membership port in a PostgreSQL smallint: the ports must lie below 32768. */
const SMALLINT_PORT_RANGES = serverPortRanges()
  .map((range) => ({ low: range.low, high: Math.min(range.high, 32_767) }))
  .filter((range) => range.low <= range.high);

export async function startTemporalCluster(options: TemporalClusterOptions): Promise<RunningTemporalCluster> {
  const { dir, log } = options;
  const build = await ensureTemporalServer(log);
  const cli = await ensureTemporalCli(log);
  if (cli.kind === 'sdk-download') throw new Error('the cluster needs the Temporal CLI to register search attributes');
  // Not private itself, so that PostgreSQL's account can reach its folder: the secrets in it are (0600).
  fs.mkdirSync(dir, { recursive: true });
  const tlsRoot = path.join(dir, 'tls');
  await makeCertificates(tlsRoot, log);
  const passwordFile = path.join(dir, 'postgres_password');
  if (!fs.existsSync(passwordFile))
    fs.writeFileSync(passwordFile, randomBytes(24).toString('base64url'), { mode: 0o600 });

  const postgresDir = path.join(dir, 'postgres');
  let postgres = await startPostgres({ dir: postgresDir, letThrough: options.letThrough, log });
  const postgresPort = postgres.port;
  let server: RunningServer | undefined;
  try {
    await ensureTemporalRole(postgres, fs.readFileSync(passwordFile, 'utf8'));
    const postgresEnv = {
      DB: 'postgres12',
      DB_PORT: String(postgresPort),
      POSTGRES_SEEDS: '127.0.0.1',
      POSTGRES_USER: TEMPORAL_USER,
      POSTGRES_PWD_FILE: passwordFile,
    };
    log(`applying Temporal ${build.version}'s schema to PostgreSQL on 127.0.0.1:${postgresPort}`);
    await runScript(path.join(DEPLOY, 'temporal', 'setup-schema.sh'), [], {
      ...postgresEnv,
      TEMPORAL_SCHEMA_DIR: build.postgresSchemaDir,
      PATH: `${path.dirname(build.sqlTool)}${path.delimiter}${childEnv().PATH ?? ''}`,
    });

    const ports = await chooseServerPorts(PORT_VARIABLES.length, { ranges: SMALLINT_PORT_RANGES });
    if (options.frontendPort) ports[0] = options.frontendPort;
    const portEnv = Object.fromEntries(PORT_VARIABLES.map((name, i) => [name, String(ports[i])]));
    const tls = (file: string) => path.join(tlsRoot, 'temporal', file);
    const serverEnv: NodeJS.ProcessEnv = {
      ...postgresEnv,
      ...portEnv,
      BIND_ON_IP: '127.0.0.1',
      TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DYNAMIC_CONFIG_FILE_PATH: path.join(DEPLOY, 'temporal', 'dynamicconfig.yaml'),
      // As docker-compose.yml: mTLS on the frontend and between the server's own services.
      TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: 'true',
      TEMPORAL_TLS_SERVER_CA_CERT: tls('ca.crt'),
      TEMPORAL_TLS_SERVER_CERT: tls('tls.crt'),
      TEMPORAL_TLS_SERVER_KEY: tls('tls.key'),
      TEMPORAL_TLS_INTERNODE_SERVER_NAME: SERVER_NAME,
      TEMPORAL_TLS_FRONTEND_CERT: tls('tls.crt'),
      TEMPORAL_TLS_FRONTEND_KEY: tls('tls.key'),
      TEMPORAL_TLS_FRONTEND_SERVER_NAME: SERVER_NAME,
      TEMPORAL_TLS_CLIENT1_CA_CERT: tls('ca.crt'),
    };
    const address = `127.0.0.1:${ports[0]}`;
    const logFile = path.join(dir, 'temporal-server.log');
    server = await startServer(build, serverEnv, address, logFile, log);

    const admin = (file: string) => path.join(tlsRoot, 'admin', file);
    await registerNamespace(
      {
        TEMPORAL_ADDRESS: address,
        TEMPORAL_TLS_CA: admin('ca.crt'),
        TEMPORAL_TLS_CERT: admin('tls.crt'),
        TEMPORAL_TLS_KEY: admin('tls.key'),
        TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
        PATH: `${path.dirname(cli.path)}${path.delimiter}${childEnv().PATH ?? ''}`,
      },
      log,
    );

    const rateLedgerUrlFile = path.join(dir, 'rate-ledger-database-url');
    await ensureRateLedgerDatabase(postgres.adminUrl, rateLedgerUrlFile);
    pointAtPort(rateLedgerUrlFile, postgresPort);

    let current: RunningServer = server;
    const tlsDir = (party: TlsParty) => path.join(tlsRoot, party);
    return {
      address,
      clientEnv: (party) => ({
        TEMPORAL_ADDRESS: address,
        TEMPORAL_TLS_CA_FILE: path.join(tlsDir(party), 'ca.crt'),
        TEMPORAL_TLS_CERT_FILE: path.join(tlsDir(party), 'tls.crt'),
        TEMPORAL_TLS_KEY_FILE: path.join(tlsDir(party), 'tls.key'),
        TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
      }),
      rateLedgerUrlFile,
      serverPid: () => current.pid,
      async restartServer(signal) {
        await current.stop(signal);
        current = await startServer(build, serverEnv, address, logFile, log);
      },
      async restartPostgres(downMs = 0) {
        await postgres.stop();
        await sleep(downMs);
        postgres = await startPostgres({ dir: postgresDir, port: postgresPort, letThrough: options.letThrough, log });
      },
      async stop() {
        await current.stop('SIGTERM');
        await postgres.stop();
      },
    };
  } catch (error) {
    await server?.stop('SIGKILL');
    await postgres.stop();
    throw error;
  }
}

/** The CA and a certificate per party, by the compose deployment's own script; existing ones are kept. */
async function makeCertificates(root: string, log: Log): Promise<void> {
  for (const party of ['ca', 'temporal', 'ui', 'admin', 'api', 'worker']) {
    fs.mkdirSync(path.join(root, party), { recursive: true, mode: 0o700 });
  }
  const output = await runScript(path.join(DEPLOY, 'setup', 'make-certs.sh'), [root], {});
  if (output.includes('created')) log(`made the cluster's CA and certificates in ${root}`);
}

/**
 * The ledger's URL names the port PostgreSQL had when the URL was made; a later start of the same cluster may
 * give it another (a free one is chosen each time), so the file follows it.
 */
function pointAtPort(urlFile: string, port: number): void {
  const url = new URL(fs.readFileSync(urlFile, 'utf8').trim());
  if (url.port === String(port)) return;
  url.port = String(port);
  fs.writeFileSync(urlFile, `${url.toString()}\n`, { mode: 0o600 });
}

/** The role Temporal connects as: it creates its two databases itself (the SQL tool's create-database). */
async function ensureTemporalRole(postgres: RunningPostgres, password: string): Promise<void> {
  const client = new Client(parseIntoClientConfig(postgres.adminUrl));
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [TEMPORAL_USER]);
    const verb = exists.rowCount ? 'ALTER' : 'CREATE';
    await client.query(
      `${verb} ROLE ${escapeIdentifier(TEMPORAL_USER)} LOGIN CREATEDB PASSWORD ${escapeLiteral(password)}`,
    );
  } finally {
    await client.end();
  }
}

/**
 * In the cluster each latchkey process runs as on a host of its own: a data folder of its own, its own client
 * certificate, and shared only what a deployment hands every host: the keys (paths from `shared`, the config of
 * the data folder they were made in), the policy and 1Password; workers also the shared rate ledger.
 */
export function hostEnv(
  cluster: RunningTemporalCluster,
  shared: LatchkeyConfig,
  host: { name: string; party: 'worker' | 'api' },
): NodeJS.ProcessEnv {
  const { auth, commands, codec, audit, worker, localOnePassword } = shared;
  return {
    ...cluster.clientEnv(host.party),
    LATCHKEY_DATA_DIR: path.join(shared.dataDir, 'hosts', host.name),
    ...(auth.mode === 'local' && {
      LATCHKEY_AUTH_LOCAL_KEY_FILE: auth.signingKeyFile,
      LATCHKEY_AUTH_LOCAL_PUBLIC_KEY_FILE: auth.publicKeyFile,
    }),
    LATCHKEY_COMMAND_SIGNING_KEY_FILE: commands.signingKeyFile,
    LATCHKEY_COMMAND_TRUSTED_KEYS_FILE: commands.trustedKeysFile,
    LATCHKEY_CODEC_KEY_FILE: codec.keyFile,
    LATCHKEY_AUDIT_SIGNING_KEY_FILE: audit.signingKeyFile,
    LATCHKEY_INTERNAL_KEY_FILE: worker.internalKeyFile,
    LATCHKEY_LOCAL_1PASSWORD_FILE: localOnePassword.stateFile,
    ...(host.party === 'worker' && { LATCHKEY_RATE_BUDGET_DATABASE_URL_FILE: cluster.rateLedgerUrlFile }),
  };
}

interface RunningServer {
  pid?: number;
  stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

async function startServer(
  build: TemporalServerBuild,
  env: NodeJS.ProcessEnv,
  address: string,
  logFile: string,
  log: Log,
): Promise<RunningServer> {
  const [host, port] = address.split(':');
  const logStart = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
  const fd = fs.openSync(logFile, 'a');
  const child: ChildProcess = spawn('sh', [path.join(DEPLOY, 'temporal', 'start-server.sh')], {
    stdio: ['ignore', fd, fd],
    env: { ...childEnv(), ...env, PATH: `${path.dirname(build.server)}${path.delimiter}${childEnv().PATH ?? ''}` },
  });
  fs.closeSync(fd);
  let exitStatus: string | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitStatus = signal ?? `code ${code}`;
      resolve();
    }),
  );
  const stop = async (signal: 'SIGTERM' | 'SIGKILL') => {
    if (exitStatus !== undefined) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitForPort(host, Number(port), SERVER_START_TIMEOUT_MS, () => exitStatus !== undefined);
  } catch (error) {
    await stop('SIGKILL');
    const tail = logLinesFrom(logFile, logStart).slice(-LOG_TAIL_LINES).join('\n');
    throw new Error(
      `the Temporal server did not start on ${address} (${exitStatus ?? (error as Error).message}); ` +
        `${logFile} ends:\n${tail}`,
    );
  }
  log(`Temporal server ${build.version} listening on ${address} (pid ${child.pid}, log ${logFile})`);
  return { pid: child.pid, stop };
}

/**
 * The namespace and latchkey's search attributes. A namespace just created takes a few seconds to reach
 * every service's cache, and the script stops on the first refusal: it is run again until it passes.
 */
async function registerNamespace(env: NodeJS.ProcessEnv, log: Log): Promise<void> {
  const script = path.join(DEPLOY, 'temporal', 'register-search-attributes.sh');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await runScript(script, [], env);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      log('the namespace is not ready for its search attributes yet; trying again');
      await sleep(3_000);
    }
  }
}

async function runScript(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('sh', [script, ...args], {
      env: { ...childEnv(), ...env },
      timeout: 300_000,
    });
    return stdout;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    const output = `${failed.stdout ?? ''}${failed.stderr ?? ''}`.trim().split('\n').slice(-LOG_TAIL_LINES).join('\n');
    throw new Error(`${path.relative(repoRoot(), script)} failed: ${output || failed.message}`);
  }
}
