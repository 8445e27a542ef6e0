import { setTimeout as sleep } from 'node:timers/promises';
import type { OnePasswordPlan } from '../../domain/vault-permissions';
import { OnePasswordError } from '../port';

/**
 * latchkey's own count of its 1Password requests against the service account's limits, so that it
 * slows down before 1Password refuses. 1Password's windows start with the first request; sliding
 * windows used here are never looser than that.
 */
export interface RateLimits {
  /** Per service-account token per hour. */
  readsPerHour: number;
  writesPerHour: number;
  /** Per 1Password account per day (all service accounts together). */
  requestsPerDay: number;
}

export const BUSINESS_LIMITS: RateLimits = { readsPerHour: 10_000, writesPerHour: 1_000, requestsPerDay: 50_000 };
export const TEAMS_LIMITS: RateLimits = { readsPerHour: 1_000, writesPerHour: 100, requestsPerDay: 5_000 };
export const RATE_LIMITS: Record<OnePasswordPlan, RateLimits> = { business: BUSINESS_LIMITS, teams: TEAMS_LIMITS };

export type RequestKind = 'read' | 'write';

export interface RateBudgetOptions {
  limits?: RateLimits;
  /** Share of each limit kept free for other users of the token (the `op` CLI, people). */
  headroom?: number;
  /** Wait at most this long for budget; beyond it, fail as rate-limited so the activity retries later. */
  maxWaitMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface BudgetSnapshot {
  limits: RateLimits;
  readsLastHour: number;
  writesLastHour: number;
  requestsLastDay: number;
  /** What latchkey lets itself use (limits minus headroom). */
  readsAllowedPerHour: number;
  writesAllowedPerHour: number;
  requestsAllowedPerDay: number;
  waits: number;
  waitedMs: number;
  /** Requests latchkey refused itself (budget spent for longer than maxWaitMs). */
  refusals: number;
  /** Rate-limit answers received from 1Password despite the budget. */
  rateLimitedBy1Password: number;
  blockedUntil?: string;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const MIN_PENALTY_MS = 60_000;

export class RateBudget {
  private readonly limits: RateLimits;
  private readonly headroom: number;
  private readonly maxWaitMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly reads: number[] = [];
  private readonly writes: number[] = [];
  private readonly all: number[] = [];
  private blockedUntil = 0;
  private waits = 0;
  private waitedMs = 0;
  private refusals = 0;
  private rateLimitedBy1Password = 0;

  constructor(options: RateBudgetOptions = {}) {
    this.limits = options.limits ?? BUSINESS_LIMITS;
    this.headroom = options.headroom ?? 0.05;
    this.maxWaitMs = options.maxWaitMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => sleep(ms));
  }

  /** Resolves when one more request of this kind fits the budget, and counts it. */
  async acquire(kind: RequestKind): Promise<void> {
    for (;;) {
      const now = this.now();
      const wait = this.waitNeeded(kind, now);
      if (wait <= 0) break;
      if (wait > this.maxWaitMs) {
        this.refusals += 1;
        throw new OnePasswordError(
          'rate-limited',
          `latchkey is holding back: the 1Password ${kind} budget is spent for the next ${Math.ceil(wait / 1000)} s`,
          wait,
        );
      }
      this.waits += 1;
      this.waitedMs += wait;
      await this.sleep(wait);
    }
    const at = this.now();
    (kind === 'read' ? this.reads : this.writes).push(at);
    this.all.push(at);
  }

  /**
   * 1Password answered "rate limited": stop sending until its window resets, and say how long that is.
   * Its hourly window starts with the first request in it, so it resets an hour after the oldest
   * request counted in the last hour (a minute at least, when latchkey counted none: another user of
   * the token spent it).
   */
  penalize(): number {
    const now = this.now();
    this.prune(now);
    const oldest = Math.min(this.reads[0] ?? Infinity, this.writes[0] ?? Infinity);
    const wait = Math.max(MIN_PENALTY_MS, Number.isFinite(oldest) ? oldest + HOUR_MS - now : 0);
    this.rateLimitedBy1Password += 1;
    this.blockedUntil = Math.max(this.blockedUntil, now + wait);
    return this.blockedUntil - now;
  }

  snapshot(): BudgetSnapshot {
    const now = this.now();
    this.prune(now);
    return {
      limits: { ...this.limits },
      readsLastHour: this.reads.length,
      writesLastHour: this.writes.length,
      requestsLastDay: this.all.length,
      readsAllowedPerHour: this.allowed(this.limits.readsPerHour),
      writesAllowedPerHour: this.allowed(this.limits.writesPerHour),
      requestsAllowedPerDay: this.allowed(this.limits.requestsPerDay),
      waits: this.waits,
      waitedMs: this.waitedMs,
      refusals: this.refusals,
      rateLimitedBy1Password: this.rateLimitedBy1Password,
      blockedUntil: this.blockedUntil > now ? new Date(this.blockedUntil).toISOString() : undefined,
    };
  }

  private allowed(limit: number): number {
    return Math.max(1, Math.floor(limit * (1 - this.headroom)));
  }

  private waitNeeded(kind: RequestKind, now: number): number {
    this.prune(now);
    const hourly = kind === 'read' ? this.reads : this.writes;
    const hourlyAllowed = this.allowed(kind === 'read' ? this.limits.readsPerHour : this.limits.writesPerHour);
    const dailyAllowed = this.allowed(this.limits.requestsPerDay);
    return Math.max(
      this.blockedUntil - now,
      // The window frees a slot when its oldest counted request is older than the window.
      hourly.length >= hourlyAllowed ? hourly[hourly.length - hourlyAllowed] + HOUR_MS - now : 0,
      this.all.length >= dailyAllowed ? this.all[this.all.length - dailyAllowed] + DAY_MS - now : 0,
    );
  }

  private prune(now: number): void {
    dropOlderThan(this.reads, now - HOUR_MS);
    dropOlderThan(this.writes, now - HOUR_MS);
    dropOlderThan(this.all, now - DAY_MS);
  }
}

function dropOlderThan(times: number[], cutoff: number): void {
  let stale = 0;
  while (stale < times.length && times[stale] <= cutoff) stale++;
  if (stale > 0) times.splice(0, stale);
}
