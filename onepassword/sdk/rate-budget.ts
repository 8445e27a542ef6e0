import { setTimeout as sleep } from 'node:timers/promises';
import type { OnePasswordPlan } from '../../domain/vault-permissions';
import { OnePasswordError } from '../port';
import { HOUR_MS, MemoryRateLedger, type RateLedger, type RequestKind } from './rate-ledger';

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

export interface RateBudgetOptions {
  limits?: RateLimits;
  /** Where the requests are counted: in this process unless workers share a ledger (PostgresRateLedger). */
  ledger?: RateLedger;
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
  /** The counts above are every worker's (a shared ledger) or this process's. */
  shared: boolean;
  /** This process's: */
  waits: number;
  waitedMs: number;
  /** Requests latchkey refused itself (budget spent for longer than maxWaitMs). */
  refusals: number;
  /** Rate-limit answers received from 1Password despite the budget. */
  rateLimitedBy1Password: number;
  blockedUntil?: string;
}

const MIN_PENALTY_MS = 60_000;

export class RateBudget {
  private readonly limits: RateLimits;
  private readonly ledger: RateLedger;
  private readonly headroom: number;
  private readonly maxWaitMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private waits = 0;
  private waitedMs = 0;
  private refusals = 0;
  private rateLimitedBy1Password = 0;

  constructor(options: RateBudgetOptions = {}) {
    this.limits = options.limits ?? BUSINESS_LIMITS;
    this.ledger = options.ledger ?? new MemoryRateLedger();
    this.headroom = options.headroom ?? 0.05;
    this.maxWaitMs = options.maxWaitMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => sleep(ms));
  }

  /** Resolves when one more request of this kind fits the budget, and counts it. */
  async acquire(kind: RequestKind): Promise<void> {
    const windows = {
      hourly: this.allowed(kind === 'read' ? this.limits.readsPerHour : this.limits.writesPerHour),
      daily: this.allowed(this.limits.requestsPerDay),
    };
    for (;;) {
      const wait = await this.ledger.tryCount(kind, windows, this.now());
      if (wait <= 0) return;
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
  }

  /**
   * 1Password answered "rate limited": stop sending until its window resets, and say how long that is.
   * Its hourly window starts with the first request in it, so it resets an hour after the oldest
   * request counted in the last hour (a minute at least, when latchkey counted none: another user of
   * the token spent it).
   */
  async penalize(): Promise<number> {
    const now = this.now();
    const oldest = await this.ledger.oldestInLastHour(now);
    const wait = Math.max(MIN_PENALTY_MS, oldest === undefined ? 0 : oldest + HOUR_MS - now);
    this.rateLimitedBy1Password += 1;
    return (await this.ledger.blockUntil(now + wait)) - now;
  }

  async snapshot(): Promise<BudgetSnapshot> {
    const now = this.now();
    const counts = await this.ledger.counts(now);
    return {
      limits: { ...this.limits },
      readsLastHour: counts.readsLastHour,
      writesLastHour: counts.writesLastHour,
      requestsLastDay: counts.requestsLastDay,
      readsAllowedPerHour: this.allowed(this.limits.readsPerHour),
      writesAllowedPerHour: this.allowed(this.limits.writesPerHour),
      requestsAllowedPerDay: this.allowed(this.limits.requestsPerDay),
      shared: !(this.ledger instanceof MemoryRateLedger),
      waits: this.waits,
      waitedMs: this.waitedMs,
      refusals: this.refusals,
      rateLimitedBy1Password: this.rateLimitedBy1Password,
      blockedUntil: counts.blockedUntil > now ? new Date(counts.blockedUntil).toISOString() : undefined,
    };
  }

  private allowed(limit: number): number {
    return Math.max(1, Math.floor(limit * (1 - this.headroom)));
  }
}
