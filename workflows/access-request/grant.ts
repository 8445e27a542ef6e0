import { ActivityFailure, ApplicationFailure, condition, isCancellation, log } from '@temporalio/workflow';
import type { GrantAccess } from '../../contracts/request';
import type { LeaseResult } from '../../contracts/vault-lease';
import { guaranteeFor } from '../../domain/guarantees';
import { granting, leasing } from '../activity-stubs';
import { type AccessRequestRun, iso } from './run';

/**
 * Makes the grant, then starts the access clock. False when it could not be made: the request is then
 * FAILED with nothing granted.
 */
export async function makeGrant(run: AccessRequestRun): Promise<boolean> {
  try {
    const providerExpiresAt = await grantInOnePassword(run);
    const grantedAt = Date.now();
    const endsAt = iso(grantedAt + run.snapshot.durationMs);
    run.state.grant = {
      grantedAt: iso(grantedAt),
      endsAt,
      providerExpiresAt,
      guarantee: guaranteeFor(run.mode, endsAt, providerExpiresAt),
    };
    run.moveTo('ACTIVE');
    await run.tell('access-granted', [run.requesterKey], { endsAt });
    return true;
  } catch (error) {
    // Anything but a failed activity or a refusal is a bug: rethrown, it fails the workflow task,
    // which Temporal retries until fixed code is deployed.
    if (isCancellation(error) || !(error instanceof ActivityFailure || error instanceof ApplicationFailure)) {
      throw error;
    }
    await fail(run, error);
    return false;
  }
}

/** The 1Password side of the grant; returns when 1Password itself ends it (a share link's expiry). */
async function grantInOnePassword(run: AccessRequestRun): Promise<string | undefined> {
  const { snapshot, state } = run;
  if (snapshot.grant.mode === 'share-link') {
    const link = await granting.createShareLink({
      idempotencyKey: `${run.workflowId}:grant`,
      integration: state.integration,
      vaultId: snapshot.grant.vaultId,
      itemId: snapshot.grant.itemId,
      recipientEmail: run.requester.email,
      durationMs: snapshot.durationMs,
      oneTimeView: snapshot.grant.oneTimeView,
    });
    run.shareUrl = link.url;
    return link.expiresAt;
  }
  const result = await awaitLease(run, 'acquire');
  if (!result.ok) {
    throw ApplicationFailure.create({
      type: result.failure?.code ?? 'LeaseFailed',
      message: result.failure?.message ?? 'the vault lease could not be granted',
      nonRetryable: true,
    });
  }
  return undefined;
}

/**
 * Only a failed call, which granted nothing, reaches here: share links are made in one call and the
 * lease entity counts a holder only after 1Password confirmed the group permissions.
 */
async function fail(run: AccessRequestRun, error: ActivityFailure | ApplicationFailure): Promise<void> {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  run.state.failure =
    cause instanceof ApplicationFailure
      ? { code: cause.type ?? 'GrantFailed', message: cause.message }
      : { code: 'GrantFailed', message: 'the grant could not be made' };
  log.warn('grant failed', { requestId: run.state.requestId, code: run.state.failure.code });
  run.moveTo('FAILED');
  await run.tell('grant-failed', [run.requesterKey], { code: run.state.failure.code });
}

/** Sends acquire or release to the vault-lease entity and waits for its answer (a signal back). */
export async function awaitLease(run: AccessRequestRun, op: LeaseResult['op']): Promise<LeaseResult> {
  if (run.snapshot.grant.mode !== 'vault-group') throw new Error('leases are for vault-group grants');
  const { vaultId, groupId, permissions } = run.snapshot.grant;
  run.leaseResults.delete(op);
  await leasing.signalVaultLease({
    key: { integration: run.state.integration, vaultId, groupId },
    request: { op, leaseId: run.workflowId, replyTo: run.workflowId, permissions },
  });
  await condition(() => run.leaseResults.has(op));
  return run.leaseResults.get(op)!;
}

/** The requester's way in while ACTIVE; nothing otherwise. */
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
