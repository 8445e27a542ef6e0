import type { ApprovalRecord } from '../../contracts/request';
import { thresholdMet } from '../../domain/approval';
import { guaranteeFor } from '../../domain/guarantees';
import { sendLease } from './grant';
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
  await run.tell('approval-requested', run.pendingApprovers(), { extensionMs: addMs });
}

export async function approveExtension(run: AccessRequestRun, record: ApprovalRecord): Promise<void> {
  const { snapshot, state } = run;
  const extension = state.pendingExtension!;
  extension.approvals.push(record);
  if (!thresholdMet(snapshot.approval, state.currentTier, extension.approvals)) return run.publish();
  await extend(run, extension.requestedBy, extension.addedMs, undefined);
}

/** Rejecting an extension leaves the grant as it was. */
export function rejectExtension(run: AccessRequestRun): void {
  run.state.pendingExtension = undefined;
  run.publish();
}

async function extend(run: AccessRequestRun, by: string, addMs: number, justification: string | undefined) {
  const { state } = run;
  const grant = state.grant!;
  const newEndsAt = iso(Date.parse(grant.endsAt) + addMs);
  state.extensions.push({ by, at: iso(Date.now()), addedMs: addMs, justification, newEndsAt });
  grant.endsAt = newEndsAt;
  grant.guarantee = guaranteeFor(run.mode, newEndsAt, grant.providerExpiresAt);
  state.pendingExtension = undefined;
  run.publish();
  // The vault lease drops a holder after its grant's end: it learns the new one.
  if (run.alwaysEnds && run.snapshot.grant.mode === 'vault-group') await sendLease(run, 'acquire', newEndsAt);
  await run.tell('access-extended', [run.requesterKey], { endsAt: grant.endsAt });
}
