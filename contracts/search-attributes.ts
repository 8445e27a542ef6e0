import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes that make requests findable in the Temporal UI and through the API.
 * Values are ids only: never an e-mail address, never a secret.
 */
export const SA_STATUS = defineSearchAttributeKey('LatchkeyStatus', SearchAttributeType.KEYWORD);
export const SA_REQUESTER = defineSearchAttributeKey('LatchkeyRequester', SearchAttributeType.KEYWORD);
export const SA_RESOURCE = defineSearchAttributeKey('LatchkeyResource', SearchAttributeType.KEYWORD);
export const SA_INTEGRATION = defineSearchAttributeKey('LatchkeyIntegration', SearchAttributeType.KEYWORD);
/** The 1Password vault the resource lives in (an item's vault, or the vault itself). */
export const SA_VAULT = defineSearchAttributeKey('LatchkeyVault', SearchAttributeType.KEYWORD);
/** Principals (`user:<id>`, `group:<id>`) who may approve right now; empty once decided. */
export const SA_PENDING_APPROVERS = defineSearchAttributeKey(
  'LatchkeyPendingApprovers',
  SearchAttributeType.KEYWORD_LIST,
);
/** When the current grant ends; unset until access is granted. */
export const SA_GRANT_ENDS_AT = defineSearchAttributeKey('LatchkeyGrantEndsAt', SearchAttributeType.DATETIME);

/** Break-glass requests only: `awaiting-ratification`, `ratified` or `not-ratified`. */
export const SA_BREAK_GLASS = defineSearchAttributeKey('LatchkeyBreakGlass', SearchAttributeType.KEYWORD);

/**
 * Principals (`user:<id>`) who decided: approved, rejected, ratified or refused a break-glass grant. Lets an
 * approver find what they decided before, once the request no longer waits for them.
 */
export const SA_DECIDERS = defineSearchAttributeKey('LatchkeyDeciders', SearchAttributeType.KEYWORD_LIST);

/** Name and server type of every custom attribute, for registering them with a Temporal server. */
export const CUSTOM_SEARCH_ATTRIBUTES: ReadonlyArray<{ name: string; type: 'Keyword' | 'KeywordList' | 'Datetime' }> = [
  { name: SA_STATUS.name, type: 'Keyword' },
  { name: SA_REQUESTER.name, type: 'Keyword' },
  { name: SA_RESOURCE.name, type: 'Keyword' },
  { name: SA_INTEGRATION.name, type: 'Keyword' },
  { name: SA_VAULT.name, type: 'Keyword' },
  { name: SA_PENDING_APPROVERS.name, type: 'KeywordList' },
  { name: SA_GRANT_ENDS_AT.name, type: 'Datetime' },
  { name: SA_BREAK_GLASS.name, type: 'Keyword' },
  { name: SA_DECIDERS.name, type: 'KeywordList' },
];
