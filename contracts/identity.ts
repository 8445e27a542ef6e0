/**
 * Who someone is, as a verified token says. The API builds these from the bearer token only;
 * the workflow receives them as arguments and never trusts a body field for identity.
 */
export interface Identity {
  /** Stable subject id (the token's `sub`). Safe for search attributes and logs. */
  id: string;
  /** Verified e-mail. Personal data: never put in a search attribute, a workflow id or a log line. */
  email: string;
  groups: string[];
}

export type Role = 'auditor' | 'admin';

/** The caller of an Update: identity plus the roles the token grants. */
export interface Actor {
  id: string;
  groups: string[];
  roles: Role[];
}

/** Someone who may approve: a named user or any member of a named group. */
export type Principal = { kind: 'user'; id: string } | { kind: 'group'; id: string };

export function principalKey(principal: Principal): string {
  return `${principal.kind}:${principal.id}`;
}

export function actorMatches(actor: Actor, principal: Principal): boolean {
  return principal.kind === 'user' ? actor.id === principal.id : actor.groups.includes(principal.id);
}

/** One person latchkey can reach: the id is their tokens' subject. */
export interface Person {
  id: string;
  name?: string;
  email: string;
  groups: string[];
  roles: Role[];
  /** Slack member id (`U…`): where approval messages go, and who a Slack click is. */
  slack?: string;
}
