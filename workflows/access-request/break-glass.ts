import { ADMINS } from '../../contracts/notifications';
import { type Actor, principalKey } from '../../contracts/identity';
import { tierPrincipalKeys } from '../../domain/approval';
import { awaitsRatification } from '../../domain/request-rules';
import { type AccessRequestRun, iso } from './run';

/**
 * Break-glass (policy `breakGlass`): access at once, when no approver can be reached, held to account.
 * Every approver and ratifier is told at once; a ratifier ratifies (approve) or refuses (reject) it; if
 * nobody ratifies it by its deadline, access ends then, rotated where the flow says, and admins are alerted.
 */

/** Who ends break-glass access that nobody ratified in time. */
export const NOT_RATIFIED = 'system:break-glass-not-ratified';

function ratifierKeys(run: AccessRequestRun): string[] {
  return run.snapshot.breakGlass!.ratifiers.map(principalKey);
}

/** Approved without waiting; everyone who could have approved, and every ratifier, hears of it now. */
export async function grantBreakGlass(run: AccessRequestRun): Promise<void> {
  run.moveTo('APPROVED');
  const approvers = run.snapshot.approval.tiers.flatMap(tierPrincipalKeys);
  await run.tell('break-glass-granted', [...new Set([...approvers, ...ratifierKeys(run)])], {
    urgent: true,
    ratifyBy: run.state.breakGlass!.ratifyBy,
    ...run.reachDetails(),
  });
}

export async function ratify(run: AccessRequestRun, actor: Actor, comment?: string): Promise<void> {
  run.state.breakGlass!.ratification = { by: actor.id, at: iso(Date.now()), comment };
  run.publish();
  await run.tell('break-glass-ratified', [run.requesterKey, ...ratifierKeys(run)], { by: actor.id });
}

/** A ratifier refuses it: recorded and alerted; the caller then ends access (revoke), as at the deadline. */
export async function refuseRatification(run: AccessRequestRun, actor: Actor, comment?: string): Promise<void> {
  run.state.breakGlass!.refusal = { by: actor.id, at: iso(Date.now()), comment };
  await alertNotRatified(run, actor.id);
}

/**
 * When access must end unless ratified: the deadline, or the grant's own end if that comes first (it
 * cannot move: an unratified grant is not extended). Infinity when nothing waits for ratification.
 */
export function ratificationDeadlineMs(run: AccessRequestRun): number {
  const { state } = run;
  if (!awaitsRatification(state)) return Infinity;
  return Math.min(Date.parse(state.breakGlass!.ratifyBy), Date.parse(state.grant!.endsAt));
}

/**
 * Nobody ratified it by the deadline: recorded, admins alerted, and access ended (a deadline before the
 * grant's end revokes it; at the grant's end it expires as it would have).
 */
export async function notRatifiedInTime(run: AccessRequestRun): Promise<void> {
  const { state } = run;
  const at = iso(Date.now());
  state.breakGlass!.refusal = { by: NOT_RATIFIED, at };
  if (Date.now() < Date.parse(state.grant!.endsAt)) {
    state.revocation = { by: NOT_RATIFIED, at, comment: 'break-glass access was not ratified in time' };
  }
  run.publish();
  await alertNotRatified(run, NOT_RATIFIED);
}

async function alertNotRatified(run: AccessRequestRun, by: string): Promise<void> {
  const breakGlass = run.snapshot.breakGlass!;
  await run.tell('break-glass-not-ratified', [ADMINS, run.requesterKey, ...ratifierKeys(run)], {
    urgent: true,
    by,
    ratifyBy: run.state.breakGlass!.ratifyBy,
    rotates: breakGlass.onNotRatified === 'end-and-rotate',
  });
}

/** `end-and-rotate`: the item of an unratified grant has its secret replaced as access ends. */
export function rotatesUnratified(run: AccessRequestRun): boolean {
  return run.snapshot.breakGlass?.onNotRatified === 'end-and-rotate' && !!run.state.breakGlass?.refusal;
}
