import { ActivityCancellationType, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { LatchkeyActivities } from '../activities';

/**
 * How the workflows call activities: the timeouts and retry policies stated in one place, where a
 * reader of the workflows looks for them.
 */

/** A lost notification must never stop a request: a few attempts, then the workflow logs and goes on. */
export const { notify } = proxyActivities<LatchkeyActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 5 },
});

/**
 * Grants retry transient 1Password failures for a while; non-retryable ones end the request FAILED.
 * Grants heartbeat, so a dead worker is noticed and the grant retried elsewhere; the next attempt reads
 * what the last one left in its heartbeat details (the link it made, or since when it was making one, so
 * that two attempts never write at once). A withdrawal or revoke while granting cancels the grant, and
 * the workflow waits until the attempt in flight has settled (it may have made the link).
 */
export const granting = proxyActivities<LatchkeyActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 20 },
});

/**
 * Ending access never gives up: Temporal retries every failure without limit, which adds no event to
 * history however long 1Password is away, at most ten minutes apart unless 1Password asks for longer
 * (a rate limit) or only a person can unblock it (the activity then waits 15 minutes and tells admins).
 */
export const ending = proxyActivities<LatchkeyActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 minutes' }, // unlimited
});

/**
 * The steps of a rotation and of dropping a database login: retried without limit like every end of access,
 * and heartbeating, so that a worker killed in the middle of a step is noticed within seconds and the same step
 * runs again elsewhere (a command target may take a minute of its own).
 */
export const endingSteps = proxyActivities<LatchkeyActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 minutes' }, // unlimited
});

/** What 1Password holds, read before a fresh lease acts: retried like the end of access. */
export const reading = ending;

/**
 * One attempt per call, for requests and leases started before the patches `access-always-ends` and
 * `lease-converges`: their workflow loops and counts the attempts itself.
 */
export const endingOnce = proxyActivities<LatchkeyActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 1 },
});

/** Delivering a lease message to the entity workflow must not give up. */
export const leasing = proxyActivities<LatchkeyActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' }, // no maximumAttempts: unlimited
});

/**
 * The check of a request's signed start: a local activity (no round trip to the server), whose verdict history
 * records, so that replay never depends on the keys a worker trusts at the time. It only reads memory.
 */
export const { verifyStartCommand } = proxyLocalActivities<LatchkeyActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds' },
});

/**
 * Asking the policy again at a scheduled request's start: a few minutes of retries (the catalog may be
 * loading); if it still cannot answer, the request is not granted (eligibility not shown is not granted).
 */
export const { checkStillEligible } = proxyActivities<LatchkeyActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10 },
});
