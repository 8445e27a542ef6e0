import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
import { DEMO_DATABASE, PostgresStartError, seedDemoDatabase, startPostgres, type RunningPostgres } from './postgres';

const quiet = () => undefined;

describe(startPostgres.name, () => {
  let dir: string;
  let running: RunningPostgres | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-postgres-spec-'));
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('initialises a cluster once and reuses it on the next start, with the same admin password', async () => {
    running = await startPostgres({ dir, log: quiet });
    const first = running;
    expect(first.initialised).toBe(true);
    expect((fs.statSync(path.join(dir, 'admin-password')).mode & 0o777).toString(8)).toBe('600');
    await query(first.adminUrl, 'create table kept (id integer)');
    await first.stop();

    running = await startPostgres({ dir, log: quiet });
    expect(running.initialised).toBe(false);
    expect(running.adminUrl.replace(/@.*/, '')).toBe(first.adminUrl.replace(/@.*/, ''));
    expect(await query(running.adminUrl, "select to_regclass('kept')::text as t")).toEqual([{ t: 'kept' }]);
  });

  it('accepts scram-sha-256 only, on 127.0.0.1', async () => {
    running = await startPostgres({ dir, log: quiet });
    const hba = await query(running.adminUrl, 'select distinct auth_method from pg_hba_file_rules');
    expect(hba).toEqual([{ auth_method: 'scram-sha-256' }]);
    expect(await query(running.adminUrl, 'show listen_addresses')).toEqual([{ listen_addresses: '127.0.0.1' }]);
  });

  it('says why it did not start (the log’s tail), without the admin password', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const error = await startPostgres({ dir, port, log: quiet }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PostgresStartError);
      expect((error as Error).message).toMatch(/did not start on 127\.0\.0\.1:\d+.*Address already in use/s);
      expect((error as Error).message).not.toContain(fs.readFileSync(path.join(dir, 'admin-password'), 'utf8').trim());
    } finally {
      blocker.close();
    }
  });
});

describe(seedDemoDatabase.name, () => {
  // A server of its own: the integration tier's is seeded by other files with passwords of their own.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-postgres-seed-'));
  let running: RunningPostgres | undefined;
  afterAll(async () => {
    await running?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is idempotent and sets reporting’s password only when it creates the role', async () => {
    running = await startPostgres({ dir, log: quiet });
    const { adminUrl } = running;
    await seedDemoDatabase(adminUrl, 'first-password');
    await seedDemoDatabase(adminUrl, 'second-password');

    const asReporting = (password: string) =>
      query(adminUrl, `select count(*)::int as n from ${DEMO_DATABASE.table}`, {
        user: DEMO_DATABASE.loginRole,
        password,
        database: DEMO_DATABASE.database,
      });
    expect(await asReporting('first-password')).toEqual([{ n: 3 }]);
    await expect(asReporting('second-password')).rejects.toMatchObject({ code: '28P01' });
    const reportingRead = await query(adminUrl, 'select rolcanlogin from pg_roles where rolname = $1', [
      DEMO_DATABASE.readRole,
    ]);
    expect(reportingRead).toEqual([{ rolcanlogin: false }]);
  });
});

async function query(
  url: string,
  text: string,
  asOrParams: { user: string; password: string; database: string } | unknown[] = [],
): Promise<unknown[]> {
  const login = Array.isArray(asOrParams) ? {} : asOrParams;
  const client = new Client({ ...parseIntoClientConfig(url), ...login });
  await client.connect();
  try {
    return (await client.query<Record<string, unknown>>(text, Array.isArray(asOrParams) ? asOrParams : [])).rows;
  } finally {
    await client.end();
  }
}
