import { proxyActivities } from '@temporalio/workflow';
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

/** Grants retry transient 1Password failures for a while; non-retryable ones end the request FAILED. */
export const granting = proxyActivities<LatchkeyActivities>({
  startToCloseTimeout: '1 minute',
  // Grants heartbeat while 1Password answers: a dead worker is noticed in seconds and the grant retried
  // elsewhere with the same idempotency key.
  heartbeatTimeout: '5 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 20 },
});

/** One attempt per call: `untilConfirmed` loops without limit and counts the failures in state. */
export const ending = proxyActivities<LatchkeyActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 1 },
});

/** Delivering a lease message to the entity workflow must not give up. */
export const leasing = proxyActivities<LatchkeyActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' }, // no maximumAttempts: unlimited
});
