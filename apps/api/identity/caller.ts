import type { Actor, Identity, Role } from '../../../contracts/identity';

/** Who is calling, as the verified bearer token says. Nothing else ever decides identity. */
export interface Caller {
  identity: Identity;
  roles: Role[];
  /**
   * The token vouches for the e-mail address (`email_verified: true`, or a local-mode token that does
   * not say): only then may a share link be sent to it. Absent means not verified.
   */
  emailVerified?: true;
}

export const ROLES: readonly Role[] = ['auditor', 'admin'];

/**
 * Subjects go into search attributes and visibility queries, so a subject is used as the caller's id
 * only when it is a plain id: no quotes, spaces or `@` (an e-mail address must never become an id).
 * Any other subject becomes `~` and a digest of it (claim-mapping.ts), which `CALLER_ID_PATTERN` also accepts.
 */
export const PLAIN_SUBJECT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:|+-]{0,127}$/;
export const CALLER_ID_PATTERN = /^(?:[A-Za-z0-9][A-Za-z0-9._:|+-]{0,127}|~[a-z2-7]{26})$/;
export const GROUP_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function actorOf(caller: Caller): Actor {
  return { id: caller.identity.id, groups: [...caller.identity.groups], roles: [...caller.roles] };
}

export function hasRole(caller: Caller, role: Role): boolean {
  return caller.roles.includes(role);
}
