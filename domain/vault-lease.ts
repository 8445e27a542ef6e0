import type { VaultLeaseState } from '../contracts/vault-lease';

/**
 * The vault lease's rules, pure: which holders still need the group's permissions, and which ones have
 * outlived their grant. The entity workflow (workflows/vault-lease.ts) acts on them.
 */

/**
 * A holder is dropped this long after its grant's end if its request never released it: long enough
 * for a live request to end access itself, short enough that a terminated one leaves nothing behind.
 */
export const LEASE_HOLDER_GRACE_MS = 15 * 60_000;

/** Lease ids of holders whose grant ended more than the grace ago. */
export function expiredHolders(state: Pick<VaultLeaseState, 'holders'>, nowMs: number): string[] {
  return Object.entries(state.holders)
    .filter(([, holder]) => holder.endsAt !== undefined && Date.parse(holder.endsAt) + LEASE_HOLDER_GRACE_MS <= nowMs)
    .map(([leaseId]) => leaseId);
}

/** When the next holder expires (its end plus the grace), if any holder carries an end. */
export function nextHolderExpiry(state: Pick<VaultLeaseState, 'holders'>): number | undefined {
  const ends = Object.values(state.holders)
    .map((holder) => (holder.endsAt ? Date.parse(holder.endsAt) + LEASE_HOLDER_GRACE_MS : undefined))
    .filter((end): end is number => end !== undefined);
  return ends.length > 0 ? Math.min(...ends) : undefined;
}

/** Every permission some holder needs, sorted. */
export function permissionsNeeded(state: Pick<VaultLeaseState, 'holders'>): string[] {
  return [...new Set(Object.values(state.holders).flatMap((holder) => holder.permissions))].sort();
}
