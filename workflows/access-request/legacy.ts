import { ActivityFailure, log, sleep } from '@temporalio/workflow';
import type { GrantView } from '../../contracts/request';
import { revokeBackoffMs } from '../../domain/schedule';
import { endingOnce } from '../activity-stubs';
import { awaitLease } from './grant';
import type { AccessRequestRun } from './run';

/**
 * The end of access of requests started before the patch `access-always-ends`, kept so that they replay
 * and finish as they began: the workflow retries one attempt at a time in a loop and counts the failures.
 * Remove with the patch once no such request is open (`LatchkeyStatus` and the patch marker tell).
 */

/** After this many failed attempts to end access, an alert goes out (and the attempts go on). */
export const REVOKE_ALERT_AFTER_ATTEMPTS = 3;

export async function endInOnePasswordBeforePatch(run: AccessRequestRun): Promise<NonNullable<GrantView['endedBy']>> {
  const { snapshot, state } = run;
  if (run.mode === 'rotate-on-revoke' && snapshot.grant.mode === 'share-link') {
    const { vaultId, itemId } = snapshot.grant;
    const rotate = () =>
      endingOnce.rotateItemSecret({
        idempotencyKey: `${run.workflowId}:rotate`,
        integration: state.integration,
        vaultId,
        itemId,
      });
    await untilConfirmed(rotate, (failedAttempts) => onEndFailure(run, failedAttempts));
    return 'secret-rotated';
  }
  if (run.mode === 'vault-group') {
    const result = await awaitLease(run, 'release');
    if (result.revokeAttempts) state.revokeAttempts = result.revokeAttempts;
    return result.effect === 'revoked' ? 'group-permissions-removed' : 'group-still-held-by-other-grants';
  }
  return 'link-left-to-expire';
}

async function onEndFailure(run: AccessRequestRun, failedAttempts: number): Promise<void> {
  run.state.revokeAttempts = failedAttempts;
  run.publish();
  if (failedAttempts !== REVOKE_ALERT_AFTER_ATTEMPTS) return;
  run.state.revokeAlerted = true;
  log.error('ending access keeps failing; still retrying', { requestId: run.state.requestId, failedAttempts });
  await run.tell('revoke-failing', [run.requesterKey, ...run.pendingApprovers()], { failedAttempts });
}

/**
 * Runs `attempt` (an activity proxied with one attempt per call) until 1Password confirms, without
 * limit, backing off from 1 s up to 5 minutes. Callers run it inside `CancellationScope.nonCancellable`.
 */
export async function untilConfirmed<T>(
  attempt: () => Promise<T>,
  onFailure: (failedAttempts: number) => Promise<void>,
): Promise<{ value: T; failedAttempts: number }> {
  for (let failedAttempts = 0; ;) {
    try {
      return { value: await attempt(), failedAttempts };
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      failedAttempts += 1;
      await onFailure(failedAttempts);
      await sleep(revokeBackoffMs(failedAttempts));
    }
  }
}
