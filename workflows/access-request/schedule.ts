import { condition, isCancellation, log } from '@temporalio/workflow';
import { tierPrincipalKeys } from '../../domain/approval';
import { checkStillEligible } from '../activity-stubs';
import { withdraw } from './approval';
import { CANCELLED_BY_WORKFLOW } from './end-of-access';
import type { AccessRequestRun } from './run';

/**
 * A scheduled request, approved ahead: waits for its start (a withdrawal or a revoke meanwhile ends it
 * with nothing granted), then asks the policy again, since the requester may have lost the right in
 * between. Not eligible any more: FAILED, saying why, and nothing is granted. Returns the cancellation
 * when the workflow was cancelled during the wait (the request is then withdrawn).
 */
export async function awaitScheduledStart(run: AccessRequestRun): Promise<Error | undefined> {
  const startMs = run.scheduledStartMs!;
  try {
    if (startMs > Date.now()) await condition(() => run.stopRequested, startMs - Date.now());
  } catch (error) {
    if (!isCancellation(error)) throw error;
    withdraw(run, CANCELLED_BY_WORKFLOW);
    return error as Error;
  }
  // Withdrawn or revoked before the start: the grant step sees it and ends the request, granting nothing.
  if (run.stopRequested) return undefined;
  const { snapshot, state, requester } = run;
  let verdict;
  try {
    verdict = await checkStillEligible({
      requester,
      resourceId: snapshot.resource.id,
      durationMs: snapshot.durationMs,
      justification: state.justification,
      ticket: state.ticket,
      breakGlass: snapshot.breakGlass !== undefined,
    });
  } catch (error) {
    if (isCancellation(error)) throw error;
    log.warn('eligibility at the start could not be checked', { requestId: state.requestId, error: String(error) });
    verdict = {
      eligible: false as const,
      code: 'eligibility-unknown',
      rule: 'worker',
      message: 'it could not be checked',
    };
  }
  if (verdict.eligible) return undefined;
  state.failure = {
    code: 'not-eligible-at-start',
    message: `At its start, the policy no longer lets the requester have this access: ${verdict.message} (${verdict.code}, ${verdict.rule}).`,
  };
  run.moveTo('FAILED');
  const approvers = snapshot.approval.tiers.flatMap(tierPrincipalKeys);
  await run.tell('grant-failed', [run.requesterKey, ...approvers], {
    reason: 'not-eligible-at-start',
    rule: verdict.rule,
  });
  return undefined;
}
