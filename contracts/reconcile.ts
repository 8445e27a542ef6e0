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
}

/** What the reconcile activity reads: the observed permissions, the grants that explain them, and what may be repaired. */
export interface GrantObservation {
  at: string;
  integrations: Array<{ name: string; repair: boolean }>;
  /** Managed vaults read, per integration. */
  vaultsRead: number;
  permissions: ObservedPermission[];
  grants: ExplainedGrant[];
}

export type DriftKind =
  /** 1Password grants a group permissions on a managed vault that no active grant explains. */
  | 'unexplained'
  /** Active grants need permissions that 1Password does not grant (someone removed them). */
  | 'missing'
  /** 1Password grants more than the active grants need (a failed grant while others held). */
  | 'excess';

export interface Drift {
  kind: DriftKind;
  integration: string;
  vaultId: string;
  groupId: string;
  permissions: string[];
  /** Requests whose grants are concerned (for missing and excess). */
  requestIds: string[];
  /**
   * removed: the vault lease removed it; would-remove: a dry run; reported: report-only integration, or a
   * kind latchkey does not repair; failed: the lease did not confirm in time (the next run tries again).
   */
  action: 'removed' | 'would-remove' | 'reported' | 'failed';
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
