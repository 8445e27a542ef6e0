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
import { databaseLoginItemTitle } from '../../domain/ids';
import { granting, leasing } from '../activity-stubs';
import { dropDatabaseLogin } from '../ending-steps';
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
    const { providerExpiresAt, unreceivedLinks, accessSince } = await grantInOnePassword(run);
    // A database login works from the moment it is made, and the database ends it at `VALID UNTIL`.
    const grantedAt = accessSince ?? Date.now();
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
    // A login made before a later step failed, or the request (or the workflow) was stopped, must not outlive it.
    if (run.snapshot.grant.mode === 'database-role' && isGrantFailure(error))
      await CancellationScope.nonCancellable(() => removeDatabaseLogin(run));
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
): Promise<{ providerExpiresAt?: string; unreceivedLinks?: number; accessSince?: number }> {
  const { snapshot } = run;
  if (snapshot.grant.mode === 'database-role') return grantDatabaseLogin(run);
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
  const { snapshot } = run;
  if (snapshot.grant.mode !== 'share-link') throw new Error('share links are for share-link grants');
  const { vaultId, itemId, oneTimeView } = snapshot.grant;
  run.grantScope = new CancellationScope();
  return run.grantScope.run(() => shareItem(run, step, vaultId, itemId, durationMs, oneTimeView));
}

/** A link to an item for the requester's verified e-mail. */
function shareItem(
  run: AccessRequestRun,
  step: string,
  vaultId: string,
  itemId: string,
  durationMs: number,
  oneTimeView = true,
): Promise<ShareLinkGrantResult> {
  return granting.createShareLink({
    idempotencyKey: `${run.workflowId}:${step}`,
    integration: run.state.integration,
    vaultId,
    itemId,
    recipientEmail: run.requester.email,
    durationMs,
    oneTimeView,
  });
}

/**
 * A database-role grant: the login (valid until the grant's end, so the database refuses it after that even if
 * latchkey is down), its item in the vault the policy names, and a one-view link to the item. Cancelled through
 * `run.grantScope`; whatever was made is removed by the caller when a step fails.
 */
async function grantDatabaseLogin(
  run: AccessRequestRun,
): Promise<{ providerExpiresAt?: string; unreceivedLinks?: number; accessSince: number }> {
  const { snapshot, state } = run;
  if (snapshot.grant.mode !== 'database-role') throw new Error('for database-role grants');
  const { target, vaultId, memberOf, connectionLimit } = snapshot.grant;
  const accessSince = Date.now();
  const step = (name: string) => ({
    idempotencyKey: `${run.workflowId}:${name}`,
    integration: state.integration,
    resourceId: snapshot.resource.id,
  });
  run.grantScope = new CancellationScope();
  return run.grantScope.run(async () => {
    const login = await granting.createDatabaseLogin({
      ...step('login'),
      target,
      role: run.loginRole,
      validUntil: iso(accessSince + snapshot.durationMs),
      memberOf,
      connectionLimit,
    });
    const { itemId } = await granting.createLoginItem({
      ...step('login-item'),
      vaultId,
      title: databaseLoginItemTitle(state.requestId),
      role: run.loginRole,
      password: login.password,
      connection: login.connection,
    });
    const link = await shareItem(run, 'grant', vaultId, itemId, snapshot.durationMs);
    run.shareUrl = link.url;
    return { unreceivedLinks: link.unreceivedLinks, accessSince };
  });
}

/** Drops a request's database login with its sessions, then deletes its item. Retried without limit. */
export async function removeDatabaseLogin(run: AccessRequestRun): Promise<void> {
  const { snapshot, state } = run;
  if (snapshot.grant.mode !== 'database-role') throw new Error('for database-role grants');
  const { target, vaultId } = snapshot.grant;
  const itemTitle = databaseLoginItemTitle(state.requestId);
  await dropDatabaseLogin(run.endingSubject(), { target, role: run.loginRole, vaultId, itemTitle });
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
    ...(snapshot.grant.mode === 'database-role' && { databaseRole: run.loginRole }),
    accessDetails: snapshot.integration.accessDetails,
    endsAt: state.grant.endsAt,
    providerExpiresAt: state.grant.providerExpiresAt,
    guarantee: state.grant.guarantee,
  };
}
