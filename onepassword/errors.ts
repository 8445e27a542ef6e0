import { createHash } from 'node:crypto';
import { AuthExpiredError, DesktopSessionExpiredError, RateLimitExceededError } from '@1password/sdk';
import { OnePasswordError, type OnePasswordErrorKind } from './port';

/**
 * The one classifier from anything 1Password (or the local 1Password) throws to an
 * `OnePasswordError`, and the retry advice that activities turn into Temporal failures.
 *
 * The SDK types three errors; everything else arrives as a plain `Error` whose message is a chain
 * written by the SDK core (`authentication error: rate limit exceeded`). The phrases below are the
 * core's own, from `sdk/core-messages/core-messages.json`, which a script extracts from the pinned
 * SDK; a test holds every message there to a kind here. The innermost phrase of a chain (the one that
 * starts last) decides. Core messages can name items, vaults or recipients, so they are never copied
 * into the result.
 */

/** 1Password's hourly window: a rate-limited token recovers within the hour, usually sooner. */
export const RATE_LIMIT_RETRY_AFTER_MS = 60_000;

const SAFE_MESSAGE: Record<OnePasswordErrorKind, string> = {
  'rate-limited': '1Password rate limit reached',
  auth: '1Password refused the service account: its token is invalid, revoked or expired, or sign-in failed',
  'not-found': '1Password could not find the vault, item or group',
  forbidden: '1Password refused the operation: the service account lacks the permission or the plan forbids it',
  conflict: '1Password reported a conflict; read again and retry',
  timeout: '1Password did not answer in time',
  unavailable: '1Password is unavailable right now',
  'policy-refused': "1Password refused the share link under the account's sharing policy",
  'invalid-argument': '1Password rejected the request as invalid',
};

/**
 * Every phrase of the pinned core's messages, by the kind it means. Wrappers (`authentication error: `)
 * only decide when no inner phrase follows them.
 */
export const CORE_PHRASES: Record<OnePasswordErrorKind, readonly string[]> = {
  'rate-limited': ['rate limit exceeded'],
  auth: [
    'authentication error: ',
    'you are not authenticated',
    'session expired',
    'session seems expired even after retrying',
    'bad credentials, please retry: ',
    'bad service account token, please rotate it: ',
    'invalid service account token, please make sure you provide a valid service account token as parameter:  ',
    'service account deserialization failed, please create another token',
    'service account token base64 decoding failed, please create another token',
    'service account token had invalid format',
    "service account token's throttle token is invalid. please create a new service account token: ",
    'invalid user auth parameters within token',
    "account couldn't be found",
    'the server returned a session for a different user than expected',
    'secret key from lookup response did not match local sk',
    'Incorrect user B received from the server',
    'Server hash was invalid, shared key mismatch',
    'SRP authentication method unsupported',
    'unknown device status returned by auth lookup',
    'no session id found in auth lookup response',
    'no session id present in auth lookup response',
    'acquiring session key from raw session key',
    'verifying the server hash in the SRP exchange',
    'when starting SRP auth',
    'when registering device',
    'when deserializing to auth verify response',
    'when deserializing HTTP responses into the corresponding types in unauthenticated request',
    'attempting to send a request to a malformed URL',
    'workload keyset decryption failed: ',
    'OIDC token fetcher failed: ',
  ],
  'not-found': [
    'resource not found',
    "item couldn't be found",
    "vault couldn't be found",
    "file couldn't be found",
    "environment couldn't be found",
    'item is not in an active state',
    'the specified field cannot be found within the item',
    'no vault matched the secret reference query',
    'no item matched the secret reference query',
    'no section matched the secret reference',
  ],
  forbidden: [
    "you don't have the right permissions to access this resource",
    'you do not have the right permissions to perform this action: ',
  ],
  conflict: [
    'a conflict occurred on the server',
    'a conflict occurred on the server. this usually happens due to a race condition in requests',
    'data conflict occurred on the server: ',
    'The submitted item is not up to date. Refetch the item and retry the request.',
  ],
  timeout: ['request timeout'],
  unavailable: [
    'internal server error',
    'unexpected status code in response: ',
    'request library compatibility issue: ',
    'request library compatibility issue, check that the your environment uses compatible versions: ',
    'error issuing the request with reqwest: ',
    'error issuing the request with extism',
    'the encountered problem is specific to your current device: ',
    'unexpected success response from server',
    'confidential computing request failed',
    'when deserializing HTTP responses into the corresponding types in authenticated requests',
    'when serializing body',
    'when serializing request body',
    'internal error: ',
    'internal error: entered unreachable code: Content encryption keys do not have an actual key ID',
    'an internal error occurred, please contact 1Password at support@1password.com or https://www.1password.dev/joinslack: ',
    'AppError at ',
    'RsaDecryptFailed {',
    'Tried to construct a const u8 with an invalid number. Expected ',
    'unable to retrieve item',
    'unable to retrieve multiple items',
    'unable to retrieve vaults',
    'unlocking vault when getting vault key',
    'unlocking vault when retrieving item',
    'unlocking vault when sharing item',
    'encrypting with vault key when sharing item',
    'finding vault key in keychain',
    'serializing decrypted vault key',
    'failed to generate item sharing secret',
    'failed to convert to item share',
    'failed to acquire file uuids: ',
    'vault attributes are missing for the provided vault',
    'vault name is missing in the vault attributes',
    'error getting group: ',
    'error updating group vault permissions: ',
    'error revoking group vault permissions: ',
    'item update failed: ',
    'error resolving secret reference: ',
    'something went wrong when resolving multiple secret references',
    'unlocking Environment',
    'An unexpected error occurred as the Environment appears to be corrupted',
  ],
  'policy-refused': ['cannot share items with files. Consult your 1Password admin to review account policies.'],
  'invalid-argument': [
    'bad request',
    'bad input passed by the user: ',
    'invalid user input: ',
    'encountered the following errors: ',
    'cannot update item ',
    "you can't create more than ",
    'multiple items can be created at once only within the same vault. one of the specified items had an inconsistent vault id',
    'cannot upload files without a name',
    'cannot upload or download files larger than 50MB',
    'unable to retrieve file content, currently only text files are supported',
    'error generating password: ',
    'master password was empty',
    'The OS name is invalid: ',
    'the secret reference could not be parsed: ',
    'secret reference is not prefixed with "op://"',
    'secret reference has invalid format - must be "op://<vault>/<item>/[section/]field[?attribute=<attribute-value>]"',
    'secret reference has invalid query parameter key',
    'secret reference has invalid query parameter value}',
    'invalid character in secret reference: secret references must only contain alphanumeric, _, . or - characters',
    'more than one vault matched the secret reference query',
    'more than one item matched the secret reference query',
    'more than one field matched the secret reference',
    'error parsing private key',
    "unable to retrieve SSH Key field, verify that private key isn't malformed",
    'SSH key formatting can only be applied to a private key field',
    "unable to properly parse private key, verify that private key isn't malformed",
    'unable to format private key to OpenSSH format',
    'TOTP attribute can only be applied to TOTP-type fields',
    'TOTP code could not be generated: ',
    'invalid customer managed secret: ',
    "customer managed secret is missing the 'ops_' prefix",
    'customer managed secret base64 decoding failed',
    'customer managed secret JSON deserialization failed',
    'customer managed secret key hex decoding failed',
    'customer managed secret AES key construction failed',
    'customer managed secret resource path is malformed: ',
    'unsupported customer managed secret key type',
    'unsupported customer managed secret version: ',
    'The address did not have at least one period.',
    'The address did not have exactly one @ sign.',
    'The address had a dot-separated domain part containing invalid characters.',
    'The address had a zero-length TLD.',
    'The address had a zero-length dot-separated domain part.',
    'The address was missing a domain part.',
    'The address was missing a mailbox part.',
    'The address was too long.',
    'The address was too short.',
    'The address was zero-length.',
    'The domain TLD contained invalid characters.',
    'The domain TLD was too long.',
    'The domain TLD was too short.',
    'The domain part had too few dot-separated parts.',
    'The domain part was too short.',
    'The mailbox part contains invalid characters.',
  ],
};

const PHRASES: Array<{ phrase: string; kind: OnePasswordErrorKind }> = Object.entries(CORE_PHRASES).flatMap(
  ([kind, phrases]) => phrases.map((phrase) => ({ phrase, kind: kind as OnePasswordErrorKind })),
);

/** The kind of the innermost phrase of a core message chain, or undefined when none is known. */
export function kindOfCoreMessage(message: string): OnePasswordErrorKind | undefined {
  let best: { at: number; length: number; kind: OnePasswordErrorKind } | undefined;
  for (const { phrase, kind } of PHRASES) {
    const at = message.lastIndexOf(phrase);
    if (at < 0) continue;
    if (!best || at > best.at || (at === best.at && phrase.length > best.length)) {
      best = { at, length: phrase.length, kind };
    }
  }
  return best?.kind;
}

/** A failure no phrase explains: the adapter reports it (once per shape) so that an SDK change is noticed. */
export interface UnrecognisedFailure {
  /** The thrown value's class (`Error`, `TypeError`): never its message, which may name items. */
  errorClass: string;
  /** A short hash of the message, to tell one unknown message from another without showing it. */
  fingerprint: string;
}

/** What the classifier could not explain, when it could not: the error it returned says so. */
export function unrecognisedFailureOf(error: OnePasswordError): UnrecognisedFailure | undefined {
  return (error as OnePasswordError & { unrecognised?: UnrecognisedFailure }).unrecognised;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  return '';
}

export function classifyOnePasswordError(error: unknown): OnePasswordError {
  if (error instanceof OnePasswordError) return error;
  if (error instanceof RateLimitExceededError) {
    return new OnePasswordError('rate-limited', SAFE_MESSAGE['rate-limited'], RATE_LIMIT_RETRY_AFTER_MS);
  }
  // The pinned core never sends AuthExpired (the fixture says so); the SDK still types it.
  if (error instanceof AuthExpiredError || error instanceof DesktopSessionExpiredError) {
    return new OnePasswordError('auth', SAFE_MESSAGE.auth);
  }
  const message = messageOf(error);
  const kind = kindOfCoreMessage(message);
  if (!kind) {
    // Retrying is safe (every operation is idempotent or counted); someone must still look.
    const unknown = new OnePasswordError('unavailable', '1Password failed with an error latchkey does not recognise');
    const unrecognised: UnrecognisedFailure = {
      errorClass: error instanceof Error ? error.constructor.name : typeof error,
      fingerprint: createHash('sha256').update(message).digest('hex').slice(0, 12),
    };
    return Object.assign(unknown, { unrecognised });
  }
  return new OnePasswordError(
    kind,
    SAFE_MESSAGE[kind],
    kind === 'rate-limited' ? RATE_LIMIT_RETRY_AFTER_MS : undefined,
  );
}

const RETRYABLE: Record<OnePasswordErrorKind, boolean> = {
  'rate-limited': true,
  // The adapter drops the client on this error, so the retry reads the token and signs in again.
  auth: true,
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
