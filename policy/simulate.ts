import type { ResourceCatalog } from '../contracts/catalog';
import { type Identity, principalKey } from '../contracts/identity';
import type { AskedAgain } from '../contracts/request';
import type { ApprovalSpec, FlowSnapshot } from '../contracts/snapshot';
import { formatIsoDuration } from '../domain/duration';
import { grantModeOf } from '../domain/guarantees';
import { type Evaluation, evaluateRequest, type Refusal } from './evaluate';
import type { LoadedPolicy } from './model';

/** A request as it was made: who asked, for what and why, and the flow snapshot it ran under. */
export interface RecordedRequest {
  requestId: string;
  requester: Identity;
  justification: string;
  ticket?: string;
  snapshot: FlowSnapshot;
}

/** The request evaluated again under `policy`: what a simulation and a scheduled request's start both ask. */
export function evaluateAgain(policy: LoadedPolicy, catalog: ResourceCatalog, asked: AskedAgain): Evaluation {
  return evaluateRequest(policy, catalog, asked.requester, {
    resourceId: asked.resourceId,
    duration: formatIsoDuration(asked.durationMs),
    justification: asked.justification,
    ticket: asked.ticket,
    breakGlass: asked.breakGlass,
  });
}

/** What a recorded request would have met under another policy. */
export type Simulation =
  { outcome: 'refused'; refusal: Refusal } | { outcome: 'changed'; changes: string[] } | { outcome: 'unchanged' };

/**
 * The request asked again, word for word, by the same person with the groups their token had then,
 * under `policy`; then what it would meet compared with what it met: refused (and by which rule), or
 * another flow, other approvers, another maximum, another grant, no break-glass. Pure.
 */
export function simulateRequest(policy: LoadedPolicy, catalog: ResourceCatalog, recorded: RecordedRequest): Simulation {
  const before = recorded.snapshot;
  const evaluation = evaluateAgain(policy, catalog, {
    requester: recorded.requester,
    resourceId: before.resource.id,
    durationMs: before.durationMs,
    justification: recorded.justification,
    ticket: recorded.ticket,
    breakGlass: before.breakGlass !== undefined,
  });
  if (!evaluation.ok) return { outcome: 'refused', refusal: evaluation.refusal };
  const after = evaluation.snapshot;
  const changes: string[] = [];
  if (after.flowName !== before.flowName) changes.push(`flow ${before.flowName} → ${after.flowName}`);
  const approvalBefore = describeApproval(before.approval);
  const approvalAfter = describeApproval(after.approval);
  if (approvalAfter !== approvalBefore) changes.push(`approval ${approvalBefore} → ${approvalAfter}`);
  if (after.maxDurationMs !== before.maxDurationMs) {
    changes.push(`maximum ${formatIsoDuration(before.maxDurationMs)} → ${formatIsoDuration(after.maxDurationMs)}`);
  }
  const grantBefore = grantModeOf(before.grant);
  const grantAfter = grantModeOf(after.grant);
  if (grantAfter !== grantBefore) changes.push(`grant ${grantBefore} → ${grantAfter}`);
  if (before.breakGlass && after.breakGlass) {
    const ratifiersBefore = before.breakGlass.ratifiers.map(principalKey).join(', ');
    const ratifiersAfter = after.breakGlass.ratifiers.map(principalKey).join(', ');
    if (ratifiersAfter !== ratifiersBefore) changes.push(`ratifiers ${ratifiersBefore} → ${ratifiersAfter}`);
    if (after.breakGlass.ratifyWithinMs !== before.breakGlass.ratifyWithinMs) {
      changes.push(
        `ratified within ${formatIsoDuration(before.breakGlass.ratifyWithinMs)} → ${formatIsoDuration(after.breakGlass.ratifyWithinMs)}`,
      );
    }
  }
  return changes.length > 0 ? { outcome: 'changed', changes } : { outcome: 'unchanged' };
}

/** `automatic`, or each tier as `any of user:a, group:b`, tiers joined by `; then `. */
function describeApproval(approval: ApprovalSpec): string {
  if (approval.automatic) return 'automatic';
  const tiers = approval.tiers.map((tier) => {
    const who = tier.approvers.map(principalKey).join(', ');
    const threshold =
      tier.threshold.kind === 'atLeast' ? `at least ${tier.threshold.count} of` : `${tier.threshold.kind} of`;
    return `${threshold} ${who}`;
  });
  return `${tiers.join('; then ')}${approval.allowSelfApproval ? ' (self-approval allowed)' : ''}`;
}
