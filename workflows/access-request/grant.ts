import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
} from '@temporalio/workflow';
import type { ShareLinkGrantResult } from '../../activities/types';
import type { GrantAccess } from '../../contracts/request';
import type { LeaseRequest, LeaseResult } from '../../contracts/vault-lease';
import { guaranteeFor } from '../../domain/guarantees';
import { granting, leasing } from '../activity-stubs';
import { withdraw } from './approval';
import { type AccessRequestRun, iso } from './run';

/**
 * Makes the grant, then starts the access clock. False when nothing is left to end: the grant could
 * not be made (FAILED), or the request was stopped before it was (CANCELLED). True with the status
 * still APPROVED when it was stopped after the grant was made: access is then ended at once.
 */
export async function makeGrant(run: AccessRequestRun): Promise<boolean> {
  try {
    if (run.stopRequested) throw new StoppedBeforeGrant();
    const { providerExpiresAt, unreceivedLinks } = await grantInOnePassword(run);
    const grantedAt = Date.now();
    const endsAt = iso(grantedAt + run.snapshot.durationMs);
    run.state.grant = {
      grantedAt: iso(grantedAt),
      endsAt,
      providerExpiresAt,
      guarantee: guaranteeFor(run.snapshot.grant, endsAt, providerExpiresAt),
      ...(unreceivedLinks && { unreceivedLinks }),
    };
    if (run.stopRequested) return true;
    run.moveTo('ACTIVE');
    await run.tell('access-granted', [run.requesterKey], { endsAt });
    return true;
  } catch (error) {
    if (run.stopRequested && (error instanceof StoppedBeforeGrant || isGrantFailure(error))) {
      await stoppedWhileGranting(run);
      return false;
    }
    // Anything but a failed activity or a refusal is a bug: rethrown, it fails the workflow task,
    // which Temporal retries until fixed code is deployed.
    if (isCancellation(error) || !isGrantFailure(error)) throw error;
    await fail(run, error);
    return false;
  }
}

class StoppedBeforeGrant extends Error {}

export function isGrantFailure(error: unknown): error is ActivityFailure | ApplicationFailure {
  return error instanceof ActivityFailure || error instanceof ApplicationFailure;
}

/**
 * The 1Password side of the grant; returns when 1Password itself ends it (a share link's expiry) and how
 * many earlier calls for the link went unanswered.
 */
async function grantInOnePassword(
  run: AccessRequestRun,
): Promise<{ providerExpiresAt?: string; unreceivedLinks?: number }> {
  const { snapshot } = run;
  if (snapshot.grant.mode === 'share-link') {
    const link = await makeShareLink(run, 'grant', snapshot.durationMs);
    run.shareUrl = link.url;
    return { providerExpiresAt: link.expiresAt, unreceivedLinks: link.unreceivedLinks };
  }
  const result = await awaitLease(run, 'acquire', iso(Date.now() + snapshot.durationMs));
  if (!result.ok) {
    throw ApplicationFailure.create({
      type: result.failure?.code ?? 'LeaseFailed',
      message: result.failure?.message ?? 'the vault lease could not be granted',
      nonRetryable: true,
    });
  }
  return {};
}

/**
 * A share link for the requester lasting `durationMs`, made by the step `step` (`<workflow id>:<step>` names it in
 * 1Password and in logs; attempts of one step find the link an earlier one made in their heartbeat details).
 * Cancelled through `run.grantScope`.
 */
export async function makeShareLink(
  run: AccessRequestRun,
  step: string,
  durationMs: number,
): Promise<ShareLinkGrantResult> {
  const { snapshot, state } = run;
  if (snapshot.grant.mode !== 'share-link') throw new Error('share links are for share-link grants');
  const { vaultId, itemId, oneTimeView } = snapshot.grant;
  run.grantScope = new CancellationScope();
  return run.grantScope.run(() =>
    granting.createShareLink({
      idempotencyKey: `${run.workflowId}:${step}`,
      integration: state.integration,
      vaultId,
      itemId,
      recipientEmail: run.requester.email,
      durationMs,
      oneTimeView,
    }),
  );
}

/**
 * A failed call granted nothing that could reach the requester: a share link is only ever handed out
 * from a successful answer, and the lease entity removes any group permission a failed call may have
 * applied once no holder needs it.
 */
async function fail(run: AccessRequestRun, error: ActivityFailure | ApplicationFailure): Promise<void> {
  run.state.failure = failureOf(error);
  log.warn('grant failed', { requestId: run.state.requestId, code: run.state.failure.code });
  run.moveTo('FAILED');
  await run.tell('grant-failed', [run.requesterKey], { code: run.state.failure.code });
}

export function failureOf(error: ActivityFailure | ApplicationFailure): { code: string; message: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure
    ? { code: cause.type ?? 'GrantFailed', message: cause.message }
    : { code: 'GrantFailed', message: 'the grant could not be made' };
}

/** Withdrawn or revoked before the grant was made: nothing reached the requester, the request is CANCELLED. */
async function stoppedWhileGranting(run: AccessRequestRun): Promise<void> {
  const { state } = run;
  const record = state.cancellation ?? state.revocation!;
  state.cancellation = undefined;
  state.revocation = undefined;
  withdraw(run, record.by, record.comment);
  await run.tell('request-cancelled', [run.requesterKey], { whileGranting: true });
}

/**
 * Sends acquire or release to the vault-lease entity and waits for its answer (a signal back). An
 * acquire carries when the grant ends, so that the lease drops the holder even if this request never
 * comes back to release it.
 */
export async function awaitLease(run: AccessRequestRun, op: LeaseResult['op'], endsAt?: string): Promise<LeaseResult> {
  run.leaseResults.delete(op);
  await sendLease(run, op, endsAt);
  await condition(() => run.leaseResults.has(op));
  return run.leaseResults.get(op)!;
}

export async function sendLease(run: AccessRequestRun, op: LeaseRequest['op'], endsAt?: string): Promise<void> {
  if (run.snapshot.grant.mode !== 'vault-group') throw new Error('leases are for vault-group grants');
  const { vaultId, groupId, permissions } = run.snapshot.grant;
  const request: LeaseRequest = { op, leaseId: run.workflowId, replyTo: run.workflowId, permissions };
  if (run.alwaysEnds && endsAt) request.endsAt = endsAt;
  await leasing.signalVaultLease({ key: { integration: run.state.integration, vaultId, groupId }, request });
}

/** The requester's way in while ACTIVE; nothing otherwise (never while ENDING). */
export function grantAccessOf(run: AccessRequestRun): GrantAccess | undefined {
  const { snapshot, state } = run;
  if (state.status !== 'ACTIVE' || !state.grant) return undefined;
  return {
    mode: run.mode,
    shareUrl: run.shareUrl,
    vaultId: snapshot.grant.mode === 'vault-group' ? snapshot.grant.vaultId : undefined,
    accessDetails: snapshot.integration.accessDetails,
    endsAt: state.grant.endsAt,
    providerExpiresAt: state.grant.providerExpiresAt,
    guarantee: state.grant.guarantee,
  };
}
