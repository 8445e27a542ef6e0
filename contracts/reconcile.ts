import type { RotatorSpec } from './snapshot';
import type { HolderClaim } from './vault-lease';

/**
 * The reconciler: a scheduled workflow that compares what 1Password really grants on every vault the
 * service account manages with the grants latchkey's requests and vault leases explain, removes what
 * nothing explains (unless the integration says report only), and reports the rest.
 */
export interface ReconcileInput {
  /** Report what would be removed, remove nothing. */
  dryRun: boolean;
}

/** One group's permissions on one vault, as 1Password holds them. */
export interface ObservedPermission {
  integration: string;
  vaultId: string;
  groupId: string;
  permissions: string[];
}

/** A grant latchkey holds for a group on a vault: a vault-lease holder, or an active request that needs it. */
export interface ExplainedGrant extends HolderClaim {
  integration: string;
  vaultId: string;
  groupId: string;
  /** The request, when the grant is one (a lease holder is also one, by its lease id). */
  requestId?: string;
  /**
   * A lease holder whose request workflow is no longer running (an operator terminated it): it explains
   * nothing, and the lease is told to drop it.
   */
  closed?: boolean;
}

/**
 * A rotate-on-revoke grant whose request was terminated by an operator before its secret was rotated:
 * the credential the requester saw would keep working, so the reconciler rotates it.
 */
/**
 * A terminated request whose access only its end removes: a rotate-on-revoke secret never rotated, or a
 * database login never dropped (`login`).
 */
export interface UnrotatedGrant {
  integration: string;
  vaultId: string;
  /** The rotated item; for a database login, none (its item is found by title). */
  itemId: string;
  /** The policy resource, for alerts (absent in passes made before database logins). */
  resourceId?: string;
  /** What changes the credential where it is used; absent in requests made before rotators existed. */
  rotator?: RotatorSpec;
  /** A database-role grant: the login to drop and its item to delete. */
  login?: { target: string; role: string; itemTitle: string };
  /** The request's workflow id: its rotation is the step `<workflowId>:rotate`, made once per request. */
  workflowId: string;
  requestId: string;
}

/** What the reconcile activity reads: the observed permissions, the grants that explain them, and what may be repaired. */
export interface GrantObservation {
  at: string;
  integrations: Array<{ name: string; repair: boolean }>;
  /** Managed vaults read, per integration. */
  vaultsRead: number;
  permissions: ObservedPermission[];
  grants: ExplainedGrant[];
  unrotated: UnrotatedGrant[];
}

export type DriftKind =
  /** 1Password grants a group permissions on a managed vault that no active grant explains. */
  | 'unexplained'
  /** Active grants need permissions that 1Password does not grant (someone removed them). */
  | 'missing'
  /** 1Password grants more than the active grants need (a failed grant while others held). */
  | 'excess'
  /** A terminated request's access was never ended: a secret never rotated, or a database login never dropped. */
  | 'unrotated'
  /** A vault lease still counts holders whose requests were terminated, though 1Password holds nothing for them. */
  | 'stale-holders';

export interface Drift {
  kind: DriftKind;
  integration: string;
  vaultId: string;
  /** The group, for permission drift; the item, for an unrotated secret. */
  groupId?: string;
  itemId?: string;
  /** A terminated database-role request's login (its role), for an unrotated drift. */
  loginRole?: string;
  permissions: string[];
  /** Requests whose grants are concerned (for missing, excess and unrotated). */
  requestIds: string[];
  /** Lease holders whose requests were terminated: the lease drops them before it removes what nobody needs. */
  staleHolders?: string[];
  /**
   * removed / rotated: repaired (through the vault lease, or by rotating the secret); would-remove /
   * would-rotate: a dry run; reported: report-only integration, or a kind latchkey does not repair;
   * failed: not confirmed in time (the next pass tries again).
   */
  action: 'removed' | 'rotated' | 'would-remove' | 'would-rotate' | 'reported' | 'failed';
}

export interface ReconcileReport {
  at: string;
  dryRun: boolean;
  vaultsRead: number;
  activeGrants: number;
  drifts: Drift[];
}

/** The Temporal Schedule that runs the reconciler. */
export const RECONCILE_SCHEDULE_ID = 'latchkey-reconcile';
/** The id the Schedule gives its runs; Temporal appends the time of each run (`Reconcile-2026-…Z`). */
export const RECONCILE_WORKFLOW_ID = 'Reconcile';
