import { actorMatches, type Principal } from '../../../contracts/identity';
import { type Caller, actorOf } from '../identity/caller';
import { seesEverything } from './visibility-query';

/** Who a request concerns, read from its pinned input (immutable for the life of the request). */
export interface RequestParties {
  requesterId: string;
  resourceId: string;
  /** Everyone the pinned flow names as an approver, at any tier. */
  approvers: Principal[];
}

/**
 * Who may read a request: its requester, anyone the flow names as an approver, and auditors and
 * admins. Everyone else is refused, whether or not the request exists for them to guess at.
 */
export function mayRead(caller: Caller, parties: RequestParties): boolean {
  if (seesEverything(caller)) return true;
  if (caller.identity.id === parties.requesterId) return true;
  const actor = actorOf(caller);
  return parties.approvers.some((principal) => actorMatches(actor, principal));
}

/** The way in to a secret is for the requester alone: not approvers, not auditors, not admins. */
export function mayReadGrant(caller: Caller, parties: RequestParties): boolean {
  return caller.identity.id === parties.requesterId;
}
