import { Client, type ClientConfig } from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
import { TargetError, type ConnectionInfo } from '../port';
import { isLoginRefused, toTargetError } from './errors';

export interface PostgresTargetOptions {
  /**
   * The admin connection string (`postgres://user:password@host:port/database`), read at each call from its
   * secret source, so a changed one is used without a restart. Never logged, never in a message.
   */
  adminUrl: () => string;
  /** The target's name in the policy, for messages. */
  name?: string;
  /** How long a connection may take to open (default 5 s). */
  connectTimeoutMs?: number;
  /** The server's `statement_timeout` on every admin session (default 15 s); the driver gives up 5 s later. */
  statementTimeoutMs?: number;
}

export interface AdminSession {
  /** Blanked out of any failure's message (the server may quote a statement). */
  secrets?: readonly string[];
  /** Shown in pg_stat_activity and the server's log lines. */
  applicationName?: string;
  /** Another database than the admin URL's. */
  database?: string;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_STATEMENT_TIMEOUT_MS = 15_000;
/** How long ending one session may take before it is counted as not ended. */
const TERMINATE_WAIT_MS = 5_000;
const noop = () => undefined;

/**
 * The plumbing both PostgreSQL ports share: one client per call, always closed (calls are a grant, a
 * revoke, a rotation: rare enough that a pool would only hold idle admin sessions open), with timeouts.
 */
export class PostgresConnection {
  constructor(private readonly options: PostgresTargetOptions) {}

  /** Runs `use` on a new admin session; any failure becomes a TargetError saying `operation` and where. */
  async asAdmin<T>(operation: string, use: (client: Client) => Promise<T>, session: AdminSession = {}): Promise<T> {
    const context = `${operation} on ${this.describe()}`;
    const admin = this.adminConfig();
    const client = new Client({
      ...this.sessionConfig(admin),
      database: session.database ?? admin.database,
      application_name: session.applicationName ?? 'latchkey',
    });
    client.on('error', noop); // the server ending the session between queries: the next query says so
    try {
      await client.connect();
      return await use(client);
    } catch (error) {
      throw toTargetError(error, context, session.secrets);
    } finally {
      await client.end().catch(noop);
    }
  }

  /**
   * Whether `role` can log in with `password` (to `database`, by default the admin URL's): false when the
   * server refuses the credentials; a server that cannot be reached throws (`unavailable`).
   */
  async canLogIn(role: string, password: string, database?: string): Promise<boolean> {
    const admin = this.adminConfig();
    const client = new Client({
      ...this.sessionConfig(admin),
      user: role,
      password,
      database: database ?? admin.database,
    });
    client.on('error', noop);
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch (error) {
      if (isLoginRefused(error)) return false;
      throw toTargetError(error, `log in as role "${role}" on ${this.describe()}`, [password]);
    } finally {
      await client.end().catch(noop);
    }
  }

  connectionInfo(): ConnectionInfo {
    const admin = this.adminConfig();
    return {
      host: admin.host ?? 'localhost',
      port: Number(admin.port ?? 5432),
      // libpq's rule: without a database, the user's name.
      database: admin.database ?? admin.user ?? 'postgres',
    };
  }

  /** For messages: the policy's name and where it points, never who logs in. */
  describe(): string {
    let where: string;
    try {
      const { host, port, database } = this.connectionInfo();
      where = `${host}:${port}/${database}`;
    } catch {
      where = 'an unreadable admin URL';
    }
    return this.options.name ? `PostgreSQL target "${this.options.name}" (${where})` : `PostgreSQL ${where}`;
  }

  private adminConfig(): ClientConfig {
    const name = this.options.name ?? 'a PostgreSQL target';
    let url: string;
    try {
      url = this.options.adminUrl();
    } catch (error) {
      // A source that cannot be read says which (a TargetError names it, never the value).
      if (error instanceof TargetError) throw error;
      throw new TargetError('auth', `the admin URL of ${name} cannot be read`);
    }
    try {
      return parseIntoClientConfig(url);
    } catch {
      // 'auth': latchkey's own credential is wrong; a person fixes the secret, and the retry reads it again.
      // The parser's message may quote the URL, password included: not passed on.
      throw new TargetError('auth', `the admin URL of ${name} cannot be parsed`);
    }
  }

  private sessionConfig(base: ClientConfig): ClientConfig {
    const statementTimeout = this.options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
    return {
      ...base,
      connectionTimeoutMillis: this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      statement_timeout: statementTimeout,
      query_timeout: statementTimeout + 5_000,
    };
  }
}

/** Ends every session of `role` but the caller's own, waiting a moment for each to be gone; how many ended. */
export async function endSessions(client: Client, role: string): Promise<number> {
  const result = await client.query<{ ended: number }>(
    `select count(*)::int as ended from (
       select pg_terminate_backend(pid, $2) as ended from pg_stat_activity
       where usename = $1 and pid <> pg_backend_pid()
     ) attempts where ended`,
    [role, TERMINATE_WAIT_MS],
  );
  return result.rows[0].ended;
}

/** The other databases in which `role` owns objects or holds privileges: DROP OWNED works in one database only. */
export async function otherDatabasesWithObjectsOf(client: Client, role: string): Promise<string[]> {
  const result = await client.query<{ datname: string }>(
    `select distinct d.datname from pg_shdepend s join pg_database d on d.oid = s.dbid
     where s.refclassid = 'pg_authid'::regclass and s.refobjid = (select oid from pg_roles where rolname = $1)
       and d.datname <> current_database() order by 1`,
    [role],
  );
  return result.rows.map((row) => row.datname);
}

export async function roleExists(client: Client, role: string): Promise<boolean> {
  const result = await client.query('select 1 from pg_roles where rolname = $1', [role]);
  return (result.rowCount ?? 0) > 0;
}

/** The roles `role` is a direct member of. */
export async function membershipsOf(client: Client, role: string): Promise<string[]> {
  const result = await client.query<{ rolname: string }>(
    `select distinct granted.rolname from pg_auth_members m
       join pg_roles granted on granted.oid = m.roleid
       join pg_roles member on member.oid = m.member
     where member.rolname = $1 order by 1`,
    [role],
  );
  return result.rows.map((row) => row.rolname);
}
