import { toSign } from '../test/support/commands';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { escapeIdentifier as id, escapeLiteral as literal } from 'pg';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type PreparedRotation, type TargetPorts } from '../activities';
import { extendUpdate, grantAccessQuery, revokeUpdate } from '../contracts/messages';
import type { GrantSpec, RotatorSpec } from '../contracts/snapshot';
import { databaseLoginItemTitle, databaseLoginRole } from '../domain/ids';
import { OnePasswordError } from '../onepassword/port';
import { TargetError, type Rotator } from '../targets/port';
import { CommandRotator } from '../targets/command/command-rotator';
import { PostgresTarget } from '../targets/postgres/postgres-target';
import { recordHistory } from '../test/support/histories';
import {
  adminQuery as admin,
  loginAs as session,
  sessionAlive,
  testPostgresAdminUrl,
  tryLogin,
} from '../test/support/postgres';
import { HOUR, people, REQUESTER, shareLinkGrant } from '../test/support/snapshots';
import { approve, eventually, type RequestHandle, stateOf, useTimeSkippingWorld } from '../test/support/time-skipping';
import type { AccessRequestState, RequestStatus } from '../contracts/request';

/**
 * Rotate-on-revoke that reaches the database, and database logins of a request's own, end to end: the request
 * workflow on the time-skipping server, its activities against the integration tier's real PostgreSQL and the
 * local 1Password. Every check logs in as a person would.
 */
const suite = useTimeSkippingWorld();
const adminUrl = testPostgresAdminUrl();
const MINUTE = 60_000;
const TABLE = 'it_orders';
const READER = 'it_reader';
let serial = 0;

/** The request once it reaches `status`, moving the clock by `stepMs` between looks (the retries' backoff). */
async function statusOf(sut: RequestHandle, status: RequestStatus, stepMs?: number): Promise<AccessRequestState> {
  return eventually(
    async () => {
      if (stepMs) await suite.world.advance(stepMs);
      const state = await stateOf(sut);
      expect(state.status).toBe(status);
      return state;
    },
    stepMs ? 60_000 : undefined,
  );
}

/** Targets of this test: `it-db` is the real PostgreSQL (its admin URL read at each call, so a test can cut it). */
function targetsOn(database: PostgresTarget, wrap: (rotator: Rotator) => Rotator = (rotator) => rotator): TargetPorts {
  return {
    rotator: ({ role, endSessions }) => wrap(database.rotator(role!, { endSessions })),
    databaseLogins: () => database,
  };
}

beforeAll(async () => {
  await admin(`create table if not exists ${TABLE} (id integer primary key)`);
  await admin(`insert into ${TABLE} values (1) on conflict do nothing`);
  await admin(`create role ${READER} nologin`).catch(() => undefined);
  await admin(`grant select on ${TABLE} to ${READER}`);
});

describe('rotate-on-revoke that reaches the database (time-skipping server, real PostgreSQL)', () => {
  let role: string;
  let first: string;
  let grant: GrantSpec;

  /** A role whose password the demo item holds, as a person set it up before latchkey. */
  beforeEach(async () => {
    role = `it_app_${Date.now().toString(36)}_${++serial}`;
    first = await suite.world.port.local.getItemSecret('vlt_prod', 'itm_prod_db');
    await admin(`create role ${id(role)} login password ${literal(first)} in role ${READER}`);
    const rotator: RotatorSpec = { kind: 'postgres', target: 'it-db', role, endSessions: true };
    grant = { ...shareLinkGrant(true), rotator } as GrantSpec;
  });

  it('at the end, the old password is refused, the item’s new one logs in, and the open session is gone', async () => {
    suite.world.targets = targetsOn(new PostgresTarget({ adminUrl: () => adminUrl, name: 'it-db' }));
    const sut = await suite.started({ grant, durationMs: HOUR });
    await approve(sut, people.alice);
    await statusOf(sut, 'ACTIVE');
    const open = await session(role, first);

    await suite.world.advance(HOUR + MINUTE);
    const final = await statusOf(sut, 'EXPIRED');

    expect(final.grant!.endedBy).toBe('secret-rotated');
    expect(final.grant!.guarantee.statement).toMatch(/^the credential you saw stops working at /);
    const now = await suite.world.port.local.getItemSecret('vlt_prod', 'itm_prod_db');
    expect(now).not.toBe(first);
    expect(await tryLogin(role, first)).toBe('28P01');
    expect(await tryLogin(role, now)).toBe('accepted');
    expect(await sessionAlive(open)).toBe(false);
    await open.end().catch(() => undefined);
    await recordHistory(sut, 'rotated-in-database');
  });

  it('a step that takes effect and then fails, at every step, still leaves exactly one new password, the same in both', async () => {
    const unavailable = () => new TargetError('unavailable', 'the connection ended');
    const failedOnce = new Set<string>();
    // Each call of the target takes effect, then (once per kind of call) its answer is lost.
    const losingAnswers = (rotator: Rotator): Rotator => ({
      async setSecret(secret, reference) {
        await rotator.setSecret(secret, reference);
        if (!failedOnce.has('set') && failedOnce.add('set')) throw unavailable();
      },
      async verify(secret, previous) {
        const check = await rotator.verify(secret, previous);
        if (!failedOnce.has('verify') && failedOnce.add('verify')) throw unavailable();
        return check;
      },
    });
    suite.world.targets = targetsOn(new PostgresTarget({ adminUrl: () => adminUrl, name: 'it-db' }), losingAnswers);
    suite.world.port.applyThenFail('setItemSecret', new OnePasswordError('unavailable', '1Password is unavailable'));
    suite.world.port.applyThenFail('getItemSecret', new OnePasswordError('unavailable', '1Password is unavailable'));
    const sut = await suite.started({ grant, durationMs: HOUR });
    await approve(sut, people.alice);
    await statusOf(sut, 'ACTIVE');

    await suite.world.advance(HOUR + MINUTE);
    const final = await statusOf(sut, 'EXPIRED', MINUTE);

    expect(final.grant!.endedBy).toBe('secret-rotated');
    expect(failedOnce).toEqual(new Set(['set', 'verify']));
    const writes = suite.world.port.callsOf('setItemSecret');
    expect(writes.length).toBe(2); // the lost answer, then its retry
    const written = new Set(writes.map((call) => (call.args[0] as { secret: string }).secret));
    expect(written.size).toBe(1);
    const [secret] = written;
    expect(await suite.world.port.local.getItemSecret('vlt_prod', 'itm_prod_db')).toBe(secret);
    expect(await tryLogin(role, secret)).toBe('accepted');
    expect(await tryLogin(role, first)).toBe('28P01');
    const rotations = (await suite.world.port.local.readState()).rotations.filter((r) => r.itemId === 'itm_prod_db');
    expect(rotations).toHaveLength(1);
    await recordHistory(sut, 'rotation-answers-lost');
  });

  it('1Password failing after the database changed: admins are told at once, and the attempts go on until it holds the secret', async () => {
    suite.world.targets = targetsOn(new PostgresTarget({ adminUrl: () => adminUrl, name: 'it-db' }));
    const unavailable = () => new OnePasswordError('unavailable', '1Password is unavailable');
    suite.world.port.failNext('setItemSecret', unavailable(), unavailable(), unavailable());
    const sut = await suite.started({ grant, durationMs: HOUR });
    await approve(sut, people.alice);
    await statusOf(sut, 'ACTIVE');

    await suite.world.advance(HOUR + MINUTE);
    const final = await statusOf(sut, 'EXPIRED', MINUTE);

    expect(final.grant!.endedBy).toBe('secret-rotated');
    // Attempts 1 and 2 alert (then 4, 8, ...): never silent, never a flood.
    expect(suite.world.notifier.ofKind('rotation-incomplete').map((event) => event.details)).toEqual([
      { attempt: 1 },
      { attempt: 2 },
    ]);
    const now = await suite.world.port.local.getItemSecret('vlt_prod', 'itm_prod_db');
    expect(await tryLogin(role, now)).toBe('accepted');
    expect(await tryLogin(role, first)).toBe('28P01');
  });

  it('a command target gets the new secret on its standard input, then the item', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-command-target-'));
    const received = path.join(dir, 'received');
    const script = path.join(dir, 'rotate.sh');
    fs.writeFileSync(script, `#!/bin/sh\nread -r secret\nprintf '%s' "$secret" > ${received}\n`, { mode: 0o755 });
    const command = new CommandRotator({ command: [script] });
    suite.world.targets = {
      rotator: () => command,
      databaseLogins: () => {
        throw new Error('no logins here');
      },
    };
    const sut = await suite.started({
      grant: { ...shareLinkGrant(true), rotator: { kind: 'command', target: 'payments' } } as GrantSpec,
      durationMs: HOUR,
    });
    await approve(sut, people.alice);
    await statusOf(sut, 'ACTIVE');

    await suite.world.advance(HOUR + MINUTE);
    const final = await statusOf(sut, 'EXPIRED');
    expect(final.grant!.endedBy).toBe('secret-rotated');
    const now = await suite.world.port.local.getItemSecret('vlt_prod', 'itm_prod_db');
    expect(fs.readFileSync(received, 'utf8')).toBe(now);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('two grants of one item ending together: however their steps interleave, the database ends with the item’s secret', async () => {
    const database = new PostgresTarget({ adminUrl: () => adminUrl, name: 'it-db' });
    const activities = createActivities({
      onePassword: () => suite.world.port,
      notifier: suite.world.notifier,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      targets: targetsOn(database),
    });
    const rotator = { kind: 'postgres', target: 'it-db', role, endSessions: true } as const;
    const item = { vaultId: 'vlt_prod', itemId: 'itm_prod_db' };
    const step = (request: string, name: string) => ({
      idempotencyKey: `AccessRequest:${request}:rotate:${name}`,
      integration: 'demo',
      resourceId: 'it',
    });
    const env = new MockActivityEnvironment();
    const prepare = (request: string) =>
      env.run<Parameters<typeof activities.prepareRotation>, PreparedRotation, typeof activities.prepareRotation>(
        activities.prepareRotation,
        {
          ...step(request, 'prepare'),
          ...item,
        },
      );
    const [a, b] = [await prepare('a'), await prepare('b')];
    if (a.gone || b.gone) throw new Error('the item is there');
    // A and B set in the database, then B and A stored: the item holds A, the database B.
    await env.run(activities.setTargetSecret, { ...step('a', 'target'), rotator, secret: a.secret });
    await env.run(activities.setTargetSecret, { ...step('b', 'target'), rotator, secret: b.secret });
    for (const [request, secret] of [
      ['b', b.secret],
      ['a', a.secret],
    ] as const) {
      await env.run(activities.storeItemSecret, { ...step(request, 'item'), ...item, secret, targetChanged: true });
    }
    expect(await tryLogin(role, a.secret)).toBe('28P01');

    await env.run(activities.verifyRotation, {
      ...step('b', 'verify'),
      ...item,
      rotator,
      secret: b.secret,
      previous: first,
    });
    await env.run(activities.verifyRotation, {
      ...step('a', 'verify'),
      ...item,
      rotator,
      secret: a.secret,
      previous: first,
    });

    expect(await suite.world.port.local.getItemSecret('vlt_prod', 'itm_prod_db')).toBe(a.secret);
    expect(await tryLogin(role, a.secret)).toBe('accepted');
    expect(await tryLogin(role, b.secret)).toBe('28P01');
    expect(await tryLogin(role, first)).toBe('28P01');
  });

  it('the database down while access ends: ENDING, retried, admins alerted, then rotated once it is back', async () => {
    let reachable = false;
    const closed = adminUrl.replace(/:(\d+)\//, ':1/');
    suite.world.targets = targetsOn(
      new PostgresTarget({ adminUrl: () => (reachable ? adminUrl : closed), name: 'it-db', connectTimeoutMs: 1_000 }),
    );
    const sut = await suite.started({ grant, durationMs: HOUR, revokeAlertAfterMs: 15 * MINUTE });
    await approve(sut, people.alice);
    await statusOf(sut, 'ACTIVE');

    await suite.world.advance(HOUR + MINUTE);
    await statusOf(sut, 'ENDING');
    for (let moved = 0; moved < 20 * MINUTE; moved += 2 * MINUTE) await suite.world.advance(2 * MINUTE);
    await eventually(() => Promise.resolve(expect(suite.world.notifier.ofKind('revoke-failing')).toHaveLength(1)));
    expect((await stateOf(sut)).status).toBe('ENDING');
    expect(await tryLogin(role, first)).toBe('accepted'); // nothing changed yet: the database was never reached

    reachable = true;
    const final = await statusOf(sut, 'EXPIRED', 10 * MINUTE);
    expect(final.grant!.endedBy).toBe('secret-rotated');
    expect(await tryLogin(role, first)).toBe('28P01');
    expect(await tryLogin(role, await suite.world.port.local.getItemSecret('vlt_prod', 'itm_prod_db'))).toBe(
      'accepted',
    );
  });
});

describe('database-role: a login of the request’s own (time-skipping server, real PostgreSQL)', () => {
  const grant: GrantSpec = {
    mode: 'database-role',
    target: 'it-db',
    vaultId: 'vlt_logins',
    memberOf: [READER],
    connectionLimit: 2,
  };
  const flow = {
    grant,
    resource: { id: 'it-login', name: 'A login of your own', type: 'database' as const, vaultId: 'vlt_logins' },
    approval: { automatic: true, tiers: [], allowSelfApproval: false },
    durationMs: HOUR,
  };

  beforeEach(() => {
    suite.world.targets = targetsOn(new PostgresTarget({ adminUrl: () => adminUrl, name: 'it-db' }));
  });

  /** What the requester sees after opening the share link: the login's fields. */
  async function openedLogin(sut: Awaited<ReturnType<typeof suite.started>>) {
    const access = await sut.query(grantAccessQuery);
    const view = await suite.world.port.local.viewShareLink(access!.shareUrl!, REQUESTER.email);
    const field = (title: string) => view.fields.find((candidate) => candidate.title === title)!.value;
    return { access: access!, username: field('username'), password: field('password') };
  }

  it('grants a login that works, refused by the database after the end; revoking ends its session, drops it and deletes its item', async () => {
    const sut = await suite.started(flow);
    const active = await statusOf(sut, 'ACTIVE');
    const requestId = active.requestId;
    const { access, username, password } = await openedLogin(sut);
    expect(access.mode).toBe('database-role');
    expect(access.databaseRole).toBe(databaseLoginRole(requestId));
    expect(username).toBe(databaseLoginRole(requestId));
    expect(active.grant!.guarantee.statement).toBe(
      `a database login of your own, refused by the database after ${active.grant!.endsAt}`,
    );
    const [row] = await admin('select rolvaliduntil, rolconnlimit from pg_roles where rolname = $1', [username]);
    expect(new Date(row.rolvaliduntil as string).toISOString()).toBe(active.grant!.endsAt);
    expect(row.rolconnlimit).toBe(2);
    const open = await session(username, password);
    expect(await tryLogin(username, password)).toBe('accepted');

    const final = await sut.executeUpdate(revokeUpdate, { args: [toSign({ actor: people.bob, reason: 'done' })] });
    expect(final.status).toBe('REVOKED');
    expect(final.grant!.endedBy).toBe('login-dropped');
    expect(await sessionAlive(open)).toBe(false);
    await open.end().catch(() => undefined);
    expect(await admin('select 1 from pg_roles where rolname = $1', [username])).toEqual([]);
    expect(await tryLogin(username, password)).toBe('28P01');
    expect(await suite.world.port.local.findItemId('vlt_logins', databaseLoginItemTitle(requestId))).toBeUndefined();
    await recordHistory(sut, 'database-login-revoked');
  });

  it('an extension moves VALID UNTIL to the new end', async () => {
    const sut = await suite.started({
      ...flow,
      extensions: { maxCount: 1, maxExtensionMs: HOUR, requireApproval: false },
    });
    const active = await statusOf(sut, 'ACTIVE');
    const extended = await sut.executeUpdate(extendUpdate, {
      args: [toSign({ actor: people.bob, addMs: 30 * MINUTE })],
    });
    const role = databaseLoginRole(active.requestId);
    const [row] = await admin('select rolvaliduntil from pg_roles where rolname = $1', [role]);
    expect(new Date(row.rolvaliduntil as string).toISOString()).toBe(extended.grant!.endsAt);
    expect(Date.parse(extended.grant!.endsAt) - Date.parse(active.grant!.endsAt)).toBe(30 * MINUTE);

    await suite.world.advance(HOUR + 31 * MINUTE);
    const final = await statusOf(sut, 'EXPIRED');
    expect(final.grant!.endedBy).toBe('login-dropped');
    expect(await admin('select 1 from pg_roles where rolname = $1', [role])).toEqual([]);
    await recordHistory(sut, 'database-login-extended-then-expired');
  });

  it('a login made before the item could be made is dropped: the request FAILED and nothing is left', async () => {
    const refused = () => new OnePasswordError('forbidden', 'the service account may not write to this vault');
    suite.world.port.failNext('createItem', refused());
    const sut = await suite.started(flow);
    const final = await statusOf(sut, 'FAILED');
    expect(await admin('select 1 from pg_roles where rolname = $1', [databaseLoginRole(final.requestId)])).toEqual([]);
  });
});
