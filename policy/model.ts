import type { SecretSource } from '../config/secrets';
import type { Principal } from '../contracts/identity';
import type { NotifySpec } from '../contracts/snapshot';
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
  /** The systems behind the secrets, in file order. */
  targets: TargetPolicy[];
  /** In file order. */
  resources: ResourcePolicy[];
  /** In file order, which is also the order in which flows are tried. */
  flows: FlowPolicy[];
  limits: LimitsPolicy;
}

/** What one person may hold at a time (policy `limits:`), every default applied. */
export interface LimitsPolicy {
  /** Requests one requester may have open (pending, approved, active or ending) at once. */
  openRequestsPerRequester: number;
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
export type GrantMode = ItemGrantMode | 'vault-group' | 'database-role';

/** A system behind the secrets: where a rotation, or a database login of a request's own, takes effect. */
export type TargetPolicy = PostgresTargetPolicy | CommandTargetPolicy;

export interface PostgresTargetPolicy {
  name: string;
  kind: 'postgres';
  /** Where the admin connection URL comes from; read by the worker when it connects, never stored here. */
  admin: SecretSource;
}

export interface CommandTargetPolicy {
  name: string;
  kind: 'command';
  /** The executable and its fixed arguments; it reads the new secret on its standard input. */
  command: string[];
  timeoutMs: number;
}

/**
 * What changes the credential of a rotate-on-revoke item where it is used: a target (with the role, for
 * PostgreSQL), or nothing, which the policy must say (`rotator: none`) and the guarantee then states.
 */
export type RotatorPolicy = { kind: 'none' } | { kind: 'target'; target: string; role?: string; endSessions: boolean };

export interface ItemResourcePolicy {
  type: 'item';
  id: string;
  name?: string;
  integration: string;
  vaultId: string;
  itemId: string;
  grant: ItemGrantMode;
  /** Present exactly when the grant is rotate-on-revoke. */
  rotator?: RotatorPolicy;
}

/** A PostgreSQL login of the requester's own, made for each grant and dropped at its end. */
export interface DatabaseRoleResourcePolicy {
  type: 'database-role';
  id: string;
  name?: string;
  integration: string;
  /** The vault (managed by the service account) where each grant's login item is made and shared. */
  vaultId: string;
  grant: 'database-role';
  /** A postgres target. */
  target: string;
  memberOf: string[];
  connectionLimit: number;
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
  /** Present exactly when the grant is rotate-on-revoke. */
  rotator?: RotatorPolicy;
}

export type ResourcePolicy =
  ItemResourcePolicy | VaultResourcePolicy | DatabaseRoleResourcePolicy | SelectionResourcePolicy;

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
  /** Absent: the flow offers no break-glass. */
  breakGlass?: BreakGlassPolicy;
  notify: NotifySpec;
}

/**
 * Access at once, when no approver can be reached, held to account: the ratifiers must ratify it within
 * `ratifyWithinMs` of the request, or access ends then (rotated with `end-and-rotate`) and admins are alerted.
 */
export interface BreakGlassPolicy {
  maxDurationMs: number;
  ratifyWithinMs: number;
  ratifiers: ApproverRef[];
  onNotRatified: 'end' | 'end-and-rotate';
  /** At most `count` break-glass requests per person in any window of `perMs`. */
  perPersonLimit?: { count: number; perMs: number };
}
