import { ApplicationFailure } from '@temporalio/common';
import { onePasswordFailureDetails } from '../onepassword/errors';
import type { OnePasswordErrorKind } from '../onepassword/port';

/**
 * The one mapping from whatever a 1Password port threw to a Temporal failure: the classifier in
 * `onepassword/errors.ts` decides retryable or not; rate limits carry a long `nextRetryDelay`.
 * The message is the classifier's safe message, never the port's own text.
 */
export function toActivityFailure(error: unknown): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  const details = onePasswordFailureDetails(error);
  return ApplicationFailure.create({
    type: details.type,
    message: details.message,
    nonRetryable: !details.retryable,
    nextRetryDelay: details.retryAfterMs,
    details: [{ kind: details.kind }],
  });
}

/** Runs one 1Password call and maps its failure through the classifier. */
export async function callOnePassword<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toActivityFailure(error);
  }
}

/** Between attempts to end access that only a person can unblock (a revoked token, a vault no longer managed). */
export const BLOCKED_RETRY_DELAY_MS = 15 * 60_000;

/** Kinds that retrying alone will not mend: someone must restore a token or a permission. */
const NEEDS_A_PERSON: ReadonlySet<OnePasswordErrorKind> = new Set([
  'forbidden',
  'invalid-argument',
  'policy-refused',
  'auth',
]);

/**
 * The first attempts after an expired session are quick (about 15 s with the policy's backoff): the
 * adapter authenticates again, and a token replaced in its source is read again.
 */
const QUICK_AUTH_RETRIES = 5;

export interface EndingFailure {
  failure: ApplicationFailure;
  /** True when only a person can unblock it: the activity tells admins. */
  blocked: boolean;
  kind: OnePasswordErrorKind;
}

/**
 * Ending access never gives up: every failure is retried by Temporal's activity retry, without limit
 * (so an outage of any length adds no event to history). A rate limit waits as long as 1Password asks;
 * a failure only a person can mend waits longer between attempts and is reported as such.
 */
export function toEndingFailure(error: unknown, attempt: number): EndingFailure {
  const details = onePasswordFailureDetails(error);
  const blocked = NEEDS_A_PERSON.has(details.kind) && !(details.kind === 'auth' && attempt <= QUICK_AUTH_RETRIES);
  const nextRetryDelay = blocked ? BLOCKED_RETRY_DELAY_MS : details.retryAfterMs;
  const failure = ApplicationFailure.create({
    type: details.type,
    message: details.message,
    nonRetryable: false,
    nextRetryDelay,
    details: [{ kind: details.kind, blocked }],
  });
  return { failure, blocked, kind: details.kind };
}
