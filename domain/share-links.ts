import { REFUSAL } from '../contracts/messages';
import { allow, type Decision, refuse } from './decision';

/** Share-link expiry buckets that 1Password offers; nothing in between exists. */
export const EXPIRY_BUCKETS = ['1h', '1d', '7d', '14d', '30d'] as const;
export type ExpiryBucket = (typeof EXPIRY_BUCKETS)[number];

export const EXPIRY_BUCKET_MS: Record<ExpiryBucket, number> = {
  '1h': 3_600_000,
  '1d': 86_400_000,
  '7d': 7 * 86_400_000,
  '14d': 14 * 86_400_000,
  '30d': 30 * 86_400_000,
};

/** The shortest bucket that covers `durationMs`, or undefined when even 30 days is too short. */
export function shortestCoveringBucket(durationMs: number): ExpiryBucket | undefined {
  return EXPIRY_BUCKETS.find((bucket) => EXPIRY_BUCKET_MS[bucket] >= durationMs);
}

export function isExpiryBucket(value: unknown): value is ExpiryBucket {
  return typeof value === 'string' && (EXPIRY_BUCKETS as readonly string[]).includes(value);
}

export function bucketExceeds(bucket: ExpiryBucket, max: ExpiryBucket): boolean {
  return EXPIRY_BUCKET_MS[bucket] > EXPIRY_BUCKET_MS[max];
}

/**
 * The shortest share-link expiry bucket that covers the duration, refused when the account policy's
 * maximum is shorter (1Password offers nothing in between the buckets).
 */
export function expiryBucketFor(durationMs: number, accountMax: ExpiryBucket = '30d'): Decision<ExpiryBucket> {
  const bucket = shortestCoveringBucket(durationMs);
  if (!bucket) return refuse(REFUSAL.invalid, 'share links last at most 30 days; the duration is longer');
  if (bucketExceeds(bucket, accountMax)) {
    return refuse(
      REFUSAL.invalid,
      `the account's sharing policy allows links of at most ${accountMax}; the duration needs ${bucket}`,
    );
  }
  return allow(bucket);
}

/**
 * A share link cannot outlive its bucket: access that ends after the current link's expiry needs a new link,
 * made then and lasting until that end.
 */
export function outlivesLink(linkExpiresAt: string | undefined, endsAt: string): boolean {
  return linkExpiresAt !== undefined && Date.parse(endsAt) > Date.parse(linkExpiresAt);
}
