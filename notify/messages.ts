import { ASKING_KINDS, type NotificationEvent, type NotificationKind } from '../contracts/notifications';

/** What one notification says, whatever the channel: a subject, a few lines, and links into latchkey. */
export interface Message {
  subject: string;
  lines: string[];
  links: Array<{ label: string; url: string; method?: 'POST' }>;
  /** The request's page in the web portal: what a click in a chat opens (the API's links need a token). */
  page: string;
  /** Whether it asks the reader to decide (Slack adds Approve and Reject buttons). */
  asksForDecision: boolean;
}

type Details = NonNullable<NotificationEvent['details']>;

const text = (details: Details, key: string): string | undefined =>
  details[key] === undefined ? undefined : String(details[key]);

function minutes(ms: unknown): string {
  const total = Math.round(Number(ms) / 60_000);
  if (!Number.isFinite(total)) return 'an unknown time';
  const hours = Math.floor(total / 60);
  const rest = total % 60;
  if (hours === 0) return `${rest} min`;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** The request in one line, as an approver needs it: who, what, for how long, why. */
function summary(event: NotificationEvent, details: Details): string[] {
  const who = text(details, 'requester');
  const lines = [
    `${who ?? 'Someone'} asks for ${event.resourceId} (${event.integration})` +
      (details.durationMs !== undefined ? ` for ${minutes(details.durationMs)}.` : '.'),
  ];
  const why = text(details, 'justification');
  if (why) lines.push(`Why: ${why}`);
  const ticket = text(details, 'ticket');
  if (ticket) lines.push(`Ticket: ${ticket}`);
  const group = text(details, 'onePasswordGroup');
  if (group) lines.push(`Access reaches the whole 1Password group ${group}.`);
  if (details.extensionMs !== undefined) lines.push(`This is an extension of ${minutes(details.extensionMs)}.`);
  const deadline = text(details, 'deadline');
  if (deadline) lines.push(`Decide before ${deadline}; after that the request times out.`);
  return lines;
}

const SUBJECTS: Record<NotificationKind, (event: NotificationEvent, details: Details) => string> = {
  'approval-requested': (e, d) =>
    d.extensionMs !== undefined ? `Extension asked: ${e.resourceId}` : `Approval asked: ${e.resourceId}`,
  'approval-reminder': (e) => `Reminder: ${e.resourceId} waits for your decision`,
  'approval-escalated': (e) => `Escalated to you: ${e.resourceId}`,
  'request-approved': (e) => `Approved: ${e.resourceId}`,
  'request-rejected': (e, d) =>
    d.extension === true ? `Extension rejected: ${e.resourceId}` : `Rejected: ${e.resourceId}`,
  'request-timed-out': (e) => `Timed out: ${e.resourceId}`,
  'request-cancelled': (e) => `Withdrawn: ${e.resourceId}`,
  'access-granted': (e) => `Access granted: ${e.resourceId}`,
  'access-extended': (e) => `Access extended: ${e.resourceId}`,
  'access-ending-soon': (e) => `Access to ${e.resourceId} ends soon`,
  'access-ended': (e) => `Access ended: ${e.resourceId}`,
  'grant-failed': (e) => `Access could not be granted: ${e.resourceId}`,
  'revoke-failing': (e) => `Action needed: access to ${e.resourceId} is not ending`,
  'revoke-blocked': (e) => `Action needed: access to ${e.resourceId} cannot be ended by latchkey`,
  'rotation-incomplete': (e) => `Action needed: the secret of ${e.resourceId} was not fully rotated`,
  'resource-gone': (e) => `Resource gone: ${e.resourceId}`,
  'drift-found': (e) => `1Password permissions no grant explains: ${e.resourceId}`,
  'onepassword-error-unrecognised': () => `1Password answered something latchkey does not recognise`,
  'break-glass-granted': (e) => `Break-glass access to ${e.resourceId}: ratify it`,
  'break-glass-ratified': (e) => `Break-glass access ratified: ${e.resourceId}`,
  'break-glass-not-ratified': (e) => `Break-glass access not ratified in time: ${e.resourceId}`,
};

function body(event: NotificationEvent, details: Details): string[] {
  const by = text(details, 'by');
  const comment = text(details, 'comment');
  const said = comment ? [`Comment: ${comment}`] : [];
  switch (event.kind) {
    case 'approval-requested':
    case 'approval-reminder':
    case 'approval-escalated':
      return summary(event, details);
    case 'request-approved':
      return [`${by ?? 'An approver'} approved it.`, ...said];
    case 'request-rejected':
      return details.extension === true
        ? [`${by ?? 'An approver'} rejected the extension; access ends as it was to.`, ...said]
        : [`${by ?? 'An approver'} rejected it.`, ...said];
    case 'request-cancelled':
      return [by ? `${by} withdrew it.` : 'It was withdrawn.'];
    case 'request-timed-out':
      return ['Nobody decided before its deadline; nothing was granted.'];
    case 'access-granted':
      return [`You have access until ${text(details, 'endsAt') ?? 'the end of the grant'}.`];
    case 'access-extended':
      return [`Access now ends at ${text(details, 'endsAt') ?? 'the new end'}.`];
    case 'access-ending-soon':
      return [
        `Access ends at ${text(details, 'endsAt') ?? 'its end'}.`,
        details.canExtend === true
          ? 'Need longer? Ask for an extension before then.'
          : 'This flow allows no further extension.',
      ];
    case 'access-ended':
      return [`Access ended (${text(details, 'status') ?? 'ended'}).`];
    case 'revoke-failing':
      return [
        `latchkey has been trying to end this access since ${text(details, 'endingSince') ?? 'a while'} and keeps trying.`,
      ];
    default:
      return Object.entries(details).map(([key, value]) => `${key}: ${String(value)}`);
  }
}

/**
 * What each event says. Links point into the API (the portal does not exist yet): the request, and where the
 * reader can act on it (a POST with their token, or the `latchkey` CLI named beside it).
 */
export function messageFor(event: NotificationEvent, publicUrl: string): Message {
  const details = event.details ?? {};
  const request = `${publicUrl}/v1/requests/${encodeURIComponent(event.requestId)}`;
  const asksForDecision = ASKING_KINDS.has(event.kind);
  const links: Message['links'] = [{ label: 'The request', url: request }];
  if (asksForDecision) {
    links.push({ label: `Approve (latchkey approve ${event.requestId})`, url: `${request}/approve`, method: 'POST' });
    links.push({ label: `Reject (latchkey reject ${event.requestId})`, url: `${request}/reject`, method: 'POST' });
  }
  if (event.kind === 'access-ending-soon' && details.canExtend === true) {
    links.push({ label: `Extend (latchkey extend ${event.requestId})`, url: `${request}/extend`, method: 'POST' });
  }
  if (event.kind === 'access-granted') links.push({ label: 'Your access', url: `${request}/grant` });
  // The same request in the web portal, where a click decides, shows the grant or extends.
  const page = `${publicUrl}/portal/requests/${encodeURIComponent(event.requestId)}`;
  links.push({ label: 'In the portal', url: page });
  return { subject: SUBJECTS[event.kind](event, details), lines: body(event, details), links, page, asksForDecision };
}
