import { bucketExceeds, EXPIRY_BUCKETS, type ExpiryBucket, isExpiryBucket } from '../domain/share-links';
import { OnePasswordError, type SharePolicy } from './port';

/**
 * Rules about share links that both adapters and the workflow apply in the same way, so that the
 * local 1Password refuses exactly what the real one would.
 */

/** Deliberately loose: 1Password validates recipients itself; this only rejects what cannot be an address. */
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function emailDomain(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase();
}

/**
 * Refusals that follow from the account policy alone, checked before any write. Messages name the
 * rule, never the recipient: an e-mail address must not reach logs or workflow history.
 */
export function checkShareAgainstPolicy(
  policy: SharePolicy,
  request: { recipients: string[]; expiry: ExpiryBucket; oneTimeOnly: boolean; itemHasFiles: boolean },
): void {
  if (!isExpiryBucket(request.expiry)) {
    throw new OnePasswordError('invalid-argument', 'share link expiry must be one of ' + EXPIRY_BUCKETS.join(', '));
  }
  if (request.recipients.length === 0) {
    throw new OnePasswordError('invalid-argument', 'a share link needs at least one recipient');
  }
  if (request.recipients.some((recipient) => !EMAIL_PATTERN.test(recipient))) {
    throw new OnePasswordError('invalid-argument', 'a share link recipient is not a valid e-mail address');
  }
  if (!policy.allowedTypes.includes('authenticated')) {
    throw new OnePasswordError('policy-refused', 'the account sharing policy does not allow links to named recipients');
  }
  if (bucketExceeds(request.expiry, policy.maxExpiry)) {
    throw new OnePasswordError(
      'policy-refused',
      `the account sharing policy allows links of at most ${policy.maxExpiry}, shorter than the ${request.expiry} needed`,
    );
  }
  if (policy.oneTimeOnly && !request.oneTimeOnly) {
    throw new OnePasswordError('policy-refused', 'the account sharing policy allows only one-time-view links');
  }
  if (request.itemHasFiles && !policy.filesAllowed) {
    throw new OnePasswordError('policy-refused', 'the account sharing policy does not allow sharing items with files');
  }
  const domains = policy.allowedRecipientDomains.map((domain) => domain.toLowerCase());
  if (domains.length > 0 && request.recipients.some((recipient) => !domains.includes(emailDomain(recipient)))) {
    throw new OnePasswordError(
      'policy-refused',
      `the account sharing policy allows recipients only at ${domains.join(', ')}; the requester's address is elsewhere`,
    );
  }
}
