import type { RequestStatus } from './api/client';

const ISO_DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** An ISO 8601 duration as the API writes them (PT1H30M), in words. */
export function durationText(iso: string | undefined): string {
  return iso && ISO_DURATION.test(iso) ? msText(isoDurationMs(iso)) : (iso ?? '');
}

export function isoDurationMs(iso: string | undefined): number {
  const match = iso ? ISO_DURATION.exec(iso) : null;
  if (!match) return 0;
  const [, days, hours, minutes, seconds] = match;
  return (
    (Number(days ?? 0) * 86_400 + Number(hours ?? 0) * 3600 + Number(minutes ?? 0) * 60 + Number(seconds ?? 0)) * 1000
  );
}

export function msText(ms: number): string {
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['min', 60],
    ['s', 1],
  ] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count} ${unit}`);
    rest -= count * size;
  }
  return parts.join(' ') || '0 s';
}

/** Minutes as the ISO 8601 duration the API takes. */
export function minutesToIso(minutes: number): string {
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `PT${hours ? `${hours}H` : ''}${rest || !hours ? `${rest}M` : ''}`;
}

/** A date and time in the reader's own zone; `seconds` for timelines, where order within a minute matters. */
export function timeText(iso: string | undefined, seconds = false): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: seconds ? 'medium' : 'short' });
}

/** "in 5 min" or "3 min ago", for deadlines and ends. */
export function relativeText(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '';
  const delta = new Date(iso).getTime() - now;
  const text = msText(Math.abs(Math.round(delta / 60_000) * 60_000 || 60_000));
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}

const STATUS_WORDS: Record<RequestStatus, string> = {
  PENDING_APPROVAL: 'Waiting for approval',
  APPROVED: 'Approved, being granted',
  ACTIVE: 'Active',
  ENDING: 'Ending',
  EXPIRED: 'Ended',
  REVOKED: 'Given back or revoked',
  REJECTED: 'Rejected',
  CANCELLED: 'Withdrawn',
  TIMED_OUT: 'Nobody decided in time',
  FAILED: 'Failed',
};

export function statusText(status: RequestStatus | undefined): string {
  return status ? STATUS_WORDS[status] : 'Unknown';
}

export const OPEN_STATUSES: ReadonlySet<string> = new Set(['PENDING_APPROVAL', 'APPROVED', 'ACTIVE', 'ENDING']);

/** What each grant mode really promises (docs/onepassword.md), before a grant states its own. */
export const GUARANTEES: Record<string, string> = {
  'share-link': 'A share link to your verified e-mail, viewable once, until the end of its expiry bucket.',
  'rotate-on-revoke':
    'A share link to your verified e-mail, viewable once; the credential you saw is rotated when access ends.',
  'vault-group': 'Vault permissions for your mapped 1Password group, removed when access ends.',
  'database-role': 'A database login of your own, refused by the database after the end.',
};
