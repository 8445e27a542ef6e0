import { type Actor, actorMatches, type Principal, principalKey } from '../contracts/identity';
import { REFUSAL } from '../contracts/messages';
import type { SearchAttributePair } from '@temporalio/common';
import type { AccessRequestState, ApprovalRecord, GrantGuarantee } from '../contracts/request';
import {
  SA_INTEGRATION,
  SA_PENDING_APPROVERS,
  SA_REQUESTER,
  SA_RESOURCE,
  SA_STATUS,
  SA_VAULT,
} from '../contracts/search-attributes';
import type { ApprovalSpec, ApprovalTier, FlowSnapshot, GrantSpec, ThresholdSpec } from '../contracts/snapshot';
import { EXPIRY_BUCKET_MS, EXPIRY_BUCKETS, type ExpiryBucket } from '../onepassword/port';

/**
 * Every decision of the access-request workflow that must be provable, as small pure functions.
 * No Temporal import here: the workflow's validators call them, and so can the API (to answer 403 or
 * 409 before sending an Update) and unit tests.
 */

export type RefusalType = (typeof REFUSAL)[keyof typeof REFUSAL];

export type Decision<T = void> = { ok: true; value: T } | { ok: false; refusal: RefusalType; reason: string };

function allow<T>(value: T): Decision<T> {
  return { ok: true, value };
}

function refuse<T = never>(refusal: RefusalType, reason: string): Decision<T> {
  return { ok: false, refusal, reason };
}

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

export function approvalsNeeded(tier: ApprovalTier): number {
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

/** The state facts the approval rules read. */
export type ApprovalContext = Pick<
  AccessRequestState,
  'status' | 'requesterId' | 'currentTier' | 'approvals' | 'pendingExtension'
>;

/**
 * May this actor approve now? Returns the lowest tier whose right the actor uses. Approving a pending
 * extension follows the same rules with the extension's own approvals.
 */
export function checkApprove(snapshot: FlowSnapshot, state: ApprovalContext, actor: Actor): Decision<number> {
  const extension = state.status === 'ACTIVE' ? state.pendingExtension : undefined;
  if (state.status !== 'PENDING_APPROVAL' && !extension) {
    return refuse(REFUSAL.conflict, `the request is ${state.status} and waits for no approval`);
  }
  if (actor.id === state.requesterId && !snapshot.approval.allowSelfApproval) {
    return refuse(REFUSAL.forbidden, 'the requester may not approve their own request under this flow');
  }
  const tiers = tiersActorMayApprove(snapshot.approval, state.currentTier, actor);
  if (tiers.length === 0) return refuse(REFUSAL.forbidden, 'the caller is not an approver of this request');
  const approvals = extension ? extension.approvals : state.approvals;
  if (approvals.some((record) => record.approverId === actor.id)) {
    return refuse(REFUSAL.conflict, 'the caller has already approved this request');
  }
  return allow(tiers[0]);
}

export function checkReject(snapshot: FlowSnapshot, state: ApprovalContext, actor: Actor): Decision {
  const extension = state.status === 'ACTIVE' ? state.pendingExtension : undefined;
  if (state.status !== 'PENDING_APPROVAL' && !extension) {
    return refuse(REFUSAL.conflict, `the request is ${state.status} and waits for no decision`);
  }
  if (actor.id === state.requesterId) {
    return refuse(REFUSAL.forbidden, 'the requester withdraws (cancel) rather than rejects their own request');
  }
  if (tiersActorMayApprove(snapshot.approval, state.currentTier, actor).length === 0) {
    return refuse(REFUSAL.forbidden, 'the caller is not an approver of this request');
  }
  const approvals = extension ? extension.approvals : state.approvals;
  if (approvals.some((record) => record.approverId === actor.id)) {
    return refuse(REFUSAL.conflict, 'the caller has already approved this request');
  }
  return allow(undefined);
}

/** Withdraw: the requester (or an admin) while the request still waits for a decision. */
export function checkCancel(state: Pick<AccessRequestState, 'status' | 'requesterId'>, actor: Actor): Decision {
  if (actor.id !== state.requesterId && !isAdmin(actor)) {
    return refuse(REFUSAL.forbidden, 'only the requester or an admin may withdraw a request');
  }
  if (state.status !== 'PENDING_APPROVAL') {
    return refuse(REFUSAL.conflict, `the request is ${state.status}; only a pending request can be withdrawn`);
  }
  return allow(undefined);
}

/** End a grant early: the requester, an approver of an asked tier, or an admin, while ACTIVE. */
export function checkRevoke(
  snapshot: FlowSnapshot,
  state: Pick<AccessRequestState, 'status' | 'requesterId' | 'currentTier' | 'revocation'>,
  actor: Actor,
): Decision {
  const approver = tiersActorMayApprove(snapshot.approval, state.currentTier, actor).length > 0;
  if (actor.id !== state.requesterId && !approver && !isAdmin(actor)) {
    return refuse(REFUSAL.forbidden, 'only the requester, an approver or an admin may revoke this grant');
  }
  if (state.status !== 'ACTIVE') {
    return refuse(REFUSAL.conflict, `the request is ${state.status}; only an active grant can be revoked`);
  }
  if (state.revocation) return refuse(REFUSAL.conflict, 'the grant is already being revoked');
  return allow(undefined);
}

/** Total access time granted so far (approved duration plus applied extensions). */
export function grantedMs(state: Pick<AccessRequestState, 'durationMs' | 'extensions'>): number {
  return state.durationMs + state.extensions.reduce((sum, extension) => sum + extension.addedMs, 0);
}

/**
 * May the requester extend by `addMs`? Within the count, the single-extension maximum, the flow's
 * maximum in total and, for share links, the link's own expiry (a link cannot outlive its bucket).
 */
export function checkExtend(
  snapshot: FlowSnapshot,
  state: Pick<
    AccessRequestState,
    'status' | 'requesterId' | 'durationMs' | 'extensions' | 'pendingExtension' | 'grant' | 'revocation'
  >,
  actor: Actor,
  addMs: number,
): Decision<{ newEndsAt: string }> {
  if (actor.id !== state.requesterId) return refuse(REFUSAL.forbidden, 'only the requester may ask for an extension');
  if (state.status !== 'ACTIVE' || !state.grant || state.revocation) {
    return refuse(REFUSAL.conflict, `the request is ${state.status}; only an active grant can be extended`);
  }
  if (state.pendingExtension) return refuse(REFUSAL.conflict, 'an extension already waits for approval');
  const rules = snapshot.extensions;
  if (state.extensions.length >= rules.maxCount) {
    return refuse(REFUSAL.invalid, `this flow allows at most ${rules.maxCount} extension(s)`);
  }
  if (!Number.isInteger(addMs) || addMs <= 0)
    return refuse(REFUSAL.invalid, 'the extension must be a positive duration');
  if (addMs > rules.maxExtensionMs) {
    return refuse(REFUSAL.invalid, `one extension may add at most ${rules.maxExtensionMs} ms`);
  }
  if (grantedMs(state) + addMs > snapshot.maxDurationMs) {
    return refuse(REFUSAL.invalid, `the flow allows at most ${snapshot.maxDurationMs} ms of access in total`);
  }
  const newEnd = Date.parse(state.grant.endsAt) + addMs;
  if (state.grant.providerExpiresAt && newEnd > Date.parse(state.grant.providerExpiresAt)) {
    return refuse(REFUSAL.invalid, 'the share link expires before the extended end; request access again instead');
  }
  return allow({ newEndsAt: new Date(newEnd).toISOString() });
}

/**
 * The shortest share-link expiry bucket that covers the duration, refused when the account policy's
 * maximum is shorter (1Password offers nothing in between the buckets).
 */
export function expiryBucketFor(durationMs: number, accountMax: ExpiryBucket = '30d'): Decision<ExpiryBucket> {
  const bucket = EXPIRY_BUCKETS.find((candidate) => EXPIRY_BUCKET_MS[candidate] >= durationMs);
  if (!bucket) return refuse(REFUSAL.invalid, 'share links last at most 30 days; the duration is longer');
  if (EXPIRY_BUCKET_MS[bucket] > EXPIRY_BUCKET_MS[accountMax]) {
    return refuse(
      REFUSAL.invalid,
      `the account's sharing policy allows links of at most ${accountMax}; the duration needs ${bucket}`,
    );
  }
  return allow(bucket);
}

export type GrantMode = GrantGuarantee['mode'];

export function grantModeOf(grant: GrantSpec): GrantMode {
  if (grant.mode === 'vault-group') return 'vault-group';
  return grant.rotateOnRevoke ? 'rotate-on-revoke' : 'share-link';
}

/** What 1Password really guarantees about the end of access, per mode (BRIEF §5). */
export function guaranteeFor(mode: GrantMode, endsAt: string, providerExpiresAt?: string): GrantGuarantee {
  switch (mode) {
    case 'share-link':
      return {
        mode,
        statement: `viewable once, by the requester's e-mail, until ${providerExpiresAt ?? endsAt}; a share link cannot be withdrawn early`,
      };
    case 'vault-group':
      return { mode, statement: `1Password access removed at ${endsAt}` };
    case 'rotate-on-revoke':
      return { mode, statement: `the credential you saw stops working at ${endsAt}` };
  }
}

/** Escalation schedule: when tier `tier + 1` is asked, counted from when `tier` was asked. */
export function nextEscalationAt(approval: ApprovalSpec, tier: number, tierAskedAtMs: number): number | undefined {
  const after = approval.tiers[tier]?.escalateAfterMs;
  if (after === undefined || tier + 1 >= approval.tiers.length) return undefined;
  return tierAskedAtMs + after;
}

/** Reminders every interval from the request's start, strictly before the pending deadline. */
export function nextReminderAt(
  startMs: number,
  intervalMs: number | undefined,
  nowMs: number,
  deadlineMs: number,
): number | undefined {
  if (!intervalMs || intervalMs <= 0) return undefined;
  const next = startMs + (Math.floor((nowMs - startMs) / intervalMs) + 1) * intervalMs;
  return next < deadlineMs ? next : undefined;
}

/** Backoff between failed revoke attempts: doubling from 1 s, capped. */
export function revokeBackoffMs(failedAttempts: number, capMs = 300_000): number {
  return Math.min(capMs, 1_000 * 2 ** Math.max(0, Math.min(failedAttempts - 1, 30)));
}

/**
 * The search attributes a request starts with, so that it is findable from its first moment
 * (the workflow keeps them current afterwards). Ids only: no e-mail, no secret.
 */
export function initialSearchAttributes(snapshot: FlowSnapshot, requesterId: string): SearchAttributePair[] {
  const { approval } = snapshot;
  return [
    { key: SA_STATUS, value: approval.automatic ? 'APPROVED' : 'PENDING_APPROVAL' },
    { key: SA_REQUESTER, value: requesterId },
    { key: SA_RESOURCE, value: snapshot.resource.id },
    { key: SA_INTEGRATION, value: snapshot.integration.name },
    { key: SA_VAULT, value: snapshot.resource.vaultId },
    { key: SA_PENDING_APPROVERS, value: approval.automatic ? [] : pendingApproverKeys(approval, 0) },
  ];
}
