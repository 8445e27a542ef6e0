import type { NotifySpec } from './snapshot';

/**
 * What latchkey tells people about, and the only shape a notifier receives. Recipients are principals
 * (`user:<id>`, `group:<id>`, `role:admin`), never e-mail addresses: the receiving system resolves them. No event
 * carries a secret, a share link or an e-mail address.
 */
export const NOTIFICATION_KINDS = [
  'approval-requested',
  'approval-reminder',
  'approval-escalated',
  'request-approved',
  'request-rejected',
  'request-timed-out',
  'request-cancelled',
  'access-granted',
  'access-extended',
  'access-ending-soon',
  'access-ended',
  'grant-failed',
  'revoke-failing',
  'revoke-blocked',
  'rotation-incomplete',
  'resource-gone',
  'drift-found',
  'onepassword-error-unrecognised',
  'break-glass-granted',
  'break-glass-ratified',
  'break-glass-not-ratified',
] as const;

/** The recipient of alerts for operators: every admin (the receiving system resolves it). */
export const ADMINS = 'role:admin';
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export interface NotificationEvent {
  kind: NotificationKind;
  /** Deduplication key for receivers: workflow id + step. The same event may be delivered twice. */
  eventId: string;
  requestId: string;
  resourceId: string;
  integration: string;
  /** Principals the event is meant for. */
  recipients: string[];
  /** ISO 8601 instant (workflow time) at which the event happened. */
  at: string;
  /** Small, non-secret facts: tier, deadline, attempt count, status. */
  details?: Record<string, string | number | boolean>;
  /** The flow's routing (policy `notify`); absent in events of requests made before it: every channel. */
  route?: NotifySpec;
  /** Messages an earlier event of this request left (the approval request in Slack), to update with this one. */
  updates?: NotificationReceipt[];
}

/** Where a notification was delivered, when a later event updates it: a Slack message. */
export interface NotificationReceipt {
  channel: 'slack';
  conversation: string;
  ts: string;
}

/** The action ids of the Approve and Reject buttons on Slack messages: the API's Slack endpoint acts on these. */
export const SLACK_ACTIONS = { approve: 'latchkey_approve', reject: 'latchkey_reject' } as const;

/** The events that ask someone to decide: their messages carry the Approve and Reject buttons. */
export const ASKING_KINDS: ReadonlySet<NotificationKind> = new Set([
  'approval-requested',
  'approval-reminder',
  'approval-escalated',
]);
