import type { RequestStatus } from '../contracts/request';

/**
 * The request lifecycle of BRIEF §4 as data: the statuses each status may move to. The workflow
 * changes a request's status only through this table, so a transition it does not list is a bug
 * that fails the workflow task (Temporal retries it once fixed code is deployed) instead of a
 * request in a state nobody designed.
 */
export const TRANSITIONS: Readonly<Record<RequestStatus, readonly RequestStatus[]>> = {
  // FAILED: a request whose start the API did not sign (trust/command.ts) grants nothing.
  PENDING_APPROVAL: ['APPROVED', 'REJECTED', 'TIMED_OUT', 'CANCELLED', 'FAILED'],
  // Withdrawn or revoked while the grant was being made: CANCELLED if nothing was granted, else ENDING.
  APPROVED: ['ACTIVE', 'FAILED', 'CANCELLED', 'ENDING'],
  // Straight to EXPIRED or REVOKED only for requests started before 0.2, which have no ENDING.
  ACTIVE: ['ENDING', 'EXPIRED', 'REVOKED'],
  // Nothing changes the outcome while access is being ended, and no link is handed out.
  ENDING: ['EXPIRED', 'REVOKED'],
  REJECTED: [],
  TIMED_OUT: [],
  CANCELLED: [],
  EXPIRED: [],
  REVOKED: [],
  FAILED: [],
};

export function canMove(from: RequestStatus, to: RequestStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Statuses a request never leaves. */
export const TERMINAL_STATUSES: ReadonlySet<RequestStatus> = new Set(
  (Object.keys(TRANSITIONS) as RequestStatus[]).filter((status) => TRANSITIONS[status].length === 0),
);
