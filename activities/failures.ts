import { ApplicationFailure } from '@temporalio/common';
import { onePasswordFailureDetails } from '../onepassword/errors';

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
    nextRetryDelay: details.retryable ? details.retryAfterMs : undefined,
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
