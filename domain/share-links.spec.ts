import { REFUSAL } from '../contracts/messages';
import { expiryBucketFor, outlivesLink } from './share-links';

const HOUR = 3_600_000;

describe('share-link expiry buckets', () => {
  it.each([
    [1, '1h'],
    [HOUR, '1h'],
    [HOUR + 1, '1d'],
    [8 * HOUR, '1d'],
    [2 * 24 * HOUR, '7d'],
    [10 * 24 * HOUR, '14d'],
    [30 * 24 * HOUR, '30d'],
  ] as const)('%d ms needs %s', (duration, bucket) => {
    expect(expiryBucketFor(duration)).toEqual({ ok: true, value: bucket });
  });

  it('refuses when the account maximum is shorter than the bucket needed, or beyond 30 days', () => {
    expect(expiryBucketFor(2 * 24 * HOUR, '1d')).toEqual({
      ok: false,
      refusal: REFUSAL.invalid,
      reason: "the account's sharing policy allows links of at most 1d; the duration needs 7d",
    });
    expect(expiryBucketFor(31 * 24 * HOUR)).toMatchObject({ ok: false, refusal: REFUSAL.invalid });
  });

  it("an end past the link's expiry needs a new link; no link (a vault grant) never does", () => {
    expect(outlivesLink('2026-01-01T09:00:00.000Z', '2026-01-01T09:00:00.001Z')).toBe(true);
    expect(outlivesLink('2026-01-01T09:00:00.000Z', '2026-01-01T09:00:00.000Z')).toBe(false);
    expect(outlivesLink(undefined, '2026-01-01T09:00:00.001Z')).toBe(false);
  });
});
