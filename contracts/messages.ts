import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { SignedCommand } from './command';
import type { AccessRequestState, GrantAccess } from './request';

/**
 * Messages of the access-request workflow, shared by the workflow and the API.
 * Every Update has a validator in the workflow: a refused Update writes nothing to history. Each takes one
 * command the API signed (trust/command.ts): the arguments are in its claims (contracts/request.ts).
 */
export const stateQuery = defineQuery<AccessRequestState>('state');
/** The requester's way in while ACTIVE; `undefined` otherwise. Carries the share link: codec-encrypted. */
export const grantAccessQuery = defineQuery<GrantAccess | undefined>('grantAccess');

export const approveUpdate = defineUpdate<AccessRequestState, [SignedCommand]>('approve');
export const rejectUpdate = defineUpdate<AccessRequestState, [SignedCommand]>('reject');
export const cancelUpdate = defineUpdate<AccessRequestState, [SignedCommand]>('cancel');
export const revokeUpdate = defineUpdate<AccessRequestState, [SignedCommand]>('revoke');
export const extendUpdate = defineUpdate<AccessRequestState, [SignedCommand]>('extend');

/** Names of validator refusals, so the API maps them to HTTP statuses without parsing prose. */
export const REFUSAL = {
  /** The caller has no right to do this (HTTP 403). */
  forbidden: 'LatchkeyForbidden',
  /** The request's state no longer allows it (HTTP 409). */
  conflict: 'LatchkeyConflict',
  /** The arguments break the pinned policy, e.g. an extension too long (HTTP 422). */
  invalid: 'LatchkeyInvalid',
  /** 1Password failed what the change needed, e.g. the new link of an extension; nothing changed (HTTP 502). */
  upstream: 'LatchkeyOnePasswordFailed',
  /**
   * The command is not signed by a trusted key, was made for another request, has expired or was already used.
   * The API never sends one: from it, this means the workers do not trust the API's key (HTTP 503).
   */
  unverified: 'LatchkeyUnverifiedCommand',
} as const;

/** ApplicationFailure type for a grant refused by latchkey's own reading of the account policy. */
export const GRANT_REFUSED_FAILURE = 'LatchkeyGrantRefused';
