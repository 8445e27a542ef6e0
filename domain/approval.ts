import { type Actor, actorMatches, type Principal, principalKey } from '../contracts/identity';
import type { ApprovalRecord } from '../contracts/request';
import type { ApprovalSpec, ApprovalTier, ThresholdSpec } from '../contracts/snapshot';

/**
 * How approvals add up: which tiers are asked, who belongs to them, and when a threshold is met.
 * Pure functions of the flow snapshot pinned in a request, so a decision can be proven afterwards.
 */

export function isAdmin(actor: Actor): boolean {
  return actor.roles.includes('admin');
}

/** Tiers asked so far: escalation adds tiers, and earlier tiers keep their right. */
export function askedTiers(approval: ApprovalSpec, currentTier: number): ApprovalTier[] {
  return approval.tiers.slice(0, Math.max(0, Math.min(currentTier, approval.tiers.length - 1)) + 1);
}

/** Indexes of the asked tiers (0..currentTier) in which the actor is a listed approver. */
export function tiersActorMayApprove(approval: ApprovalSpec, currentTier: number, actor: Actor): number[] {
  return askedTiers(approval, currentTier)
    .map((tier, index) => (tier.approvers.some((principal) => actorMatches(actor, principal)) ? index : -1))
    .filter((index) => index >= 0);
}

/** Every principal of every tier (asked or not) that the actor matches, as `user:<id>` / `group:<id>`. */
export function matchedPrincipals(approval: ApprovalSpec, actor: Actor): string[] {
  const keys = new Set<string>();
  for (const tier of approval.tiers) {
    for (const principal of tier.approvers) if (actorMatches(actor, principal)) keys.add(principalKey(principal));
  }
  return [...keys].sort();
}

/** Principals who may approve right now (tiers 0..currentTier), for the pending-approvers search attribute. */
export function pendingApproverKeys(approval: ApprovalSpec, currentTier: number): string[] {
  const keys = new Set<string>();
  for (const tier of askedTiers(approval, currentTier)) for (const p of tier.approvers) keys.add(principalKey(p));
  return [...keys].sort();
}

/** The principals a tier names, as `user:<id>` / `group:<id>`, in policy order. */
export function tierPrincipalKeys(tier: ApprovalTier): string[] {
  return tier.approvers.map(principalKey);
}

/** Approvals a tier's threshold needs (a tier of the policy, or of a snapshot: only its approvers' count matters). */
export function approvalsNeeded(tier: { approvers: readonly unknown[]; threshold: ThresholdSpec }): number {
  switch (tier.threshold.kind) {
    case 'any':
      return 1;
    case 'all':
      return tier.approvers.length;
    case 'atLeast':
      return tier.threshold.count;
  }
}

/** The smallest number of approvals that can decide the request among the asked tiers. */
export function approvalsRequired(approval: ApprovalSpec, currentTier: number): number {
  if (approval.automatic || approval.tiers.length === 0) return 0;
  return Math.min(...askedTiers(approval, currentTier).map(approvalsNeeded));
}

function recordMatches(record: ApprovalRecord, principal: Principal): boolean {
  return (record.matchedPrincipals ?? []).includes(principalKey(principal));
}

/**
 * Whether `all` is met: each listed principal is covered by a different approver (one person cannot
 * stand for two listed groups). A small bipartite matching; tiers are short lists.
 */
function everyPrincipalCovered(principals: Principal[], records: ApprovalRecord[]): boolean {
  const assignedTo = new Map<number, number>(); // record index -> principal index
  const tryAssign = (principalIndex: number, seen: Set<number>): boolean => {
    for (let r = 0; r < records.length; r++) {
      if (seen.has(r) || !recordMatches(records[r], principals[principalIndex])) continue;
      seen.add(r);
      const holder = assignedTo.get(r);
      if (holder === undefined || tryAssign(holder, seen)) {
        assignedTo.set(r, principalIndex);
        return true;
      }
    }
    return false;
  };
  return principals.every((_, index) => tryAssign(index, new Set()));
}

/** Whether the approvals satisfy one tier's threshold. Approvals count for a tier when the approver matches it. */
export function tierThresholdMet(tier: ApprovalTier, threshold: ThresholdSpec, approvals: ApprovalRecord[]): boolean {
  const relevant = approvals.filter((record) => tier.approvers.some((principal) => recordMatches(record, principal)));
  const distinctApprovers = new Set(relevant.map((record) => record.approverId)).size;
  switch (threshold.kind) {
    case 'any':
      return distinctApprovers >= 1;
    case 'atLeast':
      return distinctApprovers >= threshold.count;
    case 'all':
      return everyPrincipalCovered(tier.approvers, relevant);
  }
}

/** Approved once any asked tier's threshold is met. */
export function thresholdMet(approval: ApprovalSpec, currentTier: number, approvals: ApprovalRecord[]): boolean {
  if (approval.automatic) return true;
  return askedTiers(approval, currentTier).some((tier) => tierThresholdMet(tier, tier.threshold, approvals));
}
