import type { SearchAttributePair, SearchAttributeUpdatePair } from '@temporalio/common';
import type { AccessRequestInput, AccessRequestState } from '../contracts/request';
import {
  SA_BREAK_GLASS,
  SA_DECIDERS,
  SA_GRANT_ENDS_AT,
  SA_INTEGRATION,
  SA_PENDING_APPROVERS,
  SA_REQUESTER,
  SA_RESOURCE,
  SA_STATUS,
  SA_VAULT,
} from '../contracts/search-attributes';
import type { FlowSnapshot } from '../contracts/snapshot';
import { principalKey } from '../contracts/identity';
import { pendingApproverKeys } from './approval';
import { decisionTarget } from './request-rules';
import { formatIsoDuration } from './duration';
import { grantModeOf } from './guarantees';

/**
 * What a request shows operators in the Temporal UI and visibility: search attributes, memo, summary
 * and details, each computed from the request's facts by one pure function, so that the API (when it
 * starts a request) and the workflow (at every change) show the same thing. Ids and words only:
 * never an e-mail address, never a secret.
 */

export type VisibleState = Pick<
  AccessRequestState,
  'status' | 'requesterId' | 'resourceId' | 'integration' | 'currentTier' | 'grant' | 'breakGlass'
> &
  Partial<Pick<AccessRequestState, 'approvals' | 'rejection' | 'pendingExtension'>>;

/**
 * Every search attribute of a request in this state; `null` removes one that no longer applies.
 * `decisionsFindable` (false only for requests started before the patch `decisions-findable`): who decided is
 * published, and an extension waiting for approval lists its approvers, as a pending request does.
 */
export function searchAttributesOf(
  snapshot: FlowSnapshot,
  state: VisibleState,
  { decisionsFindable = true }: { decisionsFindable?: boolean } = {},
): SearchAttributeUpdatePair[] {
  const breakGlass = breakGlassStage(state);
  const target = decisionTarget(state);
  // Ratifiers find a break-glass grant that waits for them as approvers find a pending request.
  const pending =
    target === 'request' || (target === 'extension' && decisionsFindable)
      ? pendingApproverKeys(snapshot.approval, state.currentTier)
      : target === 'ratification'
        ? snapshot.breakGlass!.ratifiers.map(principalKey)
        : [];
  const endsAt = state.grant && !state.grant.revokedAt ? new Date(state.grant.endsAt) : null;
  const deciders = decisionsFindable ? decidersOf(state) : [];
  return [
    { key: SA_STATUS, value: state.status },
    { key: SA_REQUESTER, value: state.requesterId },
    { key: SA_RESOURCE, value: state.resourceId },
    { key: SA_INTEGRATION, value: state.integration },
    { key: SA_VAULT, value: snapshot.resource.vaultId },
    { key: SA_PENDING_APPROVERS, value: pending.length > 0 ? pending : null },
    { key: SA_GRANT_ENDS_AT, value: endsAt },
    // Only break-glass requests carry it: every other request's search attributes stay as they were.
    ...(breakGlass ? [{ key: SA_BREAK_GLASS, value: breakGlass }] : []),
    // Set from the first decision on, which also changes the status or the tier: no upsert of its own.
    ...(deciders.length > 0 ? [{ key: SA_DECIDERS, value: deciders }] : []),
  ];
}

/** People (never latchkey itself) who approved, rejected, ratified or refused, as principal keys. */
export function decidersOf(state: VisibleState): string[] {
  const people = [
    ...(state.approvals ?? []).map((approval) => approval.approverId),
    state.rejection?.by,
    state.breakGlass?.ratification?.by,
    state.breakGlass?.refusal?.by,
  ].filter((id): id is string => id !== undefined && !id.startsWith('system:'));
  return [...new Set(people)].map((id) => principalKey({ kind: 'user', id }));
}

/** Where a break-glass request stands; undefined for every other request. */
export function breakGlassStage(
  state: Pick<AccessRequestState, 'breakGlass'>,
): 'awaiting-ratification' | 'ratified' | 'not-ratified' | undefined {
  const breakGlass = state.breakGlass;
  if (!breakGlass) return undefined;
  if (breakGlass.ratification) return 'ratified';
  return breakGlass.refusal ? 'not-ratified' : 'awaiting-ratification';
}

/**
 * The search attributes a request is started with, so that it is findable from its first moment: those
 * of the state its first workflow task puts it in (an automatic flow is APPROVED at once).
 */
export function startingSearchAttributes(snapshot: FlowSnapshot, requesterId: string): SearchAttributePair[] {
  const status = snapshot.approval.automatic || snapshot.breakGlass ? 'APPROVED' : 'PENDING_APPROVAL';
  const facts = {
    status,
    requesterId,
    resourceId: snapshot.resource.id,
    integration: snapshot.integration.name,
    currentTier: 0,
    // The deadline is not a search attribute: any value stands for "awaiting ratification".
    breakGlass: snapshot.breakGlass ? { ratifyBy: '' } : undefined,
  } as const;
  return searchAttributesOf(snapshot, facts).filter((pair): pair is SearchAttributePair => pair.value !== null);
}

/** The memo: what the request is about, fixed for its life. */
export function requestMemo(input: AccessRequestInput): Record<string, string> {
  const { snapshot } = input;
  return {
    requestId: input.requestId,
    resourceName: snapshot.resource.name,
    flowName: snapshot.flowName,
    policyVersion: snapshot.policyVersion,
    grantMode: grantModeOf(snapshot.grant),
  };
}

/**
 * What a request's start carries for visibility (the API and every other starter use it): findable from its first
 * moment, and the workflow need not write any of it again (patch `visibility-once-per-change`).
 */
export function visibilityAtStart(input: AccessRequestInput) {
  const { snapshot, requester } = input;
  return {
    typedSearchAttributes: startingSearchAttributes(snapshot, requester.id),
    memo: requestMemo(input),
    staticSummary: requestSummary(requester.id, snapshot),
    staticDetails: requestDetails(snapshot),
  };
}

/** One line for the Temporal UI's list of workflows. */
export function requestSummary(requesterId: string, snapshot: FlowSnapshot): string {
  return `${requesterId} requests ${snapshot.resource.id} for ${formatIsoDuration(snapshot.durationMs)}`;
}

/** What the request was made under: resource, integration, flow and its approval tiers. */
export function requestDetails(snapshot: FlowSnapshot): string {
  const tiers = snapshot.approval.automatic
    ? 'automatic (no approval)'
    : snapshot.approval.tiers
        .map(
          (tier, index) =>
            `tier ${index}: ${tier.approvers.map((p) => `${p.kind}:${p.id}`).join(', ')} (${tier.threshold.kind})`,
        )
        .join('; ');
  return [
    `**Resource** ${snapshot.resource.name} (${snapshot.resource.id}), ${snapshot.grant.mode}`,
    `**Integration** ${snapshot.integration.name}`,
    `**Flow** ${snapshot.flowName}, policy ${snapshot.policyVersion}`,
    `**Approval** ${tiers}`,
  ].join('\n\n');
}

/** Where the request stands now, for the workflow's current details in the Temporal UI. */
export function currentDetails(snapshot: FlowSnapshot, state: AccessRequestState): string {
  const lines = [
    `**${state.status}**: ${snapshot.resource.name} (${state.resourceId}) for ${state.requesterId}`,
    `Flow ${state.flowName}, ${grantModeOf(snapshot.grant)}, ${Math.round(state.durationMs / 60_000)} min requested`,
  ];
  if (state.status === 'PENDING_APPROVAL') {
    lines.push(
      `Approvals ${state.approvals.length}/${state.approvalsRequired}, tier ${state.currentTier + 1}, decide by ${state.pendingDeadline ?? '-'}`,
    );
  }
  if (state.grant) {
    lines.push(`Access ${state.grant.revokedAt ? 'ended' : 'ends'} ${state.grant.revokedAt ?? state.grant.endsAt}`);
    lines.push(state.grant.guarantee.statement);
  }
  if (state.revokeAttempts) lines.push(`Failed attempts to end access: ${state.revokeAttempts}`);
  if (state.failure) lines.push(`Failed: ${state.failure.code}`);
  return lines.join('\n');
}
