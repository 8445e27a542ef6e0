import { ApplicationFailure } from '@temporalio/common';
import { OnePasswordError } from '../onepassword/port';
import { BLOCKED_RETRY_DELAY_MS, callOnePassword, toActivityFailure, toEndingFailure } from './failures';

describe(toActivityFailure.name, () => {
  it('rate limits retry, with a long next-retry delay', () => {
    const sut = toActivityFailure(new OnePasswordError('rate-limited', '1Password rate limit reached', 60_000));
    expect(sut).toBeInstanceOf(ApplicationFailure);
    expect(sut).toMatchObject({ type: 'OnePassword.rate-limited', nonRetryable: false, nextRetryDelay: 60_000 });
  });

  it('forbidden and policy refusals do not retry', () => {
    expect(toActivityFailure(new OnePasswordError('forbidden', 'no'))).toMatchObject({
      type: 'OnePassword.forbidden',
      nonRetryable: true,
    });
    expect(toActivityFailure(new OnePasswordError('policy-refused', 'no'))).toMatchObject({ nonRetryable: true });
  });

  it('never copies an unknown error message (it may name a recipient)', () => {
    const sut = toActivityFailure(new Error('weird failure for someone@example.com'));
    expect(sut.message).not.toContain('example.com');
    expect(sut.nonRetryable).toBe(false);
  });

  it('passes Temporal failures through unchanged', () => {
    const failure = ApplicationFailure.nonRetryable('already mapped', 'Mine');
    expect(toActivityFailure(failure)).toBe(failure);
  });
});

describe(callOnePassword.name, () => {
  it('returns the result or throws the mapped failure', async () => {
    await expect(callOnePassword(() => Promise.resolve(42))).resolves.toBe(42);
    await expect(
      callOnePassword(() => Promise.reject(new OnePasswordError('not-found', 'item not found'))),
    ).rejects.toMatchObject({ type: 'OnePassword.not-found', nonRetryable: true });
  });
});

describe(toEndingFailure.name, () => {
  it('never gives up: every failure retries; only a rate limit sets the next delay itself', () => {
    expect(toEndingFailure(new OnePasswordError('unavailable', 'down'), 1).failure).toMatchObject({
      nonRetryable: false,
      nextRetryDelay: undefined,
    });
    expect(toEndingFailure(new OnePasswordError('rate-limited', 'slow down', 30_000), 1).failure).toMatchObject({
      nonRetryable: false,
      nextRetryDelay: 30_000,
    });
  });

  it('waits longer, and says so, for what only a person can unblock', () => {
    const forbidden = toEndingFailure(new OnePasswordError('forbidden', 'not managed'), 1);
    expect(forbidden).toMatchObject({ blocked: true, kind: 'forbidden' });
    expect(forbidden.failure).toMatchObject({ nonRetryable: false, nextRetryDelay: BLOCKED_RETRY_DELAY_MS });
    // An expired session is retried quickly at first (the adapter authenticates again), then counts as blocked.
    expect(toEndingFailure(new OnePasswordError('auth', 'x'), 1).blocked).toBe(false);
    expect(toEndingFailure(new OnePasswordError('auth', 'x'), 5).blocked).toBe(false);
    expect(toEndingFailure(new OnePasswordError('auth', 'x'), 6).blocked).toBe(true);
  });
});
