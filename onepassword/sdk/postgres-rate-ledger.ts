import type { Pool, PoolClient } from 'pg';
import {
  DAY_MS,
  HOUR_MS,
  MemoryRateLedger,
  type LedgerCounts,
  type RateLedger,
  type RequestKind,
  type Windows,
  waitForRoom,
} from './rate-ledger';

/**
 * The rate ledger that workers on several hosts share: one PostgreSQL database, each budget's requests
 * in one table, checked and counted under a transaction-scoped advisory lock on the budget so that two
 * workers never both take its last slot. Requests older than a day are deleted as the ledger goes.
 *
 * The budget is a courtesy to 1Password, which enforces its limits itself (latchkey then backs off, see
 * RateBudget.penalize); ending access must never wait on it. So when the database cannot be reached the
 * ledger counts in this process instead, and says so once, until the database answers again.
 */
export interface PostgresRateLedgerOptions {
  pool: Pool;
  /** The budget's name: the integration, whose service-account token the limits are counted against. */
  budget: string;
  /** Told once when the database fails and the ledger counts locally, and once when it is back. */
  onFallback?: (failing: boolean, error?: unknown) => void;
}

export const RATE_LEDGER_SCHEMA = `
CREATE TABLE IF NOT EXISTS latchkey_onepassword_requests (
  budget text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('read', 'write')),
  at_ms bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS latchkey_onepassword_requests_by_kind
  ON latchkey_onepassword_requests (budget, kind, at_ms DESC);
CREATE INDEX IF NOT EXISTS latchkey_onepassword_requests_by_time
  ON latchkey_onepassword_requests (budget, at_ms DESC);
CREATE TABLE IF NOT EXISTS latchkey_onepassword_blocks (
  budget text PRIMARY KEY,
  until_ms bigint NOT NULL
);`;

/** Every this many requests counted, this process deletes the budget's requests older than a day. */
const PRUNE_EVERY = 200;

export class PostgresRateLedger implements RateLedger {
  private readonly pool: Pool;
  private readonly budget: string;
  private readonly fallback = new MemoryRateLedger();
  private readonly onFallback: (failing: boolean, error?: unknown) => void;
  private schema?: Promise<void>;
  private failing = false;
  private countedSincePrune = 0;

  constructor(options: PostgresRateLedgerOptions) {
    this.pool = options.pool;
    this.budget = options.budget;
    this.onFallback = options.onFallback ?? (() => undefined);
  }

  tryCount(kind: RequestKind, windows: Windows, now: number): Promise<number> {
    return this.shared(
      () =>
        this.locked(async (db) => {
          const nth = (sql: string, params: unknown[]) =>
            db.query<{ at_ms: string }>(sql, params).then((r) => (r.rows[0] ? Number(r.rows[0].at_ms) : undefined));
          const blocked = await this.blockedUntil(db);
          const hourly = await nth(
            `SELECT at_ms FROM latchkey_onepassword_requests WHERE budget = $1 AND kind = $2 AND at_ms > $3
             ORDER BY at_ms DESC OFFSET $4 LIMIT 1`,
            [this.budget, kind, now - HOUR_MS, windows.hourly - 1],
          );
          const daily = await nth(
            `SELECT at_ms FROM latchkey_onepassword_requests WHERE budget = $1 AND at_ms > $2
             ORDER BY at_ms DESC OFFSET $3 LIMIT 1`,
            [this.budget, now - DAY_MS, windows.daily - 1],
          );
          const wait = Math.max(blocked - now, waitForRoom(hourly, HOUR_MS, now), waitForRoom(daily, DAY_MS, now));
          if (wait > 0) return wait;
          await db.query('INSERT INTO latchkey_onepassword_requests (budget, kind, at_ms) VALUES ($1, $2, $3)', [
            this.budget,
            kind,
            now,
          ]);
          if (++this.countedSincePrune >= PRUNE_EVERY) {
            this.countedSincePrune = 0;
            await db.query('DELETE FROM latchkey_onepassword_requests WHERE budget = $1 AND at_ms <= $2', [
              this.budget,
              now - DAY_MS,
            ]);
          }
          return 0;
        }),
      () => this.fallback.tryCount(kind, windows, now),
    );
  }

  blockUntil(until: number): Promise<number> {
    return this.shared(
      async () => {
        await this.ready();
        const result = await this.pool.query<{ until_ms: string }>(
          `INSERT INTO latchkey_onepassword_blocks (budget, until_ms) VALUES ($1, $2)
           ON CONFLICT (budget) DO UPDATE SET until_ms = GREATEST(latchkey_onepassword_blocks.until_ms, EXCLUDED.until_ms)
           RETURNING until_ms`,
          [this.budget, until],
        );
        return Number(result.rows[0].until_ms);
      },
      () => this.fallback.blockUntil(until),
    );
  }

  oldestInLastHour(now: number): Promise<number | undefined> {
    return this.shared(
      async () => {
        await this.ready();
        const result = await this.pool.query<{ oldest: string | null }>(
          'SELECT min(at_ms) AS oldest FROM latchkey_onepassword_requests WHERE budget = $1 AND at_ms > $2',
          [this.budget, now - HOUR_MS],
        );
        const oldest = result.rows[0]?.oldest;
        return oldest === null || oldest === undefined ? undefined : Number(oldest);
      },
      () => this.fallback.oldestInLastHour(now),
    );
  }

  counts(now: number): Promise<LedgerCounts> {
    return this.shared(
      async () => {
        await this.ready();
        const result = await this.pool.query<{ reads: string; writes: string; day: string }>(
          `SELECT count(*) FILTER (WHERE kind = 'read' AND at_ms > $2) AS reads,
                  count(*) FILTER (WHERE kind = 'write' AND at_ms > $2) AS writes,
                  count(*) AS day
           FROM latchkey_onepassword_requests WHERE budget = $1 AND at_ms > $3`,
          [this.budget, now - HOUR_MS, now - DAY_MS],
        );
        const row = result.rows[0];
        return {
          readsLastHour: Number(row.reads),
          writesLastHour: Number(row.writes),
          requestsLastDay: Number(row.day),
          blockedUntil: await this.blockedUntil(this.pool),
        };
      },
      () => this.fallback.counts(now),
    );
  }

  /**
   * Creates the tables once per process (any worker may be the first). Under a lock: PostgreSQL's CREATE ... IF
   * NOT EXISTS is not safe against another session doing the same at once. A failure is tried again next call.
   */
  private ready(): Promise<void> {
    this.schema ??= this.transaction(async (db) => {
      await db.query("SELECT pg_advisory_xact_lock(hashtextextended('latchkey-onepassword-budget-schema', 0))");
      await db.query(RATE_LEDGER_SCHEMA);
    }).catch((error: unknown) => {
      this.schema = undefined;
      throw error;
    });
    return this.schema;
  }

  private async locked<T>(work: (db: PoolClient) => Promise<T>): Promise<T> {
    await this.ready();
    return this.transaction(async (db) => {
      await db.query("SELECT pg_advisory_xact_lock(hashtextextended('latchkey-onepassword-budget:' || $1, 0))", [
        this.budget,
      ]);
      return work(db);
    });
  }

  private async transaction<T>(work: (db: PoolClient) => Promise<T>): Promise<T> {
    const db = await this.pool.connect();
    try {
      await db.query('BEGIN');
      const result = await work(db);
      await db.query('COMMIT');
      return result;
    } catch (error) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      db.release();
    }
  }

  private async blockedUntil(db: Pool | PoolClient): Promise<number> {
    const result = await db.query<{ until_ms: string }>(
      'SELECT until_ms FROM latchkey_onepassword_blocks WHERE budget = $1',
      [this.budget],
    );
    return result.rows[0] ? Number(result.rows[0].until_ms) : 0;
  }

  /** The shared answer, or this process's own while the database fails. */
  private async shared<T>(work: () => Promise<T>, local: () => Promise<T>): Promise<T> {
    try {
      const answer = await work();
      if (this.failing) {
        this.failing = false;
        this.onFallback(false);
      }
      return answer;
    } catch (error) {
      if (!this.failing) {
        this.failing = true;
        this.onFallback(true, error);
      }
      return local();
    }
  }
}
