import { condition } from '@temporalio/workflow';
import type { Actor } from '../../contracts/identity';
import type { ApprovalRecord } from '../../contracts/request';
import { approvalsRequired, matchedPrincipals, thresholdMet, tierPrincipalKeys } from '../../domain/approval';
import { nextEscalationAt, nextReminderAt } from '../../domain/schedule';
import { type AccessRequestRun, iso } from './run';

/**
 * The wait for a decision: approvals counted against the tiers asked so far, reminders and
 * escalation on their schedule, and TIMED_OUT at the pending deadline.
 */
export async function awaitDecision(run: AccessRequestRun): Promise<void> {
  const { snapshot, state } = run;
  let tierAskedAtMs = run.startMs;
  await run.tell('approval-requested', run.pendingApprovers(), {
    tier: 0,
    deadline: state.pendingDeadline!,
    ...run.askDetails(),
    ...run.reachDetails(),
  });
  while (state.status === 'PENDING_APPROVAL') {
    const now = Date.now();
    const reminderAt = nextReminderAt(run.startMs, snapshot.reminderIntervalMs, now, run.pendingDeadlineMs);
    const escalationAt = nextEscalationAt(snapshot.approval, state.currentTier, tierAskedAtMs);
    const wakeAt = Math.min(run.pendingDeadlineMs, reminderAt ?? Infinity, escalationAt ?? Infinity);
    if (await condition(() => state.status !== 'PENDING_APPROVAL', Math.max(1, wakeAt - now))) break;
    const at = Date.now();
    if (at >= run.pendingDeadlineMs) return timeOut(run);
    if (escalationAt !== undefined && at >= escalationAt) {
      tierAskedAtMs = at;
      await escalate(run);
    }
    if (reminderAt !== undefined && at >= reminderAt && state.status === 'PENDING_APPROVAL') {
      await run.tell('approval-reminder', run.pendingApprovers(), {
        tier: state.currentTier,
        deadline: state.pendingDeadline!,
        ...run.askDetails(),
      });
    }
  }
  if (run.notifiesPeople) await tellDecision(run);
}

/** The requester and the approvers asked hear how it was decided; the messages that asked them say it too. */
async function tellDecision(run: AccessRequestRun): Promise<void> {
  const { state } = run;
  const everyone = [run.requesterKey, ...run.pendingApprovers()];
  if (state.status === 'APPROVED') {
    const last = state.approvals[state.approvals.length - 1];
    await run.tell(
      'request-approved',
      everyone,
      { ...(last && { by: last.approverId }), ...(last?.comment && { comment: last.comment }) },
      { updatesAsks: true },
    );
  } else if (state.status === 'REJECTED' && state.rejection) {
    const { by, comment } = state.rejection;
    await run.tell('request-rejected', everyone, { by, ...(comment && { comment }) }, { updatesAsks: true });
  } else if (state.status === 'CANCELLED' && state.cancellation) {
    await run.tell('request-cancelled', everyone, { by: state.cancellation.by }, { updatesAsks: true });
  }
}

async function timeOut(run: AccessRequestRun): Promise<void> {
  run.moveTo('TIMED_OUT');
  await run.tell('request-timed-out', [run.requesterKey, ...run.pendingApprovers()], undefined, { updatesAsks: true });
}

/** Asks the next tier; approvals already given may meet its threshold on their own. */
async function escalate(run: AccessRequestRun): Promise<void> {
  const { snapshot, state } = run;
  state.currentTier += 1;
  state.approvalsRequired = approvalsRequired(snapshot.approval, state.currentTier);
  if (thresholdMet(snapshot.approval, state.currentTier, state.approvals)) run.moveTo('APPROVED');
  else run.publish();
  await run.tell('approval-escalated', tierPrincipalKeys(snapshot.approval.tiers[state.currentTier]), {
    tier: state.currentTier,
    deadline: state.pendingDeadline!,
    ...run.askDetails(),
  });
}

export function approvalRecord(run: AccessRequestRun, actor: Actor, tier: number, comment?: string): ApprovalRecord {
  return {
    approverId: actor.id,
    at: iso(Date.now()),
    comment,
    tier,
    matchedPrincipals: matchedPrincipals(run.snapshot.approval, actor),
  };
}

/**
 * Counts an approval; the one that meets the threshold answers once the grant was made (ACTIVE) or not
 * (FAILED), or, for a request scheduled for later, once it is approved.
 */
export async function approveRequest(run: AccessRequestRun, record: ApprovalRecord): Promise<void> {
  const { snapshot, state } = run;
  state.approvals.push(record);
  if (!thresholdMet(snapshot.approval, state.currentTier, state.approvals)) return run.publish();
  run.moveTo('APPROVED');
  // A request scheduled for later answers at once: its grant waits for the start.
  await condition(() => state.status !== 'APPROVED' || (run.scheduledStartMs ?? 0) > Date.now());
}

export function rejectRequest(run: AccessRequestRun, by: string, comment?: string): void {
  run.state.rejection = { by, at: iso(Date.now()), comment };
  run.moveTo('REJECTED');
}

/** Withdrawn by the requester or an admin, or by cancelling the workflow while pending. */
export function withdraw(run: AccessRequestRun, by: string, reason?: string): void {
  run.state.cancellation = { by, at: iso(Date.now()), comment: reason };
  run.moveTo('CANCELLED');
}
