import { type Actor, actorMatches } from '../contracts/identity';
import { REFUSAL } from '../contracts/messages';
import type { AccessRequestState } from '../contracts/request';
import type { FlowSnapshot } from '../contracts/snapshot';
import { isAdmin, tiersActorMayApprove } from './approval';
import { allow, type Decision, refuse } from './decision';
import { outlivesLink, shortestCoveringBucket } from './share-links';

/**
 * Who may change a request, and in which state: one rule per change. The workflow's Update
 * validators have the last word by calling these; the API and unit tests can call them too.
 */

/** The state facts the approval rules read. */
export type ApprovalContext = Pick<
  AccessRequestState,
  'status' | 'requesterId' | 'currentTier' | 'approvals' | 'pendingExtension' | 'breakGlass'
>;

/**
 * What approve and reject decide: the request while it is pending, a pending extension of an active grant,
 * or a break-glass grant awaiting ratification (approve ratifies it, reject ends it).
 */
export type DecisionTarget = 'request' | 'extension' | 'ratification';

export function decisionTarget(
  state: Pick<AccessRequestState, 'status' | 'pendingExtension' | 'breakGlass'>,
): DecisionTarget | undefined {
  if (state.status === 'PENDING_APPROVAL') return 'request';
  if (awaitsRatification(state)) return 'ratification';
  // Once its new share link is being made, an extension is decided.
  if (state.status === 'ACTIVE' && state.pendingExtension && !state.pendingExtension.makingLinkSince) {
    return 'extension';
  }
  return undefined;
}

/** A break-glass grant (being made, or active) that nobody has ratified or refused yet. */
export function awaitsRatification(state: Pick<AccessRequestState, 'status' | 'breakGlass'>): boolean {
  const breakGlass = state.breakGlass;
  return (
    !!breakGlass &&
    !breakGlass.ratification &&
    !breakGlass.refusal &&
    (state.status === 'APPROVED' || state.status === 'ACTIVE')
  );
}

/** May this actor ratify (or refuse) the break-glass grant? Never its requester, whatever the flow allows. */
function checkRatifier(snapshot: FlowSnapshot, state: ApprovalContext, actor: Actor): Decision<number> {
  if (actor.id === state.requesterId) {
    return refuse(REFUSAL.forbidden, 'the requester may not ratify their own break-glass access');
  }
  if (!isRatifier(snapshot, actor))
    return refuse(REFUSAL.forbidden, 'the caller is not a ratifier of this break-glass access');
  return allow(0);
}

export function isRatifier(snapshot: FlowSnapshot, actor: Actor): boolean {
  return !!snapshot.breakGlass?.ratifiers.some((principal) => actorMatches(actor, principal));
}

function approvalsOf(state: ApprovalContext, target: DecisionTarget): ApprovalContext['approvals'] {
  return target === 'extension' ? (state.pendingExtension?.approvals ?? []) : state.approvals;
}

/**
 * May this actor approve now? Returns the lowest tier whose right the actor uses. Approving a pending
 * extension follows the same rules with the extension's own approvals.
 */
export function checkApprove(snapshot: FlowSnapshot, state: ApprovalContext, actor: Actor): Decision<number> {
  const target = decisionTarget(state);
  if (!target) return refuse(REFUSAL.conflict, `the request is ${state.status} and waits for no approval`);
  if (target === 'ratification') return checkRatifier(snapshot, state, actor);
  if (actor.id === state.requesterId && !snapshot.approval.allowSelfApproval) {
    return refuse(REFUSAL.forbidden, 'the requester may not approve their own request under this flow');
  }
  const tiers = tiersActorMayApprove(snapshot.approval, state.currentTier, actor);
  if (tiers.length === 0) return refuse(REFUSAL.forbidden, 'the caller is not an approver of this request');
  if (approvalsOf(state, target).some((record) => record.approverId === actor.id)) {
    return refuse(REFUSAL.conflict, 'the caller has already approved this request');
  }
  return allow(tiers[0]);
}

export function checkReject(snapshot: FlowSnapshot, state: ApprovalContext, actor: Actor): Decision {
  const target = decisionTarget(state);
  if (!target) return refuse(REFUSAL.conflict, `the request is ${state.status} and waits for no decision`);
  if (target === 'ratification') {
    const ratifier = checkRatifier(snapshot, state, actor);
    return ratifier.ok ? allow(undefined) : ratifier;
  }
  if (actor.id === state.requesterId) {
    return refuse(REFUSAL.forbidden, 'the requester withdraws (cancel) rather than rejects their own request');
  }
  if (tiersActorMayApprove(snapshot.approval, state.currentTier, actor).length === 0) {
    return refuse(REFUSAL.forbidden, 'the caller is not an approver of this request');
  }
  if (approvalsOf(state, target).some((record) => record.approverId === actor.id)) {
    return refuse(REFUSAL.conflict, 'the caller has already approved this request');
  }
  return allow(undefined);
}

/**
 * Whether a request may be stopped while its grant is being made (and retried, for up to hours): a
 * request started before the patch `access-always-ends` cannot, since its workflow does not listen.
 */
export interface StopRules {
  whileGranting: boolean;
}

function stopping(state: Pick<AccessRequestState, 'cancellation' | 'revocation'>): boolean {
  return !!state.cancellation || !!state.revocation;
}

/**
 * Withdraw: the requester (or an admin) while the request still waits for a decision, or while its
 * grant is being made (the request then ends as soon as the attempt in flight settles).
 */
export function checkCancel(
  state: Pick<AccessRequestState, 'status' | 'requesterId' | 'cancellation' | 'revocation'>,
  actor: Actor,
  rules: StopRules = { whileGranting: false },
): Decision {
  if (actor.id !== state.requesterId && !isAdmin(actor)) {
    return refuse(REFUSAL.forbidden, 'only the requester or an admin may withdraw a request');
  }
  const granting = state.status === 'APPROVED' && rules.whileGranting;
  if (state.status !== 'PENDING_APPROVAL' && !granting) {
    return refuse(REFUSAL.conflict, `the request is ${state.status}; only a pending request can be withdrawn`);
  }
  if (stopping(state)) return refuse(REFUSAL.conflict, 'the request is already being stopped');
  return allow(undefined);
}

/**
 * End a grant early: the requester, an approver of an asked tier, or an admin, while ACTIVE or while the
 * grant is being made. Refused once access is ENDING: nothing changes the outcome then.
 */
export function checkRevoke(
  snapshot: FlowSnapshot,
  state: Pick<AccessRequestState, 'status' | 'requesterId' | 'currentTier' | 'revocation' | 'cancellation'>,
  actor: Actor,
  rules: StopRules = { whileGranting: false },
): Decision {
  const approver =
    tiersActorMayApprove(snapshot.approval, state.currentTier, actor).length > 0 || isRatifier(snapshot, actor);
  if (actor.id !== state.requesterId && !approver && !isAdmin(actor)) {
    return refuse(REFUSAL.forbidden, 'only the requester, an approver or an admin may revoke this grant');
  }
  if (state.status === 'ENDING') return refuse(REFUSAL.conflict, 'access is already being ended');
  const granting = state.status === 'APPROVED' && rules.whileGranting;
  if (state.status !== 'ACTIVE' && !granting) {
    return refuse(REFUSAL.conflict, `the request is ${state.status}; only an active grant can be revoked`);
  }
  if (stopping(state)) return refuse(REFUSAL.conflict, 'the grant is already being revoked');
  return allow(undefined);
}

/** Total access time granted so far (approved duration plus applied extensions). */
export function grantedMs(state: Pick<AccessRequestState, 'durationMs' | 'extensions'>): number {
  return state.durationMs + state.extensions.reduce((sum, extension) => sum + extension.addedMs, 0);
}

/**
 * Extending a share-link grant past the link's expiry: requests started after the patch `extension-renews-link`
 * get a new link made at `nowMs`; those started before are refused.
 */
export interface ExtendRules {
  renewsLink: boolean;
  nowMs: number;
}

/**
 * May the requester extend by `addMs`? Within the count, the single-extension maximum, the flow's maximum in
 * total and, for share links, what a link can cover: an end past the link's expiry needs a new link, and no
 * link lasts more than 30 days.
 */
export function checkExtend(
  snapshot: FlowSnapshot,
  state: Pick<
    AccessRequestState,
    'status' | 'requesterId' | 'durationMs' | 'extensions' | 'pendingExtension' | 'grant' | 'revocation' | 'breakGlass'
  >,
  actor: Actor,
  addMs: number,
  renewal: ExtendRules,
): Decision<{ newEndsAt: string }> {
  if (actor.id !== state.requesterId) return refuse(REFUSAL.forbidden, 'only the requester may ask for an extension');
  if (state.status !== 'ACTIVE' || !state.grant || state.revocation) {
    return refuse(REFUSAL.conflict, `the request is ${state.status}; only an active grant can be extended`);
  }
  if (awaitsRatification(state)) {
    return refuse(REFUSAL.conflict, 'break-glass access can be extended only once it has been ratified');
  }
  if (state.pendingExtension?.makingLinkSince) {
    return refuse(REFUSAL.conflict, 'the new share link of an extension is being made');
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
  const newEndsAt = new Date(Date.parse(state.grant.endsAt) + addMs).toISOString();
  if (outlivesLink(state.grant.providerExpiresAt, newEndsAt)) {
    if (!renewal.renewsLink) {
      return refuse(REFUSAL.invalid, 'the share link expires before the extended end; request access again instead');
    }
    if (!shortestCoveringBucket(Date.parse(newEndsAt) - renewal.nowMs)) {
      return refuse(
        REFUSAL.invalid,
        'the extended end needs a new share link, and a share link lasts at most 30 days; request access again instead',
      );
    }
  }
  return allow({ newEndsAt });
}
