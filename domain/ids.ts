/**
 * Workflow ids are derived from business ids by these helpers only, so the API, the worker and
 * operators all agree on them. No e-mail or secret ever appears in an id.
 */
const REQUEST_PREFIX = 'AccessRequest:';

/** Request ids are latchkey's own: `req_` followed by a lowercase ULID-like token. */
export const REQUEST_ID_PATTERN = /^req_[0-9a-z]{10,40}$/;

export function requestWorkflowId(requestId: string): string {
  return `${REQUEST_PREFIX}${requestId}`;
}

export function requestIdFromWorkflowId(workflowId: string): string | undefined {
  return workflowId.startsWith(REQUEST_PREFIX) ? workflowId.slice(REQUEST_PREFIX.length) : undefined;
}

/**
 * The reconciler's rotation of a rotate-on-revoke request that an operator terminated: one per request,
 * so that a later pass finds it and does not rotate again (1Password takes no idempotency key).
 */
export function terminatedRotationWorkflowId(requestWorkflowId: string): string {
  return `RotateAfterTermination:${requestWorkflowId}`;
}

/** One entity workflow per (integration, vault, group) counts overlapping vault-group grants. */
export function vaultLeaseWorkflowId(integration: string, vaultId: string, groupId: string): string {
  return `VaultLease:${integration}:${vaultId}:${groupId}`;
}

/**
 * The PostgreSQL role of a database-role grant: named after its request, so that every attempt of every
 * step (and the reconciler) finds the same one. `lk_` and the request id's token: within PostgreSQL's 63 bytes.
 */
export function databaseLoginRole(requestId: string): string {
  return `lk_${requestId.replace(/^req_/, '')}`;
}

/** The title of the 1Password item that carries a request's login: unique, so a retried attempt finds it. */
export function databaseLoginItemTitle(requestId: string): string {
  return `latchkey database login ${requestId}`;
}
