import { ApplicationFailure } from '@temporalio/common';
import { OnePasswordError } from '../onepassword/port';
import { callOnePassword, toActivityFailure } from './failures';

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
