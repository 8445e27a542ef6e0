/**
 * Where a rate budget counts its 1Password requests. 1Password's limits are per service-account token and
 * per account, whichever host sends the request, so workers on several hosts must count in one place
 * (PostgresRateLedger); a single worker may count in memory (MemoryRateLedger).
 *
 * Times are the caller's milliseconds since the epoch: the calls that read the windows take `now`.
 */
export interface RateLedger {
  /**
   * Counts one request of `kind` when neither window is full and no block holds, as one atomic step (two
   * hosts never both take the last slot). Answers 0 when it counted the request, otherwise how many
   * milliseconds until the windows can take it (nothing counted).
   */
  tryCount(kind: RequestKind, windows: Windows, now: number): Promise<number>;
  /** Blocks every request until `until` (the later of this and a block already held). Answers the block's end. */
  blockUntil(until: number): Promise<number>;
  /** The oldest request counted in the last hour, of either kind. */
  oldestInLastHour(now: number): Promise<number | undefined>;
  counts(now: number): Promise<LedgerCounts>;
}

export type RequestKind = 'read' | 'write';

/** How many requests each window may hold (the limits less headroom). */
export interface Windows {
  /** Of the kind asked for, in the last hour. */
  hourly: number;
  /** Of both kinds, in the last day. */
  daily: number;
}

export interface LedgerCounts {
  readsLastHour: number;
  writesLastHour: number;
  requestsLastDay: number;
  blockedUntil: number;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/**
 * How long until a full window has room: it frees a slot when the allowed-th newest request in it (undefined:
 * the window holds fewer than allowed) leaves it.
 */
export function waitForRoom(allowedThNewest: number | undefined, windowMs: number, now: number): number {
  return allowedThNewest === undefined ? 0 : allowedThNewest + windowMs - now;
}

/** The ledger of one process: its own requests only. */
export class MemoryRateLedger implements RateLedger {
  private readonly reads: number[] = [];
  private readonly writes: number[] = [];
  private readonly all: number[] = [];
  private blocked = 0;

  tryCount(kind: RequestKind, windows: Windows, now: number): Promise<number> {
    this.prune(now);
    const hourly = kind === 'read' ? this.reads : this.writes;
    const wait = Math.max(
      this.blocked - now,
      waitForRoom(nthNewest(hourly, windows.hourly), HOUR_MS, now),
      waitForRoom(nthNewest(this.all, windows.daily), DAY_MS, now),
    );
    if (wait <= 0) {
      hourly.push(now);
      this.all.push(now);
    }
    return Promise.resolve(Math.max(0, wait));
  }

  blockUntil(until: number): Promise<number> {
    this.blocked = Math.max(this.blocked, until);
    return Promise.resolve(this.blocked);
  }

  oldestInLastHour(now: number): Promise<number | undefined> {
    this.prune(now);
    const oldest = Math.min(this.reads[0] ?? Infinity, this.writes[0] ?? Infinity);
    return Promise.resolve(Number.isFinite(oldest) ? oldest : undefined);
  }

  counts(now: number): Promise<LedgerCounts> {
    this.prune(now);
    return Promise.resolve({
      readsLastHour: this.reads.length,
      writesLastHour: this.writes.length,
      requestsLastDay: this.all.length,
      blockedUntil: this.blocked,
    });
  }

  private prune(now: number): void {
    dropOlderThan(this.reads, now - HOUR_MS);
    dropOlderThan(this.writes, now - HOUR_MS);
    dropOlderThan(this.all, now - DAY_MS);
  }
}

function nthNewest(oldestFirst: number[], n: number): number | undefined {
  return oldestFirst.length >= n ? oldestFirst[oldestFirst.length - n] : undefined;
}

function dropOlderThan(times: number[], cutoff: number): void {
  let stale = 0;
  while (stale < times.length && times[stale] <= cutoff) stale++;
  if (stale > 0) times.splice(0, stale);
}
