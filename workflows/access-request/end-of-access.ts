import { condition, isCancellation, log } from '@temporalio/workflow';
import type { GrantView } from '../../contracts/request';
import { TERMINAL_STATUSES } from '../../domain/lifecycle';
import { ending } from '../activity-stubs';
import { REVOKE_ALERT_AFTER_ATTEMPTS, untilConfirmed } from '../until-confirmed';
import { awaitLease } from './grant';
import { type AccessRequestRun, iso } from './run';

/** Who ended access when the workflow itself was cancelled (by an operator) while access was active. */
export const CANCELLED_BY_WORKFLOW = 'system:workflow-cancelled';

/**
 * Holds the grant until its end (a durable timer that an extension moves) or an early revoke.
 * Returns the cancellation when the workflow was cancelled meanwhile: access must still be ended.
 */
export async function holdUntilEnd(run: AccessRequestRun): Promise<Error | undefined> {
  const { state } = run;
  try {
    while (!state.revocation) {
      const endsAt = state.grant!.endsAt;
      const remaining = Date.parse(endsAt) - Date.now();
      if (remaining <= 0) return undefined;
      await condition(() => !!state.revocation || state.grant!.endsAt !== endsAt, remaining);
    }
    return undefined;
  } catch (error) {
    if (!isCancellation(error)) throw error;
    return error as Error;
  }
}

/** An early end, by the requester, an approver or an admin; answers once 1Password confirmed it. */
export async function revoke(run: AccessRequestRun, by: string, reason?: string): Promise<void> {
  run.state.revocation = { by, at: iso(Date.now()), comment: reason };
  run.publish();
  await condition(() => TERMINAL_STATUSES.has(run.state.status));
}

/** Ends access and records it only once 1Password confirmed. Never cancelled, never gives up. */
export async function endAccess(run: AccessRequestRun): Promise<void> {
  const { state } = run;
  const grant = state.grant!;
  grant.endedBy = await endInOnePassword(run);
  grant.revokedAt = iso(Date.now());
  run.shareUrl = undefined;
  // Ended early (requester, approver, admin or workflow cancellation) is REVOKED; at the timer, EXPIRED.
  run.moveTo(state.revocation ? 'REVOKED' : 'EXPIRED');
  await run.tell('access-ended', [run.requesterKey], { status: state.status, endedBy: grant.endedBy });
}

async function endInOnePassword(run: AccessRequestRun): Promise<NonNullable<GrantView['endedBy']>> {
  const { snapshot, state } = run;
  if (run.mode === 'rotate-on-revoke' && snapshot.grant.mode === 'share-link') {
    const { vaultId, itemId } = snapshot.grant;
    await untilConfirmed(
      () =>
        ending.rotateItemSecret({
          idempotencyKey: `${run.workflowId}:rotate`,
          integration: state.integration,
          vaultId,
          itemId,
        }),
      (failedAttempts) => onEndFailure(run, failedAttempts),
    );
    return 'secret-rotated';
  }
  if (run.mode === 'vault-group') {
    const result = await awaitLease(run, 'release');
    if (result.revokeAttempts) state.revokeAttempts = result.revokeAttempts;
    return result.effect === 'revoked' ? 'group-permissions-removed' : 'group-still-held-by-other-grants';
  }
  // 1Password cannot withdraw a share link: the end is recorded truthfully, the link lapses at its bucket.
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
