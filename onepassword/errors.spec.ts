import { AuthExpiredError, DesktopSessionExpiredError, RateLimitExceededError, throwError } from '@1password/sdk';
import { readFileSync } from 'node:fs';
import {
  classifyOnePasswordError,
  CORE_PHRASES,
  isRetryable,
  kindOfCoreMessage,
  unrecognisedFailureOf,
  onePasswordFailureDetails,
  RATE_LIMIT_RETRY_AFTER_MS,
  retryDelayHint,
} from './errors';
import { CORE_MESSAGES_FILE, type CoreMessages } from './sdk/core-messages/core-messages';
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

const fixture = JSON.parse(readFileSync(CORE_MESSAGES_FILE, 'utf8')) as CoreMessages;

describe(classifyOnePasswordError.name, () => {
  it('maps the typed RateLimitExceededError to rate-limited with a long retry-after', () => {
    const sut = classifyOnePasswordError(sdkError('RateLimitExceeded', 'rate limit exceeded'));
    expect(sut.kind).toBe('rate-limited');
    expect(sut.retryAfterMs).toBe(RATE_LIMIT_RETRY_AFTER_MS);
    expect(classifyOnePasswordError(new RateLimitExceededError('x')).kind).toBe('rate-limited');
  });

  it('maps the typed session errors to auth (the pinned core sends DesktopSessionExpired, never AuthExpired)', () => {
    expect(fixture.typedErrors).toEqual([
      { name: 'DesktopSessionExpired', sentByCore: true },
      { name: 'RateLimitExceeded', sentByCore: true },
      { name: 'AuthExpired', sentByCore: false },
    ]);
    expect(classifyOnePasswordError(new DesktopSessionExpiredError('x')).kind).toBe('auth');
    expect(classifyOnePasswordError(new AuthExpiredError('x')).kind).toBe('auth');
  });

  it('returns an OnePasswordError unchanged', () => {
    const original = new OnePasswordError('policy-refused', 'refused', undefined);
    expect(classifyOnePasswordError(original)).toBe(original);
  });

  // One test per message the pinned core can send: each is recognised, none falls to "unrecognised".
  it.each(fixture.messages)('recognises the core message %j', (message) => {
    expect(kindOfCoreMessage(message)).toBeDefined();
  });

  it('knows no phrase the pinned core does not send', () => {
    const sent = [...fixture.messages, ...fixture.observed.map((failure) => failure.message)];
    const invented = Object.values(CORE_PHRASES)
      .flat()
      .filter((phrase) => !sent.some((message) => message.includes(phrase)));
    expect(invented).toEqual([]);
  });

  // What the real core answered, run here, to each failure of sign-in (the fixture's `observed`).
  const signIn: Record<string, OnePasswordErrorKind> = {
    'sign-in answered HTTP 400': 'invalid-argument',
    'sign-in answered HTTP 401': 'auth',
    'sign-in answered HTTP 403': 'forbidden',
    'sign-in answered HTTP 404': 'not-found',
    'sign-in answered HTTP 409': 'conflict',
    'sign-in answered HTTP 429': 'rate-limited',
    'sign-in answered HTTP 500': 'unavailable',
    'sign-in answered HTTP 502': 'unavailable',
    'sign-in answered HTTP 503': 'unavailable',
    'sign-in answered HTTP 504': 'unavailable',
    'sign-in request fails (network)': 'unavailable',
    'token is not a service-account token': 'auth',
    'token is not base64': 'auth',
    'token is not a credentials object': 'auth',
  };
  it.each(fixture.observed)('classifies what the core answered when $trigger', ({ trigger, name, message }) => {
    expect(classifyOnePasswordError(sdkError(name, message)).kind).toBe(signIn[trigger]);
  });

  // The chains latchkey's calls meet, as the core builds them from its phrases.
  const chains: Array<[string, OnePasswordErrorKind]> = [
    ["item couldn't be found", 'not-found'],
    ["vault couldn't be found", 'not-found'],
    ['unable to retrieve item: item is not in an active state', 'not-found'],
    ['error revoking group vault permissions: resource not found', 'not-found'],
    [
      'error updating group vault permissions: you do not have the right permissions to perform this action: ',
      'forbidden',
    ],
    ["error getting group: you don't have the right permissions to access this resource", 'forbidden'],
    ['authentication error: you are not authenticated', 'auth'],
    ['authentication error: bad credentials, please retry: verifying the server hash in the SRP exchange', 'auth'],
    ['authentication error: bad service account token, please rotate it: account is suspended', 'auth'],
    ['session seems expired even after retrying', 'auth'],
    ['session expired', 'auth'],
    ['bad input passed by the user: field id must be set', 'invalid-argument'],
    ['cannot share items with files. Consult your 1Password admin to review account policies.', 'policy-refused'],
    ['The submitted item is not up to date. Refetch the item and retry the request.', 'conflict'],
    ['a conflict occurred on the server. this usually happens due to a race condition in requests', 'conflict'],
    ['request timeout', 'timeout'],
    ['rate limit exceeded', 'rate-limited'],
    ['unable to retrieve vaults: unexpected status code in response: 502 Bad Gateway', 'unavailable'],
  ];
  it.each(chains)('maps the core chain %j to %s', (message, kind) => {
    expect(classifyOnePasswordError(sdkError('Internal', message)).kind).toBe(kind);
  });

  it('marks an unrecognised failure with its class and a fingerprint, never its text, and treats it as retryable', () => {
    const odd = classifyOnePasswordError(new TypeError('something new for item "Payroll db"'));
    expect(odd.kind).toBe('unavailable');
    expect(isRetryable(odd.kind)).toBe(true);
    const unrecognised = unrecognisedFailureOf(odd);
    expect(unrecognised).toEqual({ errorClass: 'TypeError', fingerprint: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(JSON.stringify(unrecognised)).not.toContain('Payroll');
    expect(
      unrecognisedFailureOf(classifyOnePasswordError(new TypeError('something new for item "Payroll db"'))),
    ).toEqual(unrecognised);
    expect(unrecognisedFailureOf(classifyOnePasswordError(42))).toEqual({
      errorClass: 'number',
      fingerprint: expect.any(String),
    });
    expect(unrecognisedFailureOf(classifyOnePasswordError(new Error(CORE_PHRASES.timeout[0])))).toBeUndefined();
  });

  it('never copies the core message, which may name a recipient or an item', () => {
    const sut = classifyOnePasswordError(new Error('bad input passed by the user: recipient alice@example.com'));
    expect(sut.kind).toBe('invalid-argument');
    expect(sut.message).not.toContain('alice');
  });
});

describe(isRetryable.name, () => {
  it.each([
    ['rate-limited', true],
    ['auth', true],
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
