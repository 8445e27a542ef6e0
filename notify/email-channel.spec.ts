import { createTransport } from 'nodemailer';
import type { Person } from '../contracts/identity';
import type { NotificationEvent } from '../contracts/notifications';
import { type CaughtMail, type RunningMailCatcher, startMailCatcher } from '../devstack/mail-catcher';
import { chooseServerPort } from '../devstack/ports';
import { DeliveryFailed } from './dispatcher';
import { EmailChannel } from './email-channel';
import { messageFor } from './messages';
import { notificationEvent } from '../test/support/notification-fixtures';

/** Through a real SMTP server (the mail catcher `npm start` runs) with a real nodemailer transport. */
const FROM = 'latchkey <latchkey@localhost>';
const PUBLIC_URL = 'http://latchkey.test';

const bob: Person = { id: 'bob', name: 'Bob', email: 'bob@example.com', groups: ['security'], roles: [] };
const carol: Person = { id: 'carol', email: 'carol@example.com', groups: ['security'], roles: [] };

const event: NotificationEvent = notificationEvent({
  details: { requester: 'alice', justification: 'fix <script>alert("x")</script> & go', durationMs: 3_600_000 },
});

let catcher: RunningMailCatcher;

beforeAll(async () => {
  catcher = await startMailCatcher({
    smtpPort: await chooseServerPort(),
    webPort: await chooseServerPort(),
    log: () => undefined,
  });
});

afterAll(() => catcher.stop());

/** Sends every delivery of the event to these people, as the dispatcher does. */
async function send(sut: EmailChannel, people: Person[], e: NotificationEvent = event): Promise<void> {
  for (const delivery of sut.deliveries(e, people, messageFor(e, PUBLIC_URL))) await delivery.send();
}

const caughtBy = (address: string): CaughtMail[] =>
  catcher.messages().filter((mail) => mail.envelope.rcptTo.includes(address));

async function failureOf(promise: Promise<unknown>): Promise<Error | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => error as Error,
  );
}

describe(EmailChannel.name, () => {
  const sut = () => new EmailChannel(createTransport({ url: catcher.smtpUrl }), FROM);

  it('sends one mail to each person, keyed by the person', async () => {
    const deliveries = sut().deliveries(event, [bob, carol], messageFor(event, PUBLIC_URL));
    expect(deliveries.map((delivery) => delivery.key)).toEqual(['email:bob', 'email:carol']);
    const before = catcher.messages().length;

    for (const delivery of deliveries) expect(await delivery.send()).toBeUndefined();

    const mails = catcher.messages().slice(0, catcher.messages().length - before);
    expect(mails.map((mail) => mail.envelope.rcptTo)).toEqual([['carol@example.com'], ['bob@example.com']]);
    expect(mails.map((mail) => mail.to)).toEqual([['carol@example.com'], ['bob@example.com']]);
    expect(mails[1].headers.to).toBe('Bob <bob@example.com>');
    expect(mails[1].from).toBe(FROM);
  });

  it("prefixes the subject and writes the request's links, Approve and Reject as POSTs, into the text", async () => {
    await send(sut(), [bob]);

    const [mail] = caughtBy('bob@example.com');
    expect(mail.subject).toBe('[latchkey] Approval asked: prod-db');
    expect(mail.text).toContain('alice asks for prod-db (demo) for 1 h.');
    expect(mail.text).toContain('The request: http://latchkey.test/v1/requests/req_1');
    expect(mail.text).toContain(
      'Approve (latchkey approve req_1): POST http://latchkey.test/v1/requests/req_1/approve',
    );
    expect(mail.text).toContain('Reject (latchkey reject req_1): POST http://latchkey.test/v1/requests/req_1/reject');
    expect(mail.headers['x-latchkey-event']).toBe('approval-requested');
    expect(mail.headers['x-latchkey-request']).toBe('req_1');
  });

  it('escapes what people wrote in the HTML part', async () => {
    await send(sut(), [bob]);

    const [mail] = caughtBy('bob@example.com');
    expect(mail.html).toContain('Why: fix &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; go');
    expect(mail.html).not.toContain('<script');
    expect(mail.html).toContain('<a href="http://latchkey.test/v1/requests/req_1/approve">');
  });

  it('gives the same Message-ID to the same event for the same person, and another to another person', async () => {
    await send(sut(), [bob, carol]);
    await send(sut(), [bob]);

    const [again, first] = caughtBy('bob@example.com');
    expect(again.messageId).toBe(first.messageId);
    expect(first.messageId).toBe('<AccessRequest.req_1.notify.1.bob@latchkey>');
    expect(caughtBy('carol@example.com')[0].messageId).toBe('<AccessRequest.req_1.notify.1.carol@latchkey>');

    await send(sut(), [bob], { ...event, eventId: 'AccessRequest:req_1:notify:2' });
    expect(caughtBy('bob@example.com')[0].messageId).not.toBe(first.messageId);
  });

  it('turns an SMTP server that cannot be reached into DeliveryFailed, without the address', async () => {
    const nobody = `smtp://127.0.0.1:${await chooseServerPort()}`;
    const down = new EmailChannel(createTransport({ url: nobody, connectionTimeout: 2_000 }), FROM);
    const [delivery] = down.deliveries(event, [bob], messageFor(event, PUBLIC_URL));

    const error = await failureOf(delivery.send());

    expect(error).toBeInstanceOf(DeliveryFailed);
    expect(error?.message).toBe('ESOCKET');
    expect(error?.message).not.toContain('bob');
  });

  it('turns a mail the server refuses into DeliveryFailed with the SMTP status, without the address', async () => {
    const small = await startMailCatcher({
      smtpPort: await chooseServerPort(),
      webPort: await chooseServerPort(),
      log: () => undefined,
      maxMessageBytes: 100,
    });
    try {
      const refusing = new EmailChannel(createTransport({ url: small.smtpUrl }), FROM);
      const [delivery] = refusing.deliveries(event, [bob], messageFor(event, PUBLIC_URL));

      const error = await failureOf(delivery.send());

      expect(error).toBeInstanceOf(DeliveryFailed);
      expect(error?.message).toMatch(/^E[A-Z]+ 5\d\d$/);
      expect(error?.message).not.toContain('bob');
    } finally {
      await small.stop();
    }
  });
});
