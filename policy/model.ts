import type { SecretSource } from '../config/secrets';
import type { Principal } from '../contracts/identity';
import type { OnePasswordGroupType, OnePasswordPlan } from '../domain/vault-permissions';

/**
 * The typed policy, as `parsePolicy` returns it: the YAML document validated, checked and with every
 * default applied. Durations are milliseconds. docs/policy.md documents each key.
 */
export interface LoadedPolicy {
  /** The file the policy was read from (as given), used in error messages and by `policy check`. */
  file: string;
  /** `sha256:<hex>` of the exact bytes of the file: the same text always yields the same version. */
  version: string;
  integrations: IntegrationPolicy[];
  /** In file order. */
  resources: ResourcePolicy[];
  /** In file order, which is also the order in which flows are tried. */
  flows: FlowPolicy[];
}

export type IntegrationKind = 'onepassword' | 'local';

/** Where a service-account token comes from; `file` is resolved against the policy file's folder. */
/** Where an integration's service-account token comes from; read by config/secrets.ts, never stored here. */
export type TokenSource = SecretSource;

export interface IntegrationPolicy {
  name: string;
  kind: IntegrationKind;
  /** The 1Password plan: which vault permissions and groups exist, and the rate limits. */
  plan: OnePasswordPlan;
  serviceAccount: string;
  token?: TokenSource;
  accessDetails?: string;
  /** What the reconciler does with a group permission no active grant explains: remove it, or report it only. */
  reconcile: 'repair' | 'report';
  /** Fallback approvers when a flow asks for the resource owner and none is found. */
  owners: Principal[];
  /** Item tag `<tagKey>:<group>` names the owning identity group. */
  resourceOwner?: { tagKey: string };
}

export type ItemGrantMode = 'share-link' | 'rotate-on-revoke';
export type GrantMode = ItemGrantMode | 'vault-group';

export interface ItemResourcePolicy {
  type: 'item';
  id: string;
  name?: string;
  integration: string;
  vaultId: string;
  itemId: string;
  grant: ItemGrantMode;
}

export interface VaultResourcePolicy {
  type: 'vault';
  id: string;
  name?: string;
  integration: string;
  vaultId: string;
  grant: 'vault-group';
  permissions: string[];
  /** Identity group -> 1Password group id (and its kind, when the policy says), in file order. */
  groups: Array<{ identityGroup: string; onePasswordGroup: string; groupType?: OnePasswordGroupType }>;
}

/** Items of one vault carrying all `tags`; each becomes the resource `<idPrefix>-<itemId>`. */
export interface SelectionResourcePolicy {
  type: 'selection';
  idPrefix: string;
  integration: string;
  vaultId: string;
  tags: string[];
  grant: ItemGrantMode;
}

export type ResourcePolicy = ItemResourcePolicy | VaultResourcePolicy | SelectionResourcePolicy;

/** A principal, or the owner of the requested resource (falling back to the integration owners). */
export type ApproverRef = Principal | { kind: 'resource-owner' };

export type Threshold = { kind: 'any' } | { kind: 'all' } | { kind: 'atLeast'; count: number };

export interface TierPolicy {
  approvers: ApproverRef[];
  threshold: Threshold;
  /** Absent on the last tier. */
  escalateAfterMs?: number;
}

export interface FlowPolicy {
  name: string;
  requesters: Principal[];
  /** Resource ids and selection prefixes this flow offers. */
  resources: string[];
  /** Integrations all of whose resources this flow offers. */
  integrations: string[];
  automatic: boolean;
  /** Empty when automatic. */
  tiers: TierPolicy[];
  allowSelfApproval: boolean;
  duration: { minMs: number; maxMs: number; defaultMs: number };
  justification: { required: boolean; pattern?: string; hint?: string };
  ticket: { required: boolean };
  pendingTimeoutMs: number;
  reminderIntervalMs?: number;
  /** How long ending access may take before admins are alerted (the attempts go on). */
  revokeAlertAfterMs: number;
  extensions: { maxCount: number; maxExtensionMs: number; requireApproval: boolean };
}
