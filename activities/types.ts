import type { ExpiryBucket } from '../domain/share-links';
import type { RotationResult } from '../onepassword/port';
import type { LeaseRequest, VaultLeaseKey } from '../contracts/vault-lease';

/**
 * Inputs and results of the activities. Every input carries its step's key (workflow id + step): logs,
 * alerts and the local 1Password's record name it. Retries are made safe by each activity's heartbeat
 * details, since 1Password itself takes no idempotency key.
 */
export interface ShareLinkGrantInput {
  idempotencyKey: string;
  integration: string;
  vaultId: string;
  itemId: string;
  /** The requester's verified e-mail: only in this codec-encrypted input, never logged. */
  recipientEmail: string;
  durationMs: number;
  oneTimeView: boolean;
}

export interface ShareLinkGrantResult {
  /** A secret: lives only in this codec-encrypted result and in workflow memory. */
  url: string;
  bucket: ExpiryBucket;
  /** When 1Password stops honouring the link. */
  expiresAt: string;
  /**
   * Earlier calls to create this link whose answer never arrived. Each may have made a link that nobody
   * received (its URL never left 1Password): same item, same recipient, same bucket, made earlier, so it
   * expires before `expiresAt`. A call that failed before writing is counted too (docs/onepassword.md).
   */
  unreceivedLinks?: number;
}

export interface GroupPermissionsInput extends VaultLeaseKey {
  idempotencyKey: string;
  permissions: string[];
}

export interface RevokeGroupInput extends VaultLeaseKey {
  idempotencyKey: string;
}

export interface RotateSecretInput {
  idempotencyKey: string;
  integration: string;
  vaultId: string;
  itemId: string;
}

/** `gone`: the item no longer exists in 1Password, so nothing could be rotated. */
export type RotateSecretResult = RotationResult & { gone?: boolean };

export interface RevokeGroupResult {
  /** `gone`: the vault or group no longer exists, and every permission with it. */
  effect: 'revoked' | 'gone';
}

export interface LeaseSignalInput {
  key: VaultLeaseKey;
  request: LeaseRequest;
}
