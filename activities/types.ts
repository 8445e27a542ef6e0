import type { AskedAgain } from '../contracts/request';
import type { ExpiryBucket } from '../domain/share-links';
import type { RotatorSpec } from '../contracts/snapshot';
import type { RotationResult } from '../onepassword/port';
import type { ConnectionInfo } from '../targets/port';
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

/** What every step of a rotation or of a database login carries, for logs and alerts. */
export interface RotationStepInput {
  idempotencyKey: string;
  integration: string;
  /** The policy resource, for alerts. */
  resourceId: string;
}

/** Secrets: they live only in this codec-encrypted result and in workflow memory, never in logs. */
export type PreparedRotation = { secret: string; previous: string; gone?: undefined } | { gone: true };

export type TargetRotatorSpec = Exclude<RotatorSpec, { kind: 'none' }>;

export interface TargetSecretInput extends RotationStepInput {
  rotator: TargetRotatorSpec;
  secret: string;
}

export interface StoreItemSecretInput extends RotationStepInput {
  vaultId: string;
  itemId: string;
  secret: string;
  /** The target already accepts only this secret: a failure to store it is alerted at once. */
  targetChanged: boolean;
}

export interface VerifyRotationInput extends RotationStepInput {
  rotator: TargetRotatorSpec;
  vaultId: string;
  itemId: string;
  /** This rotation's secret; a later rotation of the same item may have replaced it in the item since. */
  secret: string;
  previous: string;
}

export interface DatabaseLoginInput extends RotationStepInput {
  target: string;
  role: string;
}

export interface CreateDatabaseLoginInput extends DatabaseLoginInput {
  validUntil: string;
  memberOf: string[];
  connectionLimit: number;
}

/** The password is a secret: only in this codec-encrypted result and in workflow memory. */
export interface CreatedDatabaseLogin {
  password: string;
  connection: ConnectionInfo;
}

export interface LoginItemInput extends RotationStepInput {
  vaultId: string;
  /** Unique per request: a retried attempt finds the item an earlier one made. */
  title: string;
}

export interface CreateLoginItemInput extends LoginItemInput {
  role: string;
  password: string;
  connection: ConnectionInfo;
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

/** A scheduled request at its start: asked again under the policy the worker holds now. */
export type EligibilityInput = AskedAgain;

/** `eligible: false`: the policy's refusal, in words safe to show the requester. */
export type EligibilityVerdict = { eligible: true } | { eligible: false; code: string; rule: string; message: string };
