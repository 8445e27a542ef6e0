import { type ActivityFailure, ApplicationFailure, isCancellation, log } from '@temporalio/workflow';
import type { ShareLinkGrantResult } from '../../activities/types';
import { GRANT_REFUSED_FAILURE, REFUSAL } from '../../contracts/messages';
import type { ApprovalRecord } from '../../contracts/request';
import { thresholdMet } from '../../domain/approval';
import { guaranteeFor } from '../../domain/guarantees';
import { outlivesLink } from '../../domain/share-links';
import { granting } from '../activity-stubs';
import { failureOf, isGrantFailure, makeShareLink, sendLease } from './grant';
import { type AccessRequestRun, iso } from './run';

/**
 * More time for an active grant: applied at once, or, where the flow says so, after the same tiers
 * approve it again (approve and reject then decide the extension, not the request).
 */
export async function requestExtension(
  run: AccessRequestRun,
  by: string,
  addMs: number,
  justification?: string,
): Promise<void> {
  if (!run.snapshot.extensions.requireApproval) return extend(run, by, addMs, justification);
  run.state.pendingExtension = { requestedBy: by, at: iso(Date.now()), addedMs: addMs, approvals: [] };
  run.publish();
  await run.tell('approval-requested', run.pendingApprovers(), {
    extensionMs: addMs,
    ...run.askDetails(),
    ...(justification && { justification }),
    ...run.reachDetails(),
  });
}

export async function approveExtension(run: AccessRequestRun, record: ApprovalRecord): Promise<void> {
  const { snapshot, state } = run;
  const extension = state.pendingExtension!;
  extension.approvals.push(record);
  if (!thresholdMet(snapshot.approval, state.currentTier, extension.approvals)) return run.publish();
  await extend(run, extension.requestedBy, extension.addedMs, undefined);
}

/** Rejecting an extension leaves the grant as it was. */
export function rejectExtension(run: AccessRequestRun, by: string, comment?: string): void {
  run.state.pendingExtension = undefined;
  run.publish();
  // In the background (requests since the patch only): the handler does not wait for it.
  if (run.notifiesPeople) {
    void run.tell(
      'request-rejected',
      [run.requesterKey, ...run.pendingApprovers()],
      { extension: true, by, ...(comment && { comment }) },
      { updatesAsks: true },
    );
  }
}

async function extend(run: AccessRequestRun, by: string, addMs: number, justification: string | undefined) {
  const { state } = run;
  const grant = state.grant!;
  const newEndsAt = iso(Date.parse(grant.endsAt) + addMs);
  if (run.snapshot.grant.mode === 'database-role') await extendLogin(run, by, addMs, newEndsAt);
  // Only requests started after the patch `extension-renews-link` admit an extension past the link's expiry.
  const link = outlivesLink(grant.providerExpiresAt, newEndsAt) ? await newLink(run, by, addMs, newEndsAt) : undefined;
  state.extensions.push({
    by,
    at: iso(Date.now()),
    addedMs: addMs,
    justification,
    newEndsAt,
    ...(link && { linkExpiresAt: link.expiresAt }),
  });
  grant.endsAt = newEndsAt;
  if (link) {
    run.shareUrl = link.url;
    grant.providerExpiresAt = link.expiresAt;
    if (link.unreceivedLinks) grant.unreceivedLinks = (grant.unreceivedLinks ?? 0) + link.unreceivedLinks;
  }
  grant.guarantee = guaranteeFor(run.snapshot.grant, newEndsAt, grant.providerExpiresAt);
  state.pendingExtension = undefined;
  run.publish();
  // The vault lease drops a holder after its grant's end: it learns the new one.
  if (run.alwaysEnds && run.snapshot.grant.mode === 'vault-group') await sendLease(run, 'acquire', newEndsAt);
  await run.tell(
    'access-extended',
    [run.requesterKey],
    { endsAt: grant.endsAt, ...(link && { newLink: true, linkExpiresAt: link.expiresAt }) },
    { updatesAsks: true },
  );
}

/**
 * The new share link an extension past the current link's expiry needs, lasting until the new end; the
 * extension takes effect only once it is made. Meanwhile the extension stays pending, so that nothing else
 * decides or extends. If the link cannot be made, or access ends first, the grant stays as it was and the
 * Update fails.
 */
async function newLink(
  run: AccessRequestRun,
  by: string,
  addMs: number,
  newEndsAt: string,
): Promise<ShareLinkGrantResult> {
  const { state } = run;
  const step = `extension-${state.extensions.length + 1}`;
  holdPending(run, by, addMs);
  let failure: ApplicationFailure;
  try {
    const link = await makeShareLink(run, step, Date.parse(newEndsAt) - Date.now());
    if (state.status === 'ACTIVE' && !state.revocation) return link;
    // Made after access ended: never handed out, so counted with the links nobody received.
    state.grant!.unreceivedLinks = (state.grant!.unreceivedLinks ?? 0) + 1 + (link.unreceivedLinks ?? 0);
    failure = endedFirst();
  } catch (error) {
    if (isCancellation(error)) failure = endedFirst();
    else if (isGrantFailure(error)) failure = await notMade(run, step, error);
    else throw error; // a bug: fails the workflow task, retried until fixed code is deployed
  }
  state.pendingExtension = undefined;
  run.publish();
  throw failure;
}

/**
 * An approved extension that waits for its effect in 1Password or the database (`makingLinkSince`): pending
 * meanwhile, so that nothing else decides or extends.
 */
function holdPending(run: AccessRequestRun, by: string, addMs: number): void {
  const { state } = run;
  state.pendingExtension = {
    requestedBy: by,
    at: state.pendingExtension?.at ?? iso(Date.now()),
    addedMs: addMs,
    approvals: state.pendingExtension?.approvals ?? [],
    makingLinkSince: iso(Date.now()),
  };
  run.publish();
}

/**
 * The database accepts the login until the new end before latchkey says so. Meanwhile the extension stays
 * pending (as while an extension's link is made), so that nothing else decides or extends. If it cannot be
 * moved, the grant stays as it was and the Update fails (the login still ends at the old end).
 */
async function extendLogin(run: AccessRequestRun, by: string, addMs: number, newEndsAt: string): Promise<void> {
  const { snapshot, state } = run;
  if (snapshot.grant.mode !== 'database-role') return;
  holdPending(run, by, addMs);
  try {
    await granting.extendDatabaseLogin({
      idempotencyKey: `${run.workflowId}:extension-${state.extensions.length + 1}`,
      integration: state.integration,
      resourceId: snapshot.resource.id,
      target: snapshot.grant.target,
      role: run.loginRole,
      validUntil: newEndsAt,
    });
  } catch (error) {
    if (!isGrantFailure(error)) throw error;
    state.pendingExtension = undefined;
    run.publish();
    const { message } = failureOf(error);
    throw ApplicationFailure.create({ type: REFUSAL.upstream, message, nonRetryable: true });
  }
}

/** Access ended (or is ending) before the link was made: it is never handed out, and it expires on its own. */
function endedFirst(): ApplicationFailure {
  return ApplicationFailure.create({
    type: REFUSAL.conflict,
    message: 'access ended before the new share link of the extension was made',
    nonRetryable: true,
  });
}

/** The link could not be made: the requester is told, and the Update fails with the reason. */
async function notMade(
  run: AccessRequestRun,
  step: string,
  error: ActivityFailure | ApplicationFailure,
): Promise<ApplicationFailure> {
  const { code, message } = failureOf(error);
  log.warn('the share link of an extension could not be made', { requestId: run.state.requestId, step, code });
  await run.tell('grant-failed', [run.requesterKey], { code, extension: true });
  // The account's sharing policy allows no link that long: the extension asked too much. Anything else
  // is 1Password failing (after the activity's retries).
  const type = code === GRANT_REFUSED_FAILURE ? REFUSAL.invalid : REFUSAL.upstream;
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}
