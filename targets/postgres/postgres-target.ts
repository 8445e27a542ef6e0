import { escapeIdentifier as id, escapeLiteral as literal, type Client } from 'pg';
import {
  DATABASE_LOGIN_PATTERN,
  TargetError,
  type ConnectionInfo,
  type DatabaseLoginParams,
  type DatabaseLogins,
  type RotationCheck,
  type Rotator,
} from '../port';
import {
  endSessions,
  membershipsOf,
  otherDatabasesWithObjectsOf,
  PostgresConnection,
  roleExists,
  type PostgresTargetOptions,
} from './connection';
import { scramSha256Verifier } from './scram';

export type { PostgresTargetOptions } from './connection';

export interface PostgresRotatorOptions {
  /** End the role's open sessions once the password changed, so nobody stays connected with the old one. */
  endSessions?: boolean;
  /** The database `verify` logs in to; by default the admin URL's. */
  database?: string;
}

/**
 * One PostgreSQL server, administered through the `pg` driver as the admin URL's role. That role needs
 * CREATEROLE (on PostgreSQL 16 and later with ADMIN OPTION on the roles logins are made members of, and on
 * rotated roles it did not create) and membership in pg_signal_backend to end sessions; a superuser will
 * do for the embedded demo, and should not be used elsewhere.
 *
 * VALID UNTIL makes the server refuse new logins after the end, with latchkey down or not; sessions opened
 * before it stay open until `dropLogin` ends them.
 *
 * Passwords are sent as SCRAM-SHA-256 verifiers computed here, never as such. Names are quoted with the
 * driver's escapeIdentifier, values with escapeLiteral (utility statements take no parameters).
 */
export class PostgresTarget implements DatabaseLogins {
  private readonly connection: PostgresConnection;

  constructor(options: PostgresTargetOptions) {
    this.connection = new PostgresConnection(options);
  }

  /** The rotator of `role`, an account whose password a rotate-on-revoke item holds. */
  rotator(role: string, options: PostgresRotatorOptions = {}): Rotator {
    return new PostgresRotator(this.connection, checkedRoleName(role), options);
  }

  async ensureLogin(params: DatabaseLoginParams): Promise<void> {
    const role = checkedLoginRole(params.role);
    const validUntil = checkedInstant(params.validUntil);
    if (!Number.isInteger(params.connectionLimit) || params.connectionLimit < -1) {
      throw new TargetError('invalid-argument', `connection limit ${params.connectionLimit} of login ${role}`);
    }
    const memberOf = [...new Set(params.memberOf.map(checkedRoleName))];
    const verifier = scramSha256Verifier(params.password);
    const secrets = [params.password, verifier];
    await this.connection.asAdmin(
      `ensure login "${role}"`,
      async (client) => {
        await client.query('begin');
        await this.assertRolesExist(client, memberOf, role);
        // Attributes not named keep CREATE ROLE's defaults (no superuser, createdb, createrole, replication,
        // bypassrls), and are not named so that a CREATEROLE admin, not a superuser, may ALTER them.
        const settings = `login password ${literal(verifier)} valid until ${literal(validUntil)} connection limit ${params.connectionLimit}`;
        const verb = (await roleExists(client, role)) ? 'alter' : 'create';
        await client.query(`${verb} role ${id(role)} ${settings}`);
        const current = await membershipsOf(client, role);
        for (const granted of memberOf.filter((r) => !current.includes(r))) {
          await client.query(`grant ${id(granted)} to ${id(role)}`);
        }
        for (const extra of current.filter((r) => !memberOf.includes(r))) {
          await client.query(`revoke ${id(extra)} from ${id(role)}`);
        }
        await client.query('commit');
      },
      { secrets },
    );
  }

  async setValidUntil(role: string, validUntil: string): Promise<void> {
    const login = checkedLoginRole(role);
    const until = checkedInstant(validUntil);
    await this.connection.asAdmin(`move VALID UNTIL of login "${login}"`, async (client) => {
      await client.query(`alter role ${id(login)} valid until ${literal(until)}`);
    });
  }

  async dropLogin(role: string): Promise<{ existed: boolean; sessionsEnded: number }> {
    const login = checkedLoginRole(role);
    return this.connection.asAdmin(`drop login "${login}"`, async (client) => {
      if (!(await roleExists(client, login))) return { existed: false, sessionsEnded: 0 };
      // First no new session and no privilege through a membership (both at commit), then end the sessions.
      await client.query('begin');
      await client.query(`alter role ${id(login)} nologin`);
      for (const granted of await membershipsOf(client, login)) {
        await client.query(`revoke ${id(granted)} from ${id(login)}`);
      }
      await client.query('commit');
      const sessionsEnded = await endSessions(client, login);
      // What it owns or was granted, in every database: any of it left makes DROP ROLE refuse (2BP01).
      const dropOwned = (session: Client) => session.query(`drop owned by ${id(login)}`);
      for (const database of await otherDatabasesWithObjectsOf(client, login)) {
        await this.connection.asAdmin(`drop what login "${login}" owns in database "${database}"`, dropOwned, {
          database,
        });
      }
      await dropOwned(client);
      await client.query(`drop role if exists ${id(login)}`);
      return { existed: true, sessionsEnded };
    });
  }

  async listLogins(prefix: string): Promise<Array<{ role: string; validUntil?: string }>> {
    return this.connection.asAdmin(`list logins "${prefix}…"`, async (client) => {
      // left() rather than LIKE, where `_` of `lk_` is a wildcard.
      const result = await client.query<{ rolname: string; rolvaliduntil: Date | number | null }>(
        'select rolname, rolvaliduntil from pg_roles where left(rolname, length($1)) = $1 order by rolname',
        [prefix],
      );
      return result.rows.map(({ rolname, rolvaliduntil }) =>
        // null: no expiry; 'infinity' arrives as a number.
        rolvaliduntil instanceof Date ? { role: rolname, validUntil: rolvaliduntil.toISOString() } : { role: rolname },
      );
    });
  }

  connectionInfo(): ConnectionInfo {
    return this.connection.connectionInfo();
  }

  private async assertRolesExist(client: Client, roles: string[], login: string): Promise<void> {
    const result = await client.query<{ name: string }>(
      'select name from unnest($1::text[]) as name where name not in (select rolname from pg_roles)',
      [roles],
    );
    if (result.rows.length > 0) {
      const missing = result.rows.map((row) => `"${row.name}"`).join(', ');
      throw new TargetError(
        'not-found',
        `ensure login "${login}" on ${this.connection.describe()}: no role ${missing} to make it a member of`,
      );
    }
  }
}

class PostgresRotator implements Rotator {
  constructor(
    private readonly connection: PostgresConnection,
    private readonly role: string,
    private readonly options: PostgresRotatorOptions,
  ) {}

  async setSecret(secret: string, reference: string): Promise<void> {
    if (!secret) throw new TargetError('invalid-argument', `an empty password for role "${this.role}"`);
    // A new salt each time: setting the same secret again succeeds and changes nothing that matters.
    const verifier = scramSha256Verifier(secret);
    await this.connection.asAdmin(
      `set the password of role "${this.role}"`,
      async (client) => {
        await client.query(`alter role ${id(this.role)} password ${literal(verifier)}`);
        if (this.options.endSessions) await endSessions(client, this.role);
      },
      // The reference shows in pg_stat_activity and in the server's log lines (%a), where a DBA looks.
      { secrets: [secret, verifier], applicationName: `latchkey ${reference}`.slice(0, 63) },
    );
  }

  async verify(secret: string, previous: string | undefined): Promise<RotationCheck> {
    const database = this.options.database;
    const newAccepted = await this.connection.canLogIn(this.role, secret, database);
    if (previous === undefined) return { checked: true, newAccepted };
    const previousRefused = !(await this.connection.canLogIn(this.role, previous, database));
    return { checked: true, newAccepted, previousRefused };
  }
}

function checkedLoginRole(role: string): string {
  if (!DATABASE_LOGIN_PATTERN.test(role)) {
    throw new TargetError('invalid-argument', `"${role}" is not a login name latchkey makes (lk_ + [a-z0-9_])`);
  }
  return role;
}

/** Any name PostgreSQL takes (it is quoted): not empty, at most 63 bytes. */
function checkedRoleName(role: string): string {
  if (!role || Buffer.byteLength(role) > 63 || role.includes('\0')) {
    throw new TargetError('invalid-argument', `"${role}" is not a PostgreSQL role name`);
  }
  return role;
}

/** An ISO 8601 instant, sent as UTC. */
function checkedInstant(value: string): string {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || !Number.isFinite(ms)) {
    throw new TargetError('invalid-argument', `"${value}" is not an ISO 8601 instant`);
  }
  return new Date(ms).toISOString();
}
