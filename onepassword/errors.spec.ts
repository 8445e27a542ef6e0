import { AuthExpiredError, DesktopSessionExpiredError, RateLimitExceededError, throwError } from '@1password/sdk';
import {
  classifyOnePasswordError,
  isRetryable,
  onePasswordFailureDetails,
  RATE_LIMIT_RETRY_AFTER_MS,
  retryDelayHint,
} from './errors';
import { ONEPASSWORD_ERROR_KINDS, OnePasswordError, type OnePasswordErrorKind } from './port';

/** What the SDK's core throws: `throwError` is the SDK's own decoder of core error strings. */
function sdkError(name: string, message: string): unknown {
  try {
    throwError(JSON.stringify({ name, message }));
  } catch (error) {
    return error;
  }
  throw new Error('throwError returned');
}

describe(classifyOnePasswordError.name, () => {
  it('maps the typed RateLimitExceededError to rate-limited with a long retry-after', () => {
    const sut = classifyOnePasswordError(sdkError('RateLimitExceeded', 'rate limit exceeded'));
    expect(sut.kind).toBe('rate-limited');
    expect(sut.retryAfterMs).toBe(RATE_LIMIT_RETRY_AFTER_MS);
    expect(classifyOnePasswordError(new RateLimitExceededError('x')).kind).toBe('rate-limited');
  });

  it('maps AuthExpiredError and DesktopSessionExpiredError to auth-expired', () => {
    expect(classifyOnePasswordError(sdkError('AuthExpired', 'auth expired')).kind).toBe('auth-expired');
    expect(classifyOnePasswordError(new AuthExpiredError('x')).kind).toBe('auth-expired');
    expect(classifyOnePasswordError(new DesktopSessionExpiredError('x')).kind).toBe('auth-expired');
  });

  it('returns an OnePasswordError unchanged', () => {
    const original = new OnePasswordError('policy-refused', 'refused', undefined);
    expect(classifyOnePasswordError(original)).toBe(original);
  });

  const cases: Array<[string, OnePasswordErrorKind]> = [
    ['item not found', 'not-found'],
    ["vault doesn't exist", 'not-found'],
    ['error resolving secret reference: no item matched the secret reference query', 'not-found'],
    ['forbidden: the service account does not have permission to manage this vault', 'forbidden'],
    ["authentication error: you don't have the right permissions to access this resource", 'forbidden'],
    ['your plan does not allow managing vault permissions', 'forbidden'],
    ['itemStatusIncorrectItemVersion', 'conflict'],
    ['item version mismatch: the item was modified', 'conflict'],
    ['request timed out', 'timeout'],
    ['context deadline exceeded', 'timeout'],
    ['error sending request: connection reset by peer', 'unavailable'],
    ['503 Service Unavailable', 'unavailable'],
    ['share link expiry exceeds the maximum allowed by the account policy', 'policy-refused'],
    ['recipient is not allowed by the item sharing policy', 'policy-refused'],
    ['sharing files is not allowed', 'policy-refused'],
    ['invalid user input: field id must be set', 'invalid-argument'],
    ['too many requests', 'rate-limited'],
  ];

  it.each(cases)('maps the SDK message "%s" to %s', (message, kind) => {
    expect(classifyOnePasswordError(sdkError('Other', message)).kind).toBe(kind);
    expect(classifyOnePasswordError(new Error(message)).kind).toBe(kind);
  });

  it('treats an unrecognised failure as unavailable (retryable), since every port operation is idempotent', () => {
    expect(classifyOnePasswordError(new Error('something odd')).kind).toBe('unavailable');
    expect(classifyOnePasswordError(42).kind).toBe('unavailable');
  });

  it('never copies the SDK message, which may name a recipient or an item', () => {
    const sut = classifyOnePasswordError(new Error('recipient alice@example.com is not allowed by the sharing policy'));
    expect(sut.kind).toBe('policy-refused');
    expect(sut.message).not.toContain('alice');
  });
});

describe(isRetryable.name, () => {
  it.each([
    ['rate-limited', true],
    ['auth-expired', true],
    ['timeout', true],
    ['unavailable', true],
    ['conflict', true],
    ['not-found', false],
    ['forbidden', false],
    ['policy-refused', false],
    ['invalid-argument', false],
  ] as Array<[OnePasswordErrorKind, boolean]>)('says %s is retryable: %s', (kind, retryable) => {
    expect(isRetryable(kind)).toBe(retryable);
  });

  it('has an answer for every error kind of the port', () => {
    for (const kind of ONEPASSWORD_ERROR_KINDS) expect(typeof isRetryable(kind)).toBe('boolean');
  });
});

describe(retryDelayHint.name, () => {
  it('waits as long as a rate limit asks, and honours an explicit retry-after', () => {
    expect(retryDelayHint(new OnePasswordError('rate-limited', 'x'))).toBe(RATE_LIMIT_RETRY_AFTER_MS);
    expect(retryDelayHint(new OnePasswordError('rate-limited', 'x', 5_000))).toBe(5_000);
  });

  it('leaves other transient failures to the retry policy’s backoff', () => {
    expect(retryDelayHint(new OnePasswordError('unavailable', 'x'))).toBeUndefined();
    expect(retryDelayHint(new OnePasswordError('timeout', 'x'))).toBeUndefined();
  });

  it('gives no delay for errors that must not be retried', () => {
    expect(retryDelayHint(new OnePasswordError('policy-refused', 'x'))).toBeUndefined();
    expect(retryDelayHint(new OnePasswordError('not-found', 'x'))).toBeUndefined();
  });
});

describe(onePasswordFailureDetails.name, () => {
  it('gives activities the failure type, retryability and retry-after', () => {
    expect(onePasswordFailureDetails(new RateLimitExceededError('x'))).toEqual({
      type: 'OnePassword.rate-limited',
      kind: 'rate-limited',
      message: '1Password rate limit reached',
      retryable: true,
      retryAfterMs: RATE_LIMIT_RETRY_AFTER_MS,
    });
    expect(onePasswordFailureDetails(new OnePasswordError('forbidden', 'no'))).toMatchObject({
      type: 'OnePassword.forbidden',
      retryable: false,
      retryAfterMs: undefined,
    });
  });
});
