import { principalKey } from '../../../contracts/identity';
import { REQUEST_STATUSES, type RequestStatus } from '../../../contracts/request';
import {
  SA_DECIDERS,
  SA_PENDING_APPROVERS,
  SA_REQUESTER,
  SA_RESOURCE,
  SA_STATUS,
} from '../../../contracts/search-attributes';
import { ApiError } from '../errors/api-error';
import { INSTANT_PATTERN } from './instant';
import { type Caller, hasRole, CALLER_ID_PATTERN } from '../identity/caller';

/** Resource ids as policy writes them. */
export const RESOURCE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const TASK_QUEUE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
const WORKFLOW_TYPE_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,199}$/;
/** A user's id may be a subject digest (`~…`, claim-mapping.ts); a group name never is. */
const PRINCIPAL_PATTERN =
  /^(?:user:(?:[A-Za-z0-9][A-Za-z0-9._:|+-]{0,127}|~[a-z2-7]{26})|group:[A-Za-z0-9][A-Za-z0-9._:|+-]{0,127})$/;

export interface ListFilter {
  status?: RequestStatus;
  resourceId?: string;
  requester?: string;
  mine?: boolean;
  pendingMyApproval?: boolean;
  decidedByMe?: boolean;
  /** ISO 8601 instants: requests started at or after, and before. */
  requestedAfter?: string;
  requestedBefore?: string;
}

export interface ListScope {
  workflowType: string;
  taskQueue: string;
}

/**
 * Every value that enters a visibility query passes here: it must match a pattern that admits no
 * quote, backslash, space or operator, and only then is it quoted. Nothing else is ever pasted in.
 */
export function literal(value: string, pattern: RegExp, field: string): string {
  if (!pattern.test(value)) {
    throw new ApiError(400, 'validation-failed', 'The filter has a value that is not allowed.', [
      { field, problems: ['has characters that are not allowed'] },
    ]);
  }
  return `'${value}'`;
}

/** An instant, quoted as the server writes it (re-serialised, so nothing of the input is pasted in). */
function instant(value: string, field: string): string {
  const ms = INSTANT_PATTERN.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new ApiError(400, 'validation-failed', 'The filter has a value that is not allowed.', [
      { field, problems: ['must be an ISO 8601 date and time'] },
    ]);
  }
  return `'${new Date(ms).toISOString()}'`;
}

/** The principals that stand for the caller in the pending-approvers search attribute. */
export function callerPrincipals(caller: Caller): string[] {
  return [
    principalKey({ kind: 'user', id: caller.identity.id }),
    ...caller.identity.groups.map((group) => principalKey({ kind: 'group', id: group })),
  ];
}

function pendingFor(caller: Caller): string {
  const principals = callerPrincipals(caller).map((principal) => literal(principal, PRINCIPAL_PATTERN, 'caller'));
  return `${SA_PENDING_APPROVERS.name} IN (${principals.join(', ')})`;
}

/** Whether the caller may list every request (auditors read all; admins may revoke anything). */
export function seesEverything(caller: Caller): boolean {
  return hasRole(caller, 'auditor') || hasRole(caller, 'admin');
}

/**
 * The visibility query for a list. Without a read-all role the caller sees only requests they made or
 * that wait for their approval, whatever the filters say: filters only ever narrow.
 */
export function buildListQuery(scope: ListScope, caller: Caller, filter: ListFilter): string {
  const me = literal(caller.identity.id, CALLER_ID_PATTERN, 'caller');
  const clauses = [
    `WorkflowType = ${literal(scope.workflowType, WORKFLOW_TYPE_PATTERN, 'workflowType')}`,
    `TaskQueue = ${literal(scope.taskQueue, TASK_QUEUE_PATTERN, 'taskQueue')}`,
  ];
  const decidedByMe = `${SA_DECIDERS.name} = ${literal(principalKey({ kind: 'user', id: caller.identity.id }), PRINCIPAL_PATTERN, 'caller')}`;
  if (!seesEverything(caller)) {
    clauses.push(`(${SA_REQUESTER.name} = ${me} OR ${pendingFor(caller)} OR ${decidedByMe})`);
  }
  if (filter.status !== undefined) {
    if (!(REQUEST_STATUSES as readonly string[]).includes(filter.status)) {
      throw new ApiError(400, 'validation-failed', 'The filter has a value that is not allowed.', [
        { field: 'status', problems: [`must be one of ${REQUEST_STATUSES.join(', ')}`] },
      ]);
    }
    clauses.push(`${SA_STATUS.name} = '${filter.status}'`);
  }
  if (filter.resourceId !== undefined) {
    clauses.push(`${SA_RESOURCE.name} = ${literal(filter.resourceId, RESOURCE_ID_PATTERN, 'resourceId')}`);
  }
  if (filter.requester !== undefined) {
    clauses.push(`${SA_REQUESTER.name} = ${literal(filter.requester, CALLER_ID_PATTERN, 'requester')}`);
  }
  if (filter.mine) clauses.push(`${SA_REQUESTER.name} = ${me}`);
  if (filter.pendingMyApproval) clauses.push(pendingFor(caller));
  if (filter.decidedByMe) clauses.push(decidedByMe);
  if (filter.requestedAfter !== undefined)
    clauses.push(`StartTime >= ${instant(filter.requestedAfter, 'requestedAfter')}`);
  if (filter.requestedBefore !== undefined)
    clauses.push(`StartTime < ${instant(filter.requestedBefore, 'requestedBefore')}`);
  return clauses.join(' AND ');
}
