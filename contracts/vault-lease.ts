import { defineQuery, defineSignal } from '@temporalio/workflow';

/**
 * Messages between access-request workflows and the vault-lease entity workflow of one
 * (integration, vault, group). Requests send acquire/release (through an activity that uses
 * signal-with-start); the reconciler sends sync; the lease workflow answers each one with a result
 * signal back to the sender. Every message is idempotent by lease id, so a retried send changes nothing.
 */
export interface VaultLeaseKey {
  integration: string;
  vaultId: string;
  groupId: string;
}

/** A holder the reconciler found in visibility (an active request), with the end of its grant. */
export interface HolderClaim {
  leaseId: string;
  permissions: string[];
  endsAt: string;
}

/** Both messages carry a MAC (trust/internal-message.ts): only latchkey's own workers can send them. */
export interface LeaseRequest {
  /**
   * acquire: hold the permissions (again: renew the hard end); release: stop holding; sync (the
   * reconciler): read 1Password again, adopt the holders it names, and remove what no holder needs.
   */
  op: 'acquire' | 'release' | 'sync';
  /** The holder: the access-request workflow id (for sync, the reconcile run). */
  leaseId: string;
  /** Workflow that receives the result signal (the holder itself). */
  replyTo: string;
  /** Permissions the holder needs (acquire only). */
  permissions: string[];
  /**
   * When the holder's grant ends (acquire). The lease drops a holder this long after its end even if
   * its request never releases (an operator terminated it): access always ends.
   */
  endsAt?: string;
  /** sync only: the holders visibility shows. */
  holders?: HolderClaim[];
  /** sync only: holders whose request workflow the reconciler found closed (terminated by an operator). */
  drop?: string[];
  /** Absent in messages recorded before they were authenticated. */
  mac?: string;
}

export interface LeaseResult {
  op: LeaseRequest['op'];
  leaseId: string;
  ok: boolean;
  /**
   * What 1Password did for this message: the lease workflow granted or revoked, only counted, or found
   * the vault or group gone (and every permission with it).
   */
  effect: 'granted' | 'revoked' | 'counted' | 'gone';
  /** Holders after this message, for the record. */
  holders: number;
  /** For a failed acquire: the failure type and a safe message. */
  failure?: { code: string; message: string };
  /** Failed revoke attempts before the confirmed revoke (release, in leases started before the patch lease-converges). */
  revokeAttempts?: number;
  /** sync only: permissions 1Password held, and permissions holders need that 1Password does not hold. */
  found?: string[];
  missing?: string[];
  mac?: string;
}

export interface LeaseHolder {
  permissions: string[];
  replyTo: string;
  since: string;
  /** When the holder's grant ends; absent for holders of leases started before the patch lease-converges. */
  endsAt?: string;
}

export interface VaultLeaseState extends VaultLeaseKey {
  holders: Record<string, LeaseHolder>;
  /**
   * Permissions 1Password may hold for the group on the vault: what it confirmed, plus anything a call
   * that failed may still have applied. Empty when nothing can be granted.
   */
  granted: string[];
  /** Messages received but not processed yet (carried over continue-as-new). */
  queue: LeaseRequest[];
  /** Runs of this entity so far (continue-as-new count). */
  generation: number;
  /** When this entity last read what 1Password really holds (a fresh run reads it before it acts). */
  checkedAt?: string;
}

export const leaseRequestSignal = defineSignal<[LeaseRequest]>('leaseRequest');
export const leaseResultSignal = defineSignal<[LeaseResult]>('leaseResult');
export const leaseStateQuery = defineQuery<VaultLeaseState>('leaseState');

export const VAULT_LEASE_WORKFLOW_TYPE = 'vaultLeaseWorkflow';
