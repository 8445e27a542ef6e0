import type { ApprovalSpec } from '../contracts/snapshot';

/** When things happen to a pending request: escalation to the next tier, reminders to approvers. */

/** Escalation schedule: when tier `tier + 1` is asked, counted from when `tier` was asked. */
export function nextEscalationAt(approval: ApprovalSpec, tier: number, tierAskedAtMs: number): number | undefined {
  const after = approval.tiers[tier]?.escalateAfterMs;
  if (after === undefined || tier + 1 >= approval.tiers.length) return undefined;
  return tierAskedAtMs + after;
}

/** Reminders every interval from the request's start, strictly before the pending deadline. */
export function nextReminderAt(
  startMs: number,
  intervalMs: number | undefined,
  nowMs: number,
  deadlineMs: number,
): number | undefined {
  if (!intervalMs || intervalMs <= 0) return undefined;
  const next = startMs + (Math.floor((nowMs - startMs) / intervalMs) + 1) * intervalMs;
  return next < deadlineMs ? next : undefined;
}

/** Backoff between failed revoke attempts: doubling from 1 s, capped. */
export function revokeBackoffMs(failedAttempts: number, capMs = 300_000): number {
  return Math.min(capMs, 1_000 * 2 ** Math.max(0, Math.min(failedAttempts - 1, 30)));
}
