import { ASKING_KINDS, NOTIFICATION_KINDS, type NotificationEvent } from '../contracts/notifications';
import { messageFor } from './messages';
import { notificationEvent } from '../test/support/notification-fixtures';

const PUBLIC_URL = 'https://latchkey.example.com';
const REQUEST = `${PUBLIC_URL}/v1/requests/req_1`;
const IN_PORTAL = `${PUBLIC_URL}/portal/requests/req_1`;

const event = (overrides: Partial<NotificationEvent> = {}) => notificationEvent({ details: undefined, ...overrides });

const urls = (e: NotificationEvent) => messageFor(e, PUBLIC_URL).links.map((link) => link.url);

describe(messageFor.name, () => {
  describe('links', () => {
    it('always links to the request', () => {
      for (const kind of NOTIFICATION_KINDS) expect(urls(event({ kind }))[0]).toBe(REQUEST);
    });

    it('encodes the request id in the link', () => {
      expect(urls(event({ kind: 'access-ended', requestId: 'req/../x' }))).toEqual([
        `${PUBLIC_URL}/v1/requests/req%2F..%2Fx`,
        `${PUBLIC_URL}/portal/requests/req%2F..%2Fx`,
      ]);
    });

    it.each([...ASKING_KINDS])('offers Approve and Reject as POSTs, with the CLI command, on %s', (kind) => {
      const sut = messageFor(event({ kind }), PUBLIC_URL);
      expect(sut.asksForDecision).toBe(true);
      expect(sut.links).toEqual([
        { label: 'The request', url: REQUEST },
        { label: 'Approve (latchkey approve req_1)', url: `${REQUEST}/approve`, method: 'POST' },
        { label: 'Reject (latchkey reject req_1)', url: `${REQUEST}/reject`, method: 'POST' },
        { label: 'In the portal', url: IN_PORTAL },
      ]);
    });

    it.each(NOTIFICATION_KINDS.filter((kind) => !ASKING_KINDS.has(kind)))(
      'offers no Approve or Reject on %s, which asks nobody to decide',
      (kind) => {
        const sut = messageFor(event({ kind }), PUBLIC_URL);
        expect(sut.asksForDecision).toBe(false);
        expect(sut.links.filter((link) => /\/(approve|reject)$/.test(link.url))).toEqual([]);
      },
    );

    it('offers Extend before the end only when the flow allows another extension', () => {
      const ending = (details: Record<string, string | boolean> = {}) =>
        event({ kind: 'access-ending-soon', details: { endsAt: '2026-01-01T10:00:00.000Z', ...details } });

      expect(messageFor(ending({ canExtend: true }), PUBLIC_URL).links).toContainEqual({
        label: 'Extend (latchkey extend req_1)',
        url: `${REQUEST}/extend`,
        method: 'POST',
      });
      expect(urls(ending({ canExtend: false }))).toEqual([REQUEST, IN_PORTAL]);
      expect(urls(ending({ canExtend: 'true' }))).toEqual([REQUEST, IN_PORTAL]);
      expect(urls(ending())).toEqual([REQUEST, IN_PORTAL]);
      expect(urls(event({ kind: 'access-granted', details: { canExtend: true } }))).not.toContain(`${REQUEST}/extend`);
    });

    it('says in the text whether an extension is still possible', () => {
      const lines = (canExtend: boolean) =>
        messageFor(event({ kind: 'access-ending-soon', details: { canExtend } }), PUBLIC_URL).lines;
      expect(lines(true)).toContain('Need longer? Ask for an extension before then.');
      expect(lines(false)).toContain('This flow allows no further extension.');
    });
  });

  describe('subjects', () => {
    it.each([
      ['approval-requested', {}, 'Approval asked: prod-db'],
      ['approval-requested', { extensionMs: 3_600_000 }, 'Extension asked: prod-db'],
      ['approval-reminder', {}, 'Reminder: prod-db waits for your decision'],
      ['request-rejected', { by: 'carol' }, 'Rejected: prod-db'],
      ['access-ending-soon', {}, 'Access to prod-db ends soon'],
      ['revoke-failing', {}, 'Action needed: access to prod-db is not ending'],
    ] as const)('%s %j is "%s"', (kind, details, subject) => {
      expect(messageFor(event({ kind, details }), PUBLIC_URL).subject).toBe(subject);
    });

    it.each([...NOTIFICATION_KINDS])('%s has a subject naming what it is about', (kind) => {
      const sut = messageFor(event({ kind, resourceId: 'res-9' }), PUBLIC_URL).subject;
      expect(sut.trim()).not.toBe('');
      expect(sut).not.toMatch(/undefined|\[object/);
      if (kind !== 'onepassword-error-unrecognised') expect(sut).toContain('res-9');
    });
  });

  describe('lines', () => {
    it('tells an approver who asks, for what, for how long and why', () => {
      const sut = messageFor(
        event({
          details: {
            requester: 'alice',
            durationMs: 90 * 60_000,
            justification: 'INC-42 failover',
            ticket: 'OPS-7',
            deadline: '2026-01-01T01:00:00.000Z',
          },
        }),
        PUBLIC_URL,
      );
      expect(sut.lines).toEqual([
        'alice asks for prod-db (demo) for 1 h 30 min.',
        'Why: INC-42 failover',
        'Ticket: OPS-7',
        'Decide before 2026-01-01T01:00:00.000Z; after that the request times out.',
      ]);
    });

    it('names who decided and what they said', () => {
      const sut = messageFor(
        event({ kind: 'request-rejected', details: { by: 'carol', comment: 'not during the freeze' } }),
        PUBLIC_URL,
      );
      expect(sut.lines).toEqual(['carol rejected it.', 'Comment: not during the freeze']);
    });
  });
});
