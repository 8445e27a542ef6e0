import { AuthExpiredError, DesktopSessionExpiredError, RateLimitExceededError } from '@1password/sdk';
import { OnePasswordError, type OnePasswordErrorKind } from './port';

/**
 * The one classifier from anything 1Password (or the local 1Password) throws to an
 * `OnePasswordError`, and the retry advice that activities turn into Temporal failures.
 *
 * The SDK has three typed errors; everything else arrives as a plain `Error` whose message comes
 * from the SDK core. Those messages are matched by the phrases the core uses, and never copied into
 * the result: core messages can name items, vaults or recipients.
 */

/** 1Password's hourly window: a rate-limited token recovers within the hour, usually sooner. */
export const RATE_LIMIT_RETRY_AFTER_MS = 60_000;

interface MessageRule {
  kind: OnePasswordErrorKind;
  pattern: RegExp;
  safeMessage: string;
}

// Order matters: sharing refusals often say "not allowed", which would otherwise read as forbidden.
const MESSAGE_RULES: MessageRule[] = [
  {
    kind: 'rate-limited',
    pattern: /rate ?limit|too many requests|\b429\b/i,
    safeMessage: '1Password rate limit reached',
  },
  {
    kind: 'policy-refused',
    pattern:
      /(shar(e|ing)|recipient|expir)[\s\S]*(not (allowed|permitted)|disallowed|policy|exceed|too long|forbidden|invalid)|(policy)[\s\S]*(shar(e|ing)|recipient|expir)/i,
    safeMessage: "1Password refused the share link under the account's sharing policy",
  },
  {
    kind: 'auth-expired',
    pattern: /session (has )?expired|token (has )?expired|auth(entication)? expired|re-?authenticate/i,
    safeMessage: '1Password session expired; the client must authenticate again',
  },
  {
    kind: 'conflict',
    pattern: /incorrect ?item ?version|version (mismatch|conflict)|outdated|conflict|modified concurrently/i,
    safeMessage: '1Password reported a version conflict; read again and retry',
  },
  {
    kind: 'not-found',
    pattern: /not ?found|no item matched|does ?n[o']t exist|no such|unknown (vault|item|group)/i,
    safeMessage: '1Password could not find the vault, item or group',
  },
  {
    kind: 'forbidden',
    pattern:
      /forbidden|permission|not (allowed|authori[sz]ed|permitted)|unauthori[sz]ed|access denied|\b40[13]\b|authentication error|invalid (service account )?token|plan (does not|doesn't) (allow|support)/i,
    safeMessage: '1Password refused the operation: the service account lacks the permission or the plan forbids it',
  },
  {
    kind: 'timeout',
    pattern: /timed? ?out|timeout|deadline exceeded/i,
    safeMessage: '1Password did not answer in time',
  },
  {
    kind: 'unavailable',
    pattern:
      /unavailable|network|connection|econn(reset|refused)|enotfound|eai_again|socket hang up|fetch failed|\b50[0234]\b|internal server error|temporar/i,
    safeMessage: '1Password is unavailable right now',
  },
  {
    kind: 'invalid-argument',
    pattern: /invalid|validation|malformed|must (be|have)|parsing|expected/i,
    safeMessage: '1Password rejected the request as invalid',
  },
];

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  return '';
}

export function classifyOnePasswordError(error: unknown): OnePasswordError {
  if (error instanceof OnePasswordError) return error;
  if (error instanceof RateLimitExceededError) {
    return new OnePasswordError('rate-limited', '1Password rate limit reached', RATE_LIMIT_RETRY_AFTER_MS);
  }
  if (error instanceof AuthExpiredError || error instanceof DesktopSessionExpiredError) {
    return new OnePasswordError('auth-expired', '1Password session expired; the client must authenticate again');
  }
  const message = messageOf(error);
  const rule = MESSAGE_RULES.find((candidate) => candidate.pattern.test(message));
  if (!rule) {
    // Unknown failures are treated as transient: retrying is safe because every operation is idempotent.
    return new OnePasswordError('unavailable', '1Password failed with an unrecognised error');
  }
  return new OnePasswordError(
    rule.kind,
    rule.safeMessage,
    rule.kind === 'rate-limited' ? RATE_LIMIT_RETRY_AFTER_MS : undefined,
  );
}

const RETRYABLE: Record<OnePasswordErrorKind, boolean> = {
  'rate-limited': true,
  // The adapter drops the client on this error, so the retry authenticates again.
  'auth-expired': true,
  'not-found': false,
  forbidden: false,
  // A rotation that lost a race reads the item again on retry.
  conflict: true,
  timeout: true,
  unavailable: true,
  'policy-refused': false,
  'invalid-argument': false,
};

export function isRetryable(kind: OnePasswordErrorKind): boolean {
  return RETRYABLE[kind];
}

/**
 * How long 1Password asked us to wait before the next attempt (a rate limit's retry-after, or its
 * hourly window). Undefined otherwise: then the activity's retry policy backs off as it says, which a
 * fixed hint would override (an outage of days would be retried every few seconds).
 */
export function retryDelayHint(error: OnePasswordError): number | undefined {
  if (error.kind !== 'rate-limited') return undefined;
  return error.retryAfterMs ?? RATE_LIMIT_RETRY_AFTER_MS;
}

/** Everything an activity needs to build a Temporal ApplicationFailure from any thrown value. */
export interface OnePasswordFailureDetails {
  /** ApplicationFailure type, e.g. `OnePassword.rate-limited`. */
  type: string;
  kind: OnePasswordErrorKind;
  message: string;
  retryable: boolean;
  /** For `nextRetryDelay`: what 1Password asked for (rate limits only). */
  retryAfterMs?: number;
}

export const ONEPASSWORD_FAILURE_TYPE_PREFIX = 'OnePassword.';

export function onePasswordFailureDetails(error: unknown): OnePasswordFailureDetails {
  const classified = classifyOnePasswordError(error);
  return {
    type: ONEPASSWORD_FAILURE_TYPE_PREFIX + classified.kind,
    kind: classified.kind,
    message: classified.message,
    retryable: isRetryable(classified.kind),
    retryAfterMs: retryDelayHint(classified),
  };
}
