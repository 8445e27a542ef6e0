import { condition, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { LatchkeyActivities } from '../activities';
import type { Drift, ExplainedGrant, ReconcileInput, ReconcileReport } from '../contracts/reconcile';
import { type LeaseResult, leaseResultSignal } from '../contracts/vault-lease';
import { findDrift } from '../domain/reconcile';
import { leasing } from './activity-stubs';

/** Reads 1Password, visibility and the leases: minutes at most for a large account, heartbeating. */
const { observeGrants, recordReconcile } = proxyActivities<LatchkeyActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 5 },
});

/** How long one repair may wait for the vault lease's answer; a lease still busy is tried again next run. */
const REPAIR_ANSWER_TIMEOUT_MS = 10 * 60_000;

/**
 * One reconcile pass (a Temporal Schedule runs it every few minutes; `latchkey reconcile` runs one by
 * hand): what 1Password grants on every managed vault against what the active grants need. A permission
 * no grant explains is handed to its vault lease, which owns the group's permissions: it reads 1Password
 * again, adopts any holder the pass found, and removes what nobody needs. The rest is reported.
 */
export async function reconcileWorkflow(input: ReconcileInput): Promise<ReconcileReport> {
  const answers: LeaseResult[] = [];
  setHandler(leaseResultSignal, (answer) => void answers.push(answer));

  const observation = await observeGrants();
  const drifts = findDrift(observation, input.dryRun);
  for (const drift of drifts) {
    if (drift.action !== 'removed') continue;
    drift.action = await repair(drift, observation.grants, answers);
  }
  const report: ReconcileReport = {
    at: observation.at,
    dryRun: input.dryRun,
    vaultsRead: observation.vaultsRead,
    activeGrants: observation.grants.length,
    drifts,
  };
  await recordReconcile(report);
  return report;
}

async function repair(drift: Drift, grants: ExplainedGrant[], answers: LeaseResult[]): Promise<Drift['action']> {
  const self = workflowInfo().workflowId;
  const holders = grants
    .filter((grant) => grant.vaultId === drift.vaultId && grant.groupId === drift.groupId)
    .map(({ leaseId, permissions, endsAt }) => ({ leaseId, permissions, endsAt }));
  const seen = answers.length;
  await leasing.signalVaultLease({
    key: { integration: drift.integration, vaultId: drift.vaultId, groupId: drift.groupId },
    request: { op: 'sync', leaseId: self, replyTo: self, permissions: [], holders },
  });
  if (!(await condition(() => answers.length > seen, REPAIR_ANSWER_TIMEOUT_MS))) {
    log.warn('the vault lease did not answer in time; the next pass tries again', { vaultId: drift.vaultId });
    return 'failed';
  }
  const answer = answers[answers.length - 1];
  return answer.effect === 'revoked' || answer.effect === 'gone' ? 'removed' : 'reported';
}
