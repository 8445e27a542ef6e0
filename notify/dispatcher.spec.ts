import type { Person } from '../contracts/identity';
import type { NotificationEvent, NotificationReceipt } from '../contracts/notifications';
import type { NotifyChannel } from '../contracts/snapshot';
import { Directory } from '../domain/directory';
import { type Channel, DeliveryFailed, NotificationDispatcher, NotificationIncomplete } from './dispatcher';
import type { DeliveryProgress } from './notifier';
import { notificationEvent } from '../test/support/notification-fixtures';

const PEOPLE: Person[] = [
  { id: 'alice', email: 'alice@example.com', groups: ['engineering'], roles: [] },
  { id: 'bob', email: 'bob@example.com', groups: ['security'], roles: [] },
  { id: 'carol', email: 'carol@example.com', groups: ['security', 'security-leads'], roles: [] },
  { id: 'dave', email: 'dave@example.com', groups: ['security-leads'], roles: ['admin'] },
];

const event = notificationEvent;

/** A channel that delivers one message per person and records who it reached; `failFor` people fail. */
class RecordingChannel implements Channel {
  readonly sent: string[] = [];

  constructor(
    readonly name: NotifyChannel,
    private readonly failFor: ReadonlyMap<string, Error> = new Map(),
  ) {}

  deliveries(_event: NotificationEvent, people: Person[]) {
    return people.map((person) => ({
      key: `${this.name}:${person.id}`,
      send: () => {
        const failure = this.failFor.get(person.id);
        if (failure) return Promise.reject(failure);
        this.sent.push(person.id);
        const receipt: NotificationReceipt = { channel: 'slack', conversation: `D-${person.id}`, ts: '1.000001' };
        return Promise.resolve(this.name === 'slack' ? receipt : undefined);
      },
    }));
  }
}

function newDispatcher(channels: Channel[]) {
  const logged = { info: [] as object[], warn: [] as Array<{ obj: object; msg?: string }> };
  const sut = new NotificationDispatcher({
    channels,
    directory: new Directory(PEOPLE),
    publicUrl: 'http://latchkey.test',
    logger: {
      info: (obj) => logged.info.push(obj),
      warn: (obj, msg) => logged.warn.push({ obj, msg }),
    },
  });
  return { sut, logged };
}

describe(NotificationDispatcher.name, () => {
  describe('recipients', () => {
    it('expands groups and roles into people, each reached once however many principals name them', async () => {
      const email = new RecordingChannel('email');
      const { sut } = newDispatcher([email]);

      await sut.notify(event({ recipients: ['group:security', 'group:security-leads', 'user:bob', 'role:admin'] }));

      expect(email.sent.sort()).toEqual(['bob', 'carol', 'dave']);
    });

    it('does not tell the person named in details.by of their own act', async () => {
      const email = new RecordingChannel('email');
      const { sut } = newDispatcher([email]);

      await sut.notify(
        event({ kind: 'request-approved', recipients: ['user:alice', 'group:security'], details: { by: 'bob' } }),
      );

      expect(email.sent.sort()).toEqual(['alice', 'carol']);
    });

    it('warns of a principal nobody in the directory answers to, naming the principal and no address', async () => {
      const email = new RecordingChannel('email');
      const { sut, logged } = newDispatcher([email]);

      await sut.notify(event({ recipients: ['group:nobody-here', 'user:bob'] }));

      expect(email.sent).toEqual(['bob']);
      expect(logged.warn).toEqual([
        { obj: { principal: 'group:nobody-here', requestId: 'req_1' }, msg: 'nobody in the directory to notify' },
      ]);
      expect(JSON.stringify(logged)).not.toMatch(/@example\.com/);
    });
  });

  describe('channels', () => {
    it('sends only on the channels the route allows', async () => {
      const email = new RecordingChannel('email');
      const slack = new RecordingChannel('slack');
      const webhook = new RecordingChannel('webhook');
      const { sut } = newDispatcher([email, slack, webhook]);

      await sut.notify(event({ recipients: ['user:bob'], route: { channels: ['slack'] } }));

      expect({ email: email.sent, slack: slack.sent, webhook: webhook.sent }).toEqual({
        email: [],
        slack: ['bob'],
        webhook: [],
      });
    });

    it('sends on every configured channel when the event has no route (made before routes existed)', async () => {
      const email = new RecordingChannel('email');
      const slack = new RecordingChannel('slack');
      const { sut } = newDispatcher([email, slack]);

      await sut.notify(event({ recipients: ['user:bob'] }));

      expect([email.sent, slack.sent]).toEqual([['bob'], ['bob']]);
    });

    it('lets another channel deliver when one fails, then throws NotificationIncomplete naming the channel but no address', async () => {
      const failure = new Error('550 5.1.1 <bob@example.com>: mailbox unavailable');
      const email = new RecordingChannel('email', new Map([['bob', failure]]));
      const slack = new RecordingChannel('slack', new Map([['carol', new DeliveryFailed('channel_not_found')]]));
      const { sut, logged } = newDispatcher([email, slack]);

      const error = await sut.notify(event()).then(
        () => undefined,
        (e: unknown) => e,
      );

      expect(error).toBeInstanceOf(NotificationIncomplete);
      expect((error as NotificationIncomplete).failures.sort()).toEqual([
        'email (failed)',
        'slack (channel_not_found)',
      ]);
      expect((error as Error).message).not.toMatch(/@|example\.com/);
      expect(email.sent).toEqual(['carol']);
      expect(slack.sent).toEqual(['bob']);
      expect(JSON.stringify(logged)).not.toMatch(/@example\.com/);
    });
  });

  describe('resuming', () => {
    it('skips the deliveries an earlier attempt made and keeps their receipts', async () => {
      const email = new RecordingChannel('email');
      const slack = new RecordingChannel('slack');
      const { sut } = newDispatcher([email, slack]);
      const earlier: NotificationReceipt = { channel: 'slack', conversation: 'D-bob', ts: '0.000001' };

      const receipts = await sut.notify(event(), {
        progress: { delivered: ['email:bob', 'slack:bob'], receipts: [earlier] },
      });

      expect([email.sent, slack.sent]).toEqual([['carol'], ['carol']]);
      expect(receipts).toEqual([earlier, { channel: 'slack', conversation: 'D-carol', ts: '1.000001' }]);
    });

    it('reports progress after each delivery, so that a retry after a failure sends only the rest', async () => {
      const flaky = new Map([['carol', new DeliveryFailed('ECONNECTION')]]);
      const email = new RecordingChannel('email', flaky);
      const { sut } = newDispatcher([email]);
      const seen: DeliveryProgress[] = [];
      const onProgress = (progress: DeliveryProgress) => seen.push(structuredClone(progress));

      await expect(sut.notify(event(), { onProgress })).rejects.toThrow(
        'notification not delivered on email (ECONNECTION)',
      );
      expect(seen).toEqual([{ delivered: ['email:bob'], receipts: [] }]);

      flaky.clear();
      await sut.notify(event(), { progress: seen.at(-1), onProgress });

      expect(email.sent).toEqual(['bob', 'carol']);
      expect(seen.at(-1)).toEqual({ delivered: ['email:bob', 'email:carol'], receipts: [] });
    });

    it('does not change the progress it resumed from', async () => {
      const { sut } = newDispatcher([new RecordingChannel('email')]);
      const progress: DeliveryProgress = { delivered: ['email:bob'], receipts: [] };

      await sut.notify(event(), { progress });

      expect(progress).toEqual({ delivered: ['email:bob'], receipts: [] });
    });
  });
});
