import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { escapeIdentifier as id, escapeLiteral as literal } from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
import { chooseServerPort, releaseServerPort } from '../../devstack/ports';
import { adminQuery as admin, loginAs, testPostgresAdminUrl, tryLogin } from '../../test/support/postgres';
import { TargetError } from '../port';
import { PostgresTarget } from './postgres-target';

/** Against the real PostgreSQL the integration tier starts: every check logs in as the role, as a user would. */
describe(PostgresTarget.name, () => {
  const adminUrl = testPostgresAdminUrl();
  const sut = new PostgresTarget({ adminUrl: () => adminUrl, name: 'spec' });
  const table = 'spec_orders';
  const reader = 'spec_reader';
  let serial = 0;
  const uniqueName = (prefix: string) => `${prefix}${Date.now().toString(36)}_${++serial}`;

  beforeAll(async () => {
    await admin(`create table if not exists ${table} (id integer primary key)`);
    await admin(`insert into ${table} values (1) on conflict do nothing`);
    await admin(`create role ${reader} nologin`).catch(() => undefined);
    await admin(`grant select on ${table} to ${reader}`);
  });

  describe('rotator', () => {
    let role: string;
    beforeEach(async () => {
      role = uniqueName('spec_rotated_');
      await admin(`create role ${id(role)} login password ${literal('first-secret')}`);
    });

    it('makes the new password log in and the old one refused (28P01), and stores only a verifier', async () => {
      await sut.rotator(role).setSecret('second-secret', 'AccessRequest:r1/rotate');

      expect(await tryLogin(role, 'second-secret')).toBe('accepted');
      expect(await tryLogin(role, 'first-secret')).toBe('28P01');
      const stored = await admin('select rolpassword from pg_authid where rolname = $1', [role]);
      expect(stored[0].rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
    });

    it('sets the same secret twice without complaint', async () => {
      const rotator = sut.rotator(role);
      await rotator.setSecret('second-secret', 'AccessRequest:r1/rotate');
      await rotator.setSecret('second-secret', 'AccessRequest:r1/rotate');
      expect(await tryLogin(role, 'second-secret')).toBe('accepted');
    });

    it('ends the role’s open sessions when asked to, and leaves them otherwise', async () => {
      const kept = await loginAs(role, 'first-secret');
      await sut.rotator(role).setSecret('second-secret', 'r');
      await expect(kept.query('select 1')).resolves.toBeDefined();

      await sut.rotator(role, { endSessions: true }).setSecret('third-secret', 'r');
      await expect(kept.query('select 1')).rejects.toThrow();
      await kept.end().catch(() => undefined);
    });

    it('verifies by logging in with the new and the previous secret', async () => {
      const rotator = sut.rotator(role);
      await rotator.setSecret('second-secret', 'r');
      await expect(rotator.verify('second-secret', 'first-secret')).resolves.toEqual({
        checked: true,
        newAccepted: true,
        previousRefused: true,
      });
      await expect(rotator.verify('first-secret', 'second-secret')).resolves.toEqual({
        checked: true,
        newAccepted: false,
        previousRefused: false,
      });
      await expect(rotator.verify('second-secret', undefined)).resolves.toEqual({ checked: true, newAccepted: true });
    });

    it('fails with not-found for a role that does not exist, naming it and not the secret', async () => {
      const error = await sut
        .rotator('spec_nobody')
        .setSecret('a-secret', 'r')
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'not-found' });
      expect((error as Error).message).toContain('spec_nobody');
      expect((error as Error).message).not.toMatch(/a-secret|SCRAM/);
    });
  });

  describe('database logins', () => {
    const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

    it('creates a login once and brings it to exactly the settings asked on the next call', async () => {
      const role = uniqueName('lk_spec_');
      const params = { role, password: 'login-secret', validUntil: inAnHour(), memberOf: [reader], connectionLimit: 2 };
      await sut.ensureLogin(params);
      await sut.ensureLogin(params);

      const session = await loginAs(role, 'login-secret');
      await expect(session.query(`select id from ${table}`)).resolves.toMatchObject({ rows: [{ id: 1 }] });
      await session.end();
      const [row] = await admin('select rolconnlimit, rolvaliduntil from pg_roles where rolname = $1', [role]);
      expect(row.rolconnlimit).toBe(2);
      expect((row.rolvaliduntil as Date).toISOString()).toBe(params.validUntil);

      await sut.ensureLogin({ ...params, password: 'other-secret', memberOf: [] });
      expect(await tryLogin(role, 'other-secret', `select id from ${table}`)).toBe('42501');
      expect(await tryLogin(role, 'login-secret')).toBe('28P01');
    });

    it('is refused by the database after VALID UNTIL, and accepted again once it is moved', async () => {
      const role = uniqueName('lk_spec_');
      const soon = new Date(Date.now() + 2_000).toISOString();
      await sut.ensureLogin({ role, password: 'login-secret', validUntil: soon, memberOf: [], connectionLimit: 1 });
      expect(await tryLogin(role, 'login-secret')).toBe('accepted');

      await sleep(Date.parse(soon) - Date.now() + 500);
      expect(await tryLogin(role, 'login-secret')).toBe('28P01');

      await sut.setValidUntil(role, inAnHour());
      expect(await tryLogin(role, 'login-secret')).toBe('accepted');
    });

    it('drops a login with a session open: the session ends, the role goes, a second drop finds nothing', async () => {
      const role = uniqueName('lk_spec_');
      await sut.ensureLogin({
        role,
        password: 'login-secret',
        validUntil: inAnHour(),
        memberOf: [reader],
        connectionLimit: 3,
      });
      const session = await loginAs(role, 'login-secret');

      await expect(sut.dropLogin(role)).resolves.toEqual({ existed: true, sessionsEnded: 1 });
      await expect(session.query('select 1')).rejects.toThrow();
      await session.end().catch(() => undefined);
      expect(await admin('select 1 from pg_roles where rolname = $1', [role])).toEqual([]);
      await expect(sut.dropLogin(role)).resolves.toEqual({ existed: false, sessionsEnded: 0 });
    });

    it('drops a login that holds privileges in another database than the admin URL’s', async () => {
      const role = uniqueName('lk_spec_');
      await sut.ensureLogin({
        role,
        password: 'login-secret',
        validUntil: inAnHour(),
        memberOf: [],
        connectionLimit: 1,
      });
      const other = uniqueName('spec_db_');
      await admin(`create database ${id(other)}`);
      await admin(`create table elsewhere (id integer)`, [], other);
      await admin(`grant select on elsewhere to ${id(role)}`, [], other);

      await expect(sut.dropLogin(role)).resolves.toEqual({ existed: true, sessionsEnded: 0 });
      expect(await admin('select 1 from pg_roles where rolname = $1', [role])).toEqual([]);
    });

    it('lists the logins with a prefix, with their VALID UNTIL', async () => {
      const prefix = uniqueName('lk_list_');
      const validUntil = inAnHour();
      for (const suffix of ['_b', '_a']) {
        await sut.ensureLogin({
          role: `${prefix}${suffix}`,
          password: 'x',
          validUntil,
          memberOf: [],
          connectionLimit: 1,
        });
      }
      await expect(sut.listLogins(prefix)).resolves.toEqual([
        { role: `${prefix}_a`, validUntil },
        { role: `${prefix}_b`, validUntil },
      ]);
    });

    it('refuses a role that latchkey does not make, before connecting', async () => {
      const nowhere = new PostgresTarget({ adminUrl: () => 'postgres://u:p@127.0.0.1:1/db' });
      for (const role of ['postgres', 'lk_Upper', 'lk_x"; drop role postgres; --']) {
        await expect(nowhere.dropLogin(role)).rejects.toMatchObject({ kind: 'invalid-argument' });
        await expect(nowhere.setValidUntil(role, inAnHour())).rejects.toMatchObject({ kind: 'invalid-argument' });
      }
      await expect(
        nowhere.ensureLogin({ role: 'lk_ok', password: 'x', validUntil: 'tomorrow', memberOf: [], connectionLimit: 1 }),
      ).rejects.toMatchObject({ kind: 'invalid-argument' });
    });

    it('fails with not-found, naming it, when a role to be a member of does not exist, and makes nothing', async () => {
      const role = uniqueName('lk_spec_');
      const params = {
        role,
        password: 'login-secret',
        validUntil: inAnHour(),
        memberOf: ['spec_missing'],
        connectionLimit: 1,
      };
      const error = await sut.ensureLogin(params).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'not-found', message: expect.stringContaining('"spec_missing"') });
      expect(await admin('select 1 from pg_roles where rolname = $1', [role])).toEqual([]);
    });

    it('fails with not-found when moving VALID UNTIL of a login that does not exist', async () => {
      await expect(sut.setValidUntil('lk_spec_absent', inAnHour())).rejects.toMatchObject({ kind: 'not-found' });
    });

    it('says where logins connect, from the admin URL', () => {
      const { host, port, database } = parseIntoClientConfig(adminUrl);
      expect(sut.connectionInfo()).toEqual({ host, port: Number(port), database });
    });
  });

  it('never sends a password: with every statement of its sessions logged, the server’s log holds none', async () => {
    const [{ data_directory }] = await admin('show data_directory');
    const logFile = path.join(path.dirname(data_directory as string), 'postgres.log'); // devstack/postgres.ts's layout
    const rotated = uniqueName('spec_rotated_');
    await admin(`create role ${id(rotated)} login`);
    const adminRole = decodeURIComponent(new URL(adminUrl).username);
    await admin(`alter role ${id(adminRole)} set log_statement = 'all'`);
    try {
      await sut.rotator(rotated).setSecret('logged-secret-1', 'r');
      const login = { role: uniqueName('lk_spec_'), validUntil: new Date(Date.now() + 60_000).toISOString() };
      await sut.ensureLogin({ ...login, password: 'logged-secret-2', memberOf: [reader], connectionLimit: 1 });
    } finally {
      await admin(`alter role ${id(adminRole)} reset log_statement`);
    }
    const log = fs.readFileSync(logFile, 'utf8');
    expect(log).toContain(`alter role ${id(rotated)} password 'SCRAM-SHA-256$4096:`);
    expect(log).not.toContain('logged-secret');
  });

  describe('failures', () => {
    it('is unavailable when nothing listens, for a change and for a verification', async () => {
      const port = await chooseServerPort();
      try {
        const url = new URL(adminUrl);
        url.port = String(port);
        const stopped = new PostgresTarget({ adminUrl: () => url.toString(), connectTimeoutMs: 2_000 });
        await expect(stopped.dropLogin('lk_spec_x')).rejects.toMatchObject({ kind: 'unavailable' });
        await expect(stopped.rotator('spec_role').verify('s', 'p')).rejects.toMatchObject({ kind: 'unavailable' });
      } finally {
        releaseServerPort(port);
      }
    });

    it('is auth when latchkey’s admin password is refused, and the message holds no password', async () => {
      const url = new URL(adminUrl);
      url.password = 'wrong-admin-password';
      const error = await new PostgresTarget({ adminUrl: () => url.toString() })
        .listLogins('lk_')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TargetError);
      expect(error).toMatchObject({ kind: 'auth' });
      expect((error as Error).message).not.toContain('wrong-admin-password');
      expect((error as Error).message).not.toContain(new URL(adminUrl).password);
    });
  });
});
