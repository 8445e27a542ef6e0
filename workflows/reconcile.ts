import {
  condition,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  WorkflowIdReusePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { LatchkeyActivities } from '../activities';
import type { RotateSecretResult } from '../activities/types';
import type { Drift, ExplainedGrant, ReconcileInput, ReconcileReport, UnrotatedGrant } from '../contracts/reconcile';
import { type LeaseResult, leaseResultSignal } from '../contracts/vault-lease';
import { terminatedRotationWorkflowId } from '../domain/ids';
import { findDrift } from '../domain/reconcile';
import { ending, leasing } from './activity-stubs';
import { dropDatabaseLogin, rotateCredential } from './ending-steps';
import { macHolds } from '../trust/internal-message';
import { LEASE_MESSAGES_AUTHENTICATED, RECONCILE_ROTATES_ONCE } from './patches';
import { internalKey } from './worker-trust';

/** Reads 1Password, visibility and the leases: minutes at most for a large account, heartbeating. */
const { observeGrants, recordReconcile } = proxyActivities<LatchkeyActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 5 },
});

/** Passes started before `reconcile-rotates-once` rotate in place; remove once none can be open (minutes). */
const { rotateItemSecret: rotateInPlace } = proxyActivities<LatchkeyActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** How long one repair may wait for the vault lease's answer or a rotation; either goes on after that. */
const REPAIR_ANSWER_TIMEOUT_MS = 10 * 60_000;

/**
 * One reconcile pass (a Temporal Schedule runs it every few minutes; `latchkey reconcile` runs one by
 * hand): what 1Password grants on every managed vault against what the active grants need. A permission
 * no grant explains is handed to its vault lease, which owns the group's permissions: it reads 1Password
 * again, adopts any holder the pass found, drops holders whose request was terminated, and removes what
 * nobody needs. The secret of a terminated rotate-on-revoke request is rotated. The rest is reported.
 */
export async function reconcileWorkflow(input: ReconcileInput): Promise<ReconcileReport> {
  const answers: LeaseResult[] = [];
  const authenticated = patched(LEASE_MESSAGES_AUTHENTICATED);
  const self = workflowInfo().workflowId;
  setHandler(leaseResultSignal, (answer) => {
    // Only the lease's own answers count: a forged one could report a permission removed that is not.
    if (authenticated && !macHolds(internalKey(), answer, self))
      log.warn('dropped a lease answer latchkey did not send');
    else answers.push(answer);
  });

  const observation = await observeGrants();
  const drifts = findDrift(observation, input.dryRun);
  for (const drift of drifts) {
    if (drift.action === 'removed') drift.action = await removeThroughLease(drift, observation.grants, answers);
    if (drift.action === 'rotated') drift.action = await rotate(drift, observation.unrotated);
  }
  const report: ReconcileReport = {
    at: observation.at,
    dryRun: input.dryRun,
    vaultsRead: observation.vaultsRead,
    activeGrants: observation.grants.filter((grant) => !grant.closed).length,
    drifts,
  };
  await recordReconcile(report);
  return report;
}

async function removeThroughLease(
  drift: Drift,
  grants: ExplainedGrant[],
  answers: LeaseResult[],
): Promise<Drift['action']> {
  const self = workflowInfo().workflowId;
  const holders = grants
    .filter((grant) => !grant.closed && grant.vaultId === drift.vaultId && grant.groupId === drift.groupId)
    .map(({ leaseId, permissions, endsAt }) => ({ leaseId, permissions, endsAt }));
  const seen = answers.length;
  await leasing.signalVaultLease({
    key: { integration: drift.integration, vaultId: drift.vaultId, groupId: drift.groupId ?? '' },
    request: { op: 'sync', leaseId: self, replyTo: self, permissions: [], holders, drop: drift.staleHolders },
  });
  if (!(await condition(() => answers.length > seen, REPAIR_ANSWER_TIMEOUT_MS))) {
    log.warn('the vault lease did not answer in time; the next pass tries again', { vaultId: drift.vaultId });
    return 'failed';
  }
  const answer = answers[answers.length - 1];
  if (drift.kind === 'stale-holders') return 'removed';
  return answer.effect === 'revoked' || answer.effect === 'gone' ? 'removed' : 'reported';
}

/**
 * Rotates through a workflow of its own, one per terminated request: it retries without limit like any
 * end of access, and its id is what tells later passes that the secret was (or is being) rotated.
 */
async function rotate(drift: Drift, unrotated: UnrotatedGrant[]): Promise<Drift['action']> {
  const grant = unrotated.find((candidate) => candidate.requestId === drift.requestIds[0]);
  if (!grant) return 'failed';
  if (!patched(RECONCILE_ROTATES_ONCE)) return rotateInPlaceBeforePatch(grant);
  try {
    const rotation = await startChild(rotateAfterTerminationWorkflow, {
      workflowId: terminatedRotationWorkflowId(grant.workflowId),
      args: [grant],
      // Once rotated, never again; a rotation an operator stopped may be made by a later pass.
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    const outcome = await Promise.race([
      rotation.result().then(
        () => 'rotated' as const,
        () => 'failed' as const, // an operator stopped it: the next pass tries again
      ),
      sleep(REPAIR_ANSWER_TIMEOUT_MS).then(() => 'under way' as const),
    ]);
    if (outcome !== 'rotated') log.warn(`the rotation is ${outcome}`, { workflowId: rotation.workflowId });
    return outcome === 'rotated' ? 'rotated' : 'failed';
  } catch (error) {
    // An earlier pass made this rotation, or is making it.
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'rotated';
    throw error;
  }
}

async function rotateInPlaceBeforePatch(grant: UnrotatedGrant): Promise<Drift['action']> {
  try {
    await rotateInPlace({
      idempotencyKey: `${grant.workflowId}:rotate`,
      integration: grant.integration,
      vaultId: grant.vaultId,
      itemId: grant.itemId,
    });
    return 'rotated';
  } catch (error) {
    log.warn('rotating a terminated request’s secret failed; the next pass tries again', { error: String(error) });
    return 'failed';
  }
}

/**
 * The end a terminated request never made, under the request's own step names: its rotation (through its
 * rotator, as the request itself would have), or its database login dropped.
 */
export async function rotateAfterTerminationWorkflow(grant: UnrotatedGrant): Promise<RotateSecretResult | void> {
  const subject = { workflowId: grant.workflowId, integration: grant.integration, resourceId: grant.resourceId ?? '' };
  if (grant.login) return dropDatabaseLogin(subject, { ...grant.login, vaultId: grant.vaultId });
  if (grant.rotator) {
    await rotateCredential(subject, { vaultId: grant.vaultId, itemId: grant.itemId }, grant.rotator);
    return;
  }
  // Requests made before rotators existed.
  return ending.rotateItemSecret({
    idempotencyKey: `${grant.workflowId}:rotate`,
    integration: grant.integration,
    vaultId: grant.vaultId,
    itemId: grant.itemId,
  });
}
