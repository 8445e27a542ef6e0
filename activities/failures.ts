import { ApplicationFailure } from '@temporalio/common';
import { onePasswordFailureDetails, type OnePasswordFailureDetails } from '../onepassword/errors';
import type { OnePasswordErrorKind } from '../onepassword/port';
import { TargetError, type TargetErrorKind } from '../targets/port';

/**
 * The one mapping from whatever a 1Password port threw to a Temporal failure: the classifier in
 * `onepassword/errors.ts` decides retryable or not; rate limits carry a long `nextRetryDelay`.
 * The message is the classifier's safe message, never the port's own text.
 */
export function toActivityFailure(error: unknown): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  const details = failureDetails(error);
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

type FailureKind = OnePasswordErrorKind | TargetErrorKind;

/**
 * A target's failure (a database, a command) in the classifier's terms; anything else goes through the
 * 1Password classifier. Only an unreachable target, or latchkey's own credential refused, may mend itself.
 */
function failureDetails(error: unknown): Omit<OnePasswordFailureDetails, 'kind'> & { kind: FailureKind } {
  if (!(error instanceof TargetError)) return onePasswordFailureDetails(error);
  return {
    type: `Target:${error.kind}`,
    kind: error.kind,
    message: error.message,
    retryable: error.kind === 'unavailable' || error.kind === 'auth',
  };
}

/** Runs one call to a target and maps its failure like a 1Password one. */
export const callTarget = callOnePassword;

/** Between attempts to end access that only a person can unblock (a revoked token, a vault no longer managed). */
export const BLOCKED_RETRY_DELAY_MS = 15 * 60_000;

/** Kinds that retrying alone will not mend: someone must restore a token or a permission. */
const NEEDS_A_PERSON: ReadonlySet<OnePasswordErrorKind> = new Set([
  'forbidden',
  'invalid-argument',
  'policy-refused',
  'auth',
]);

/** A target that refuses the change, whose account is gone, or that refuses latchkey's own credential. */
const TARGET_NEEDS_A_PERSON: ReadonlySet<TargetErrorKind> = new Set([
  'refused',
  'not-found',
  'invalid-argument',
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
  kind: FailureKind;
}

/**
 * Ending access never gives up: every failure is retried by Temporal's activity retry, without limit
 * (so an outage of any length adds no event to history). A rate limit waits as long as 1Password asks;
 * a failure only a person can mend waits longer between attempts and is reported as such.
 */
export function toEndingFailure(error: unknown, attempt: number): EndingFailure {
  const details = failureDetails(error);
  const needsAPerson =
    error instanceof TargetError
      ? TARGET_NEEDS_A_PERSON.has(error.kind)
      : NEEDS_A_PERSON.has(details.kind as OnePasswordErrorKind);
  const blocked = needsAPerson && !(details.kind === 'auth' && attempt <= QUICK_AUTH_RETRIES);
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
