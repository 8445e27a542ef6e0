import type { AccessRequestInput, AccessRequestState, RequestStatus } from '../contracts/request';
import { approvalsRequired } from './approval';

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

/**
 * A request's state when it is made, from its input alone: the state its workflow starts from and the one the API
 * answers a create with, so that the two agree without asking the workflow. Its clocks (the decision's deadline, a
 * break-glass grant's ratification) run from `startMs`: by default the moment the API accepted the request.
 */
export function stateAtRequest(input: AccessRequestInput, startMs = Date.parse(input.requestedAt)): AccessRequestState {
  const { snapshot, requester } = input;
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    requestId: input.requestId,
    status: 'PENDING_APPROVAL',
    requesterId: requester.id,
    resourceId: snapshot.resource.id,
    integration: snapshot.integration.name,
    flowName: snapshot.flowName,
    policyVersion: snapshot.policyVersion,
    justification: input.justification,
    ticket: input.ticket,
    requestedAt: input.requestedAt,
    durationMs: snapshot.durationMs,
    pendingDeadline:
      snapshot.approval.automatic || snapshot.breakGlass ? undefined : iso(startMs + snapshot.pendingTimeoutMs),
    currentTier: 0,
    approvalsRequired: approvalsRequired(snapshot.approval, 0),
    approvals: [],
    extensions: [],
    updatedAt: iso(startMs),
    ...(input.startAt !== undefined && { scheduledStart: input.startAt }),
    ...(snapshot.breakGlass && { breakGlass: { ratifyBy: iso(startMs + snapshot.breakGlass.ratifyWithinMs) } }),
  };
}
