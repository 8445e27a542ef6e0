import {
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import { grantAccessQuery, stateQuery } from '../../contracts/messages';
import type { AccessRequestInput, AccessRequestState } from '../../contracts/request';
import { leaseResultSignal } from '../../contracts/vault-lease';
import { requestMemo } from '../../domain/visibility';
import { macHolds } from '../../trust/internal-message';
import { verifyStartCommand } from '../activity-stubs';
import { internalKey } from '../worker-trust';
import { SIGNED_COMMANDS } from '../patches';
import { awaitDecision, withdraw } from './approval';
import { grantBreakGlass } from './break-glass';
import { CANCELLED_BY_WORKFLOW, endAccess, holdUntilEnd } from './end-of-access';
import { grantAccessOf, makeGrant } from './grant';
import { awaitScheduledStart } from './schedule';
import { AccessRequestRun, iso } from './run';
import { registerUpdates } from './updates';

/**
 * One access request, the whole lifecycle of BRIEF §4, driven only by the flow snapshot pinned in its
 * input: the decision (Updates, reminders, escalation, the pending deadline), the grant, a durable
 * timer to the grant's end (the clock starts at the grant; extensions move it), and an end of access
 * that cancelling the workflow cannot skip.
 */
export async function accessRequestWorkflow(input: AccessRequestInput): Promise<AccessRequestState> {
  const run = new AccessRequestRun(input);
  setHandler(stateQuery, () => run.state);
  setHandler(grantAccessQuery, () => grantAccessOf(run));
  // Only this request's lease entity answers it: its answers carry a MAC for this workflow id, which only
  // latchkey's workers can make (a forged "released" would otherwise report access ended that was not).
  setHandler(leaseResultSignal, (result) => {
    if (run.leaseAnswersAuthenticated && !macHolds(internalKey(), result, run.workflowId)) {
      log.warn('dropped a lease answer latchkey did not send');
    } else run.leaseResults.set(result.op, result);
  });
  registerUpdates(run);
  const memo = requestMemo(input);
  if (!(run.visibilityOncePerChange && startCarried(memo))) upsertMemo(memo);
  run.publish({ isChange: false });
  if ((run.patchesFolded || patched(SIGNED_COMMANDS)) && !(await startIsSigned(run, input))) {
    await condition(allHandlersFinished);
    await run.notificationsSettled();
    return run.state;
  }

  let cancelled = await decide(run);
  if (run.state.status === 'APPROVED' && run.scheduledStartMs !== undefined)
    cancelled ??= await awaitScheduledStart(run);
  if (run.state.status === 'APPROVED') {
    // A grant in flight is finished even if the workflow is cancelled, so that it can then be ended.
    const granted = await CancellationScope.nonCancellable(() => makeGrant(run));
    if (granted) {
      if (!run.stopRequested) cancelled ??= await holdUntilEnd(run);
      if (cancelled && !run.state.revocation) run.state.revocation = { by: CANCELLED_BY_WORKFLOW, at: iso(Date.now()) };
      await CancellationScope.nonCancellable(() => endAccess(run));
    }
  }

  await CancellationScope.nonCancellable(async () => {
    await condition(allHandlersFinished);
    await run.notificationsSettled();
  });
  if (cancelled) throw cancelled;
  return run.state;
}

/** Whether the start set this memo already (the API's starts do: `visibilityAtStart`). */
function startCarried(memo: Record<string, string>): boolean {
  const started = workflowInfo().memo ?? {};
  return Object.entries(memo).every(([key, value]) => started[key] === value);
}

/**
 * Whether the API signed this start (trust/command.ts): a request anyone could start through Temporal, with
 * any requester and any policy snapshot, ends FAILED before it can be approved or granted anything.
 */
async function startIsSigned(run: AccessRequestRun, input: AccessRequestInput): Promise<boolean> {
  // The workflow's clock, the server's: the lifetime of the command is not measured on the time it carries.
  const verdict = await verifyStartCommand(input, Date.now());
  if (verdict.ok) return true;
  run.state.failure = {
    code: 'unverified-command',
    message: `The request was not started by latchkey's API: ${verdict.reason}.`,
  };
  run.moveTo('FAILED');
  return false;
}

/** Until decided; returns the cancellation if the workflow was cancelled meanwhile (the request is then withdrawn). */
async function decide(run: AccessRequestRun): Promise<Error | undefined> {
  try {
    if (run.snapshot.breakGlass) await grantBreakGlass(run);
    else if (run.snapshot.approval.automatic) run.moveTo('APPROVED');
    else await awaitDecision(run);
    return undefined;
  } catch (error) {
    if (!isCancellation(error)) throw error;
    if (run.state.status === 'PENDING_APPROVAL') withdraw(run, CANCELLED_BY_WORKFLOW);
    return error as Error;
  }
}
