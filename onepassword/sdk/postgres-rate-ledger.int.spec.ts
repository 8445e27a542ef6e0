import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Pool } from 'pg';
import { adminQuery, testPostgresAdminUrl } from '../../test/support/postgres';
import { OnePasswordError } from '../port';
import { PostgresRateLedger } from './postgres-rate-ledger';
import { RateBudget } from './rate-budget';
import { ensureRateLedgerDatabase, RATE_LEDGER_DATABASE } from './rate-ledger-database';
import { HOUR_MS } from './rate-ledger';

/**
 * Two workers on two hosts share one PostgreSQL ledger: each has its own connections and its own RateBudget,
 * as two processes would. What one spends, the other sees.
 */
describe(PostgresRateLedger.name, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-rate-ledger-'));
  const urlFile = path.join(dir, 'database-url');
  const pools: Pool[] = [];
  let now: number;

  /** A worker's connections, as the worker makes them: from the URL file `rate-ledger init` wrote. */
  const host = (budget = 'demo') => {
    const pool = new Pool({ connectionString: fs.readFileSync(urlFile, 'utf8').trim(), max: 3 });
    pools.push(pool);
    return new PostgresRateLedger({ pool, budget });
  };
  const budgetOn = (
    ledger: PostgresRateLedger,
    limits = { readsPerHour: 100, writesPerHour: 10, requestsPerDay: 1_000 },
  ) => new RateBudget({ ledger, limits, headroom: 0, maxWaitMs: 0, now: () => now });

  beforeAll(async () => {
    expect(await ensureRateLedgerDatabase(testPostgresAdminUrl(), urlFile)).toBe(true);
    // Made once: a second run keeps the URL, and with it the role's password.
    const url = fs.readFileSync(urlFile, 'utf8');
    expect(await ensureRateLedgerDatabase(testPostgresAdminUrl(), urlFile)).toBe(false);
    expect(fs.readFileSync(urlFile, 'utf8')).toBe(url);
    expect(fs.statSync(urlFile).mode & 0o777).toBe(0o600);
  });

  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.end()));
    await adminQuery(`DROP DATABASE IF EXISTS ${RATE_LEDGER_DATABASE} WITH (FORCE)`);
    await adminQuery(`DROP ROLE IF EXISTS ${RATE_LEDGER_DATABASE}`);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    now = Date.now();
  });

  it('holds the hourly write limit across two hosts that race for the last slots', async () => {
    const [a, b] = [budgetOn(host('race')), budgetOn(host('race'))];
    // 30 writes asked at once, 15 on each host, against a limit of 10.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b).acquire('write')),
    );
    const granted = outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
    expect(granted).toBe(10);
    const refusals = outcomes.filter((outcome) => outcome.status === 'rejected');
    for (const refusal of refusals) {
      expect(refusal.reason).toBeInstanceOf(OnePasswordError);
      expect(refusal.reason).toMatchObject({ kind: 'rate-limited' });
    }
    // Each host reports the shared counts.
    expect(await a.snapshot()).toMatchObject({ writesLastHour: 10, shared: true });
    expect(await b.snapshot()).toMatchObject({ writesLastHour: 10, requestsLastDay: 10 });
    // Reads have a window of their own.
    await b.acquire('read');
  });

  it('frees a slot when the oldest counted request leaves the hour, on every host', async () => {
    const [a, b] = [budgetOn(host('window')), budgetOn(host('window'))];
    for (let i = 0; i < 10; i++) {
      await (i < 5 ? a : b).acquire('write');
      now += 1_000;
    }
    await expect(a.acquire('write')).rejects.toMatchObject({ kind: 'rate-limited', retryAfterMs: HOUR_MS - 10_000 });
    now += HOUR_MS - 10_000;
    await b.acquire('write');
  });

  it("shares 1Password's rate-limit answer: a host told to wait blocks the other too", async () => {
    const [a, b] = [budgetOn(host('penalty')), budgetOn(host('penalty'))];
    await a.acquire('read');
    now += 20 * 60_000;
    expect(await b.penalize()).toBe(40 * 60_000);
    await expect(a.acquire('read')).rejects.toMatchObject({ kind: 'rate-limited', retryAfterMs: 40 * 60_000 });
    expect((await a.snapshot()).blockedUntil).toBe(new Date(now + 40 * 60_000).toISOString());
  });

  it('keeps budgets apart: one integration spending its limit leaves another untouched', async () => {
    const alpha = budgetOn(host('alpha'));
    const beta = budgetOn(host('beta'));
    for (let i = 0; i < 10; i++) await alpha.acquire('write');
    await expect(alpha.acquire('write')).rejects.toMatchObject({ kind: 'rate-limited' });
    await beta.acquire('write');
  });

  it('counts in the process while the database cannot be reached, and says so once', async () => {
    const told: boolean[] = [];
    const pool = new Pool({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 500 });
    pools.push(pool);
    const ledger = new PostgresRateLedger({ pool, budget: 'down', onFallback: (failing) => told.push(failing) });
    const budget = budgetOn(ledger);
    for (let i = 0; i < 10; i++) await budget.acquire('write');
    // The local count still holds the limit while the shared one is out of reach.
    await expect(budget.acquire('write')).rejects.toMatchObject({ kind: 'rate-limited' });
    expect(told).toEqual([true]);
    expect(await budget.snapshot()).toMatchObject({ writesLastHour: 10 });
  });
});
