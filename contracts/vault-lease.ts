import { defineQuery, defineSignal } from '@temporalio/workflow';

/**
 * Messages between access-request workflows and the vault-lease entity workflow of one
 * (integration, vault, group). Requests send acquire/release (through an activity that uses
 * signal-with-start); the lease workflow answers each one with a result signal back to the sender.
 * Every message is idempotent by lease id, so a retried send changes nothing.
 */
export interface VaultLeaseKey {
  integration: string;
  vaultId: string;
  groupId: string;
}

export interface LeaseRequest {
  op: 'acquire' | 'release';
  /** The holder: the access-request workflow id. */
  leaseId: string;
  /** Workflow that receives the result signal (the holder itself). */
  replyTo: string;
  /** Permissions the holder needs (acquire only). */
  permissions: string[];
}

export interface LeaseResult {
  op: 'acquire' | 'release';
  leaseId: string;
  ok: boolean;
  /** What 1Password did for this message: the lease workflow granted or revoked, or only counted. */
  effect: 'granted' | 'revoked' | 'counted';
  /** Holders after this message, for the record. */
  holders: number;
  /** For a failed acquire: the failure type and a safe message. */
  failure?: { code: string; message: string };
  /** Failed revoke attempts before the confirmed revoke (release only). */
  revokeAttempts?: number;
}

export interface VaultLeaseState extends VaultLeaseKey {
  holders: Record<string, { permissions: string[]; replyTo: string; since: string }>;
  /** Permissions 1Password confirmed for the group on the vault; empty when nothing is granted. */
  granted: string[];
  /** Messages received but not processed yet (carried over continue-as-new). */
  queue: LeaseRequest[];
  /** Runs of this entity so far (continue-as-new count). */
  generation: number;
}

export const leaseRequestSignal = defineSignal<[LeaseRequest]>('leaseRequest');
export const leaseResultSignal = defineSignal<[LeaseResult]>('leaseResult');
export const leaseStateQuery = defineQuery<VaultLeaseState>('leaseState');

export const VAULT_LEASE_WORKFLOW_TYPE = 'vaultLeaseWorkflow';
