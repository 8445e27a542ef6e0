import { condition, isCancellation, log } from '@temporalio/workflow';
import { ADMINS } from '../../contracts/notifications';
import type { GrantView } from '../../contracts/request';
import type { RotatorSpec } from '../../contracts/snapshot';
import { TERMINAL_STATUSES } from '../../domain/lifecycle';
import { ending } from '../activity-stubs';
import { rotateCredential } from '../ending-steps';
import { notRatifiedInTime, ratificationDeadlineMs, rotatesUnratified } from './break-glass';
import { awaitLease, removeDatabaseLogin } from './grant';
import { endInOnePasswordBeforePatch } from './legacy';
import { type AccessRequestRun, iso } from './run';

/** Who ended access when the workflow itself was cancelled (by an operator) while access was active. */
export const CANCELLED_BY_WORKFLOW = 'system:workflow-cancelled';

/** Admins are alerted when ending access takes longer than this and the flow says nothing else. */
const DEFAULT_REVOKE_ALERT_AFTER_MS = 15 * 60_000;

type EndedBy = NonNullable<GrantView['endedBy']>;

const NO_ROTATOR: RotatorSpec = { kind: 'none' };

/**
 * Holds the grant until its end (a durable timer that an extension moves) or an early revoke.
 * Returns the cancellation when the workflow was cancelled meanwhile: access must still be ended.
 */
export async function holdUntilEnd(run: AccessRequestRun): Promise<Error | undefined> {
  const { state } = run;
  const warning = new EndWarning(run);
  try {
    while (!state.revocation) {
      const endsAt = state.grant!.endsAt;
      // Break-glass: until ratified, access ends at the ratification deadline (Infinity for any other grant).
      const ratifyByMs = ratificationDeadlineMs(run);
      const remaining = Math.min(Date.parse(endsAt), ratifyByMs) - Date.now();
      if (remaining <= 0) {
        if (ratifyByMs <= Date.now()) await notRatifiedInTime(run);
        return undefined;
      }
      const warnInMs = warning.dueIn(endsAt);
      if (warnInMs !== undefined && warnInMs <= 0) {
        await warning.send(endsAt);
        continue;
      }
      await condition(
        () => !!state.revocation || state.grant!.endsAt !== endsAt || ratificationDeadlineMs(run) !== ratifyByMs,
        Math.min(remaining, warnInMs ?? Infinity),
      );
    }
    return undefined;
  } catch (error) {
    if (!isCancellation(error)) throw error;
    return error as Error;
  }
}

/**
 * The requester's warning before access ends (policy `notify.warnBeforeEnd`), once per end: an extension
 * moves the end, and the warning comes again before the new one. An end set closer than the warning's lead
 * (a grant shorter than it, an extension late in the grant) is not warned about: the requester just saw it.
 */
class EndWarning {
  private warnedFor?: string;
  private endSeen?: { endsAt: string; atMs: number };

  constructor(private readonly run: AccessRequestRun) {}

  /** Milliseconds until the warning for this end is due; undefined when there is none to give. */
  dueIn(endsAt: string): number | undefined {
    const leadMs = this.run.snapshot.notify?.warnBeforeEndMs;
    if (!this.run.notifiesPeople || leadMs === undefined || this.warnedFor === endsAt) return undefined;
    if (this.endSeen?.endsAt !== endsAt) this.endSeen = { endsAt, atMs: Date.now() };
    const warnAtMs = Date.parse(endsAt) - leadMs;
    return warnAtMs <= this.endSeen.atMs ? undefined : warnAtMs - Date.now();
  }

  async send(endsAt: string): Promise<void> {
    const { snapshot, state } = this.run;
    this.warnedFor = endsAt;
    const canExtend = !state.pendingExtension && state.extensions.length < snapshot.extensions.maxCount;
    await this.run.tell('access-ending-soon', [this.run.requesterKey], { endsAt, canExtend });
  }
}

/**
 * An early end, by the requester, an approver or an admin, while ACTIVE or while the grant is being made
 * (which is then cancelled); answers once access has ended (1Password confirmed) or was never granted.
 */
export async function revoke(run: AccessRequestRun, by: string, reason?: string): Promise<void> {
  run.state.revocation = { by, at: iso(Date.now()), comment: reason };
  run.publish();
  run.grantScope?.cancel();
  await condition(() => TERMINAL_STATUSES.has(run.state.status));
}

/** Withdrawn while the grant is being made: the grant is cancelled, and the request ends when it settles. */
export async function withdrawWhileGranting(run: AccessRequestRun, by: string, reason?: string): Promise<void> {
  run.state.cancellation = { by, at: iso(Date.now()), comment: reason };
  run.publish();
  run.grantScope?.cancel();
  await condition(() => TERMINAL_STATUSES.has(run.state.status));
}

/**
 * Ends access and records it only once 1Password confirmed. Never cancelled, never gives up. While
 * ENDING, no Update changes the outcome and no link is handed out.
 */
export async function endAccess(run: AccessRequestRun): Promise<void> {
  const { state } = run;
  const grant = state.grant!;
  if (run.alwaysEnds) {
    // A request stopped while its grant was being made is ended as revoked by whoever stopped it.
    state.revocation ??= state.cancellation;
    state.cancellation = undefined;
    state.pendingExtension = undefined;
    state.ending = { since: iso(Date.now()) };
    // A share link left to expire ends in this same workflow task: its end status is the one upsert.
    run.moveTo('ENDING', { publish: !(run.visibilityOncePerChange && leavesLinkToExpire(run)) });
    // An extension's new link still being made is not needed any more (and never handed out).
    run.grantScope?.cancel();
  }
  grant.endedBy = run.alwaysEnds ? await endInOnePassword(run) : await endInOnePasswordBeforePatch(run);
  grant.revokedAt = iso(Date.now());
  run.shareUrl = undefined;
  // Ended early (requester, approver, admin or workflow cancellation) is REVOKED; at the timer, EXPIRED.
  run.moveTo(state.revocation ? 'REVOKED' : 'EXPIRED');
  await run.tell('access-ended', [run.requesterKey], { status: state.status, endedBy: grant.endedBy });
}

/** A plain share link: 1Password cannot withdraw it, so ending it makes no call. */
function leavesLinkToExpire(run: AccessRequestRun): boolean {
  return run.snapshot.grant.mode === 'share-link' && !rotatesOnEnd(run);
}

function rotatesOnEnd(run: AccessRequestRun): boolean {
  return run.mode === 'rotate-on-revoke' || rotatesUnratified(run);
}

async function endInOnePassword(run: AccessRequestRun): Promise<EndedBy> {
  const { snapshot, state } = run;
  if (snapshot.grant.mode === 'database-role') {
    await alertIfSlow(run, removeDatabaseLogin(run));
    return 'login-dropped';
  }
  if (snapshot.grant.mode === 'share-link' && rotatesOnEnd(run)) {
    const { vaultId, itemId } = snapshot.grant;
    // Unratified break-glass on a plain share link: no rotator is named, so only the item's secret is replaced.
    const rotator = snapshot.grant.rotator ?? (run.mode === 'rotate-on-revoke' ? undefined : NO_ROTATOR);
    if (rotator) return alertIfSlow(run, rotateCredential(run.endingSubject(), { vaultId, itemId }, rotator));
    // Requests made before rotators existed: 1Password's generator replaces the item's secret.
    const rotation = ending.rotateItemSecret({
      idempotencyKey: `${run.workflowId}:rotate`,
      integration: state.integration,
      vaultId,
      itemId,
    });
    return (await alertIfSlow(run, rotation)).gone ? 'item-gone' : 'secret-rotated';
  }
  if (run.mode === 'vault-group') {
    const result = await alertIfSlow(run, awaitLease(run, 'release'));
    if (result.effect === 'revoked') return 'group-permissions-removed';
    return result.effect === 'gone' ? 'vault-gone' : 'group-still-held-by-other-grants';
  }
  // 1Password cannot withdraw a share link: the end is recorded truthfully, the link lapses at its bucket.
  return 'link-left-to-expire';
}

/**
 * Waits for the end of access, which Temporal retries without limit; if it takes longer than the flow
 * allows, admins are alerted once (a timer racing the activity) and the wait goes on.
 */
async function alertIfSlow<T>(run: AccessRequestRun, end: Promise<T>): Promise<T> {
  let settled = false;
  const result = end.finally(() => {
    settled = true;
  });
  const alertAfterMs = run.snapshot.revokeAlertAfterMs ?? DEFAULT_REVOKE_ALERT_AFTER_MS;
  if (!(await condition(() => settled, alertAfterMs))) {
    run.state.ending = { ...run.state.ending!, alertedAt: iso(Date.now()) };
    run.publish();
    log.error('ending access takes longer than the flow allows; still trying', { requestId: run.state.requestId });
    await run.tell('revoke-failing', [ADMINS, run.requesterKey], { endingSince: run.state.ending.since });
  }
  return result;
}
