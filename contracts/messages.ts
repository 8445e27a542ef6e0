import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type {
  AccessRequestState,
  ApproveArgs,
  CancelArgs,
  ExtendArgs,
  GrantAccess,
  RejectArgs,
  RevokeArgs,
} from './request';

/**
 * Messages of the access-request workflow, shared by the workflow and the API.
 * Every Update has a validator in the workflow: a refused Update writes nothing to history.
 */
export const stateQuery = defineQuery<AccessRequestState>('state');
/** The requester's way in while ACTIVE; `undefined` otherwise. Carries the share link: codec-encrypted. */
export const grantAccessQuery = defineQuery<GrantAccess | undefined>('grantAccess');

export const approveUpdate = defineUpdate<AccessRequestState, [ApproveArgs]>('approve');
export const rejectUpdate = defineUpdate<AccessRequestState, [RejectArgs]>('reject');
export const cancelUpdate = defineUpdate<AccessRequestState, [CancelArgs]>('cancel');
export const revokeUpdate = defineUpdate<AccessRequestState, [RevokeArgs]>('revoke');
export const extendUpdate = defineUpdate<AccessRequestState, [ExtendArgs]>('extend');

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
} as const;

/** ApplicationFailure type for a grant refused by latchkey's own reading of the account policy. */
export const GRANT_REFUSED_FAILURE = 'LatchkeyGrantRefused';
