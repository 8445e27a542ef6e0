import { LogLevel, type Logger, WebClient } from '@slack/web-api';
import type { Person } from '../contracts/identity';
import { type NotificationEvent, type NotificationReceipt, SLACK_ACTIONS } from '../contracts/notifications';
import { type SlackBlock, type SlackServer, startSlackServer } from '../test/support/slack-server';
import { DeliveryFailed } from './dispatcher';
import { messageFor } from './messages';
import { SlackChannel } from './slack-channel';
import { notificationEvent } from '../test/support/notification-fixtures';

/** Through a server speaking Slack's Web API, with the real WebClient configured as the worker configures it. */
const BOT_TOKEN = 'xoxb-latchkey-slack-channel-spec';
const APPROVALS = 'C0APPROVALS';
const PUBLIC_URL = 'http://latchkey.test';

const bob: Person = { id: 'bob', email: 'bob@example.com', groups: ['security'], roles: [], slack: 'U0BOB' };
const carol: Person = { id: 'carol', email: 'carol@example.com', groups: ['security'], roles: [], slack: 'U0CAROL' };
const erin: Person = { id: 'erin', email: 'erin@example.com', groups: ['security'], roles: [] };

const asking: NotificationEvent = notificationEvent({ details: { requester: 'alice', durationMs: 3_600_000 } });

const quietLogger = (): Logger => ({
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
});

let server: SlackServer;

beforeEach(async () => {
  server = await startSlackServer({
    botToken: BOT_TOKEN,
    signingSecret: 'unused-here',
    members: ['U0BOB', 'U0CAROL'],
    channels: [{ id: APPROVALS, name: 'approvals' }],
  });
});

afterEach(() => server.stop());

function newChannel(token = BOT_TOKEN) {
  const client = new WebClient(token, {
    slackApiUrl: server.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger: quietLogger(),
  });
  return new SlackChannel(client);
}

/** Sends every delivery, as the dispatcher does, and returns their receipts. */
async function send(sut: SlackChannel, event: NotificationEvent, people: Person[]) {
  const receipts: Array<NotificationReceipt | undefined> = [];
  for (const delivery of sut.deliveries(event, people, messageFor(event, PUBLIC_URL))) {
    receipts.push(await delivery.send());
  }
  return receipts;
}

async function failureOf(promise: Promise<unknown>): Promise<Error | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => error as Error,
  );
}

const actionIds = (blocks: SlackBlock[]) =>
  blocks
    .filter((block) => block.type === 'actions')
    .flatMap((block) => (block.elements as Array<{ action_id: string }>).map((element) => element.action_id));

const sectionText = (blocks: SlackBlock[]) => (blocks[0].text as { text: string }).text;

describe(SlackChannel.name, () => {
  it('asks each approver in a DM, with Approve and Reject buttons, and returns receipts naming the DM (D…)', async () => {
    const sut = newChannel();
    expect(sut.deliveries(asking, [bob, carol, erin], messageFor(asking, PUBLIC_URL)).map((d) => d.key)).toEqual([
      'slack:U0BOB',
      'slack:U0CAROL',
    ]);

    const receipts = await send(sut, asking, [bob, carol, erin]);

    const messages = server.messages();
    expect(messages.map((message) => [message.channel, message.dmWith])).toEqual([
      [server.dmChannel('U0BOB'), 'U0BOB'],
      [server.dmChannel('U0CAROL'), 'U0CAROL'],
    ]);
    expect(receipts).toEqual(
      messages.map((message) => ({ channel: 'slack', conversation: message.channel, ts: message.ts })),
    );
    expect(receipts.every((receipt) => /^D[A-Z0-9]+$/.test(receipt!.conversation))).toBe(true);
    for (const message of messages) {
      expect(message.text).toBe('Approval asked: prod-db');
      expect(actionIds(message.blocks)).toEqual([SLACK_ACTIONS.approve, SLACK_ACTIONS.reject]);
      expect(JSON.stringify(message.blocks)).toContain('"value":"req_1"');
    }
  });

  it("posts one message with the buttons to the flow's Slack channel instead of each approver", async () => {
    const sut = newChannel();
    const event: NotificationEvent = { ...asking, route: { channels: ['slack'], slackChannel: APPROVALS } };

    const receipts = await send(sut, event, [bob, carol]);

    const messages = server.messages();
    expect(messages).toHaveLength(1);
    expect(messages[0].channel).toBe(APPROVALS);
    expect(actionIds(messages[0].blocks)).toEqual([SLACK_ACTIONS.approve, SLACK_ACTIONS.reject]);
    expect(receipts).toEqual([{ channel: 'slack', conversation: APPROVALS, ts: messages[0].ts }]);
  });

  it('tells people of other events directly, without buttons or receipts', async () => {
    const granted: NotificationEvent = {
      ...asking,
      kind: 'access-granted',
      route: { channels: ['slack'], slackChannel: APPROVALS },
      details: { endsAt: '2026-01-01T01:00:00.000Z' },
    };

    const receipts = await send(newChannel(), granted, [bob]);

    expect(receipts).toEqual([undefined]);
    const [message] = server.messages();
    expect(message.channel).toBe(server.dmChannel('U0BOB'));
    expect(actionIds(message.blocks)).toEqual([]);
  });

  it('updates the asking messages when the request is decided, and the buttons go', async () => {
    const sut = newChannel();
    const receipts = (await send(sut, asking, [bob, carol])) as NotificationReceipt[];
    const decided: NotificationEvent = {
      ...asking,
      kind: 'request-approved',
      eventId: 'AccessRequest:req_1:notify:2',
      recipients: ['group:security'],
      details: { by: 'carol' },
      updates: receipts,
    };

    const deliveries = sut.deliveries(decided, [], messageFor(decided, PUBLIC_URL));
    expect(deliveries.map((delivery) => delivery.key)).toEqual(
      receipts.map((receipt) => `slack-update:${receipt.conversation}:${receipt.ts}`),
    );
    for (const delivery of deliveries) expect(await delivery.send()).toBeUndefined();

    const messages = server.messages();
    expect(messages).toHaveLength(2);
    for (const message of messages) {
      expect(message.updates).toHaveLength(1);
      expect(message.text).toBe('Approved: prod-db');
      expect(sectionText(message.blocks)).toContain('carol approved it.');
      expect(actionIds(message.blocks)).toEqual([]);
    }
  });

  it("turns channel_not_found into DeliveryFailed with Slack's error name", async () => {
    const event: NotificationEvent = { ...asking, route: { channels: ['slack'], slackChannel: 'C0GONE' } };
    const [delivery] = newChannel().deliveries(event, [bob], messageFor(event, PUBLIC_URL));

    const error = await failureOf(delivery.send());

    expect(error).toBeInstanceOf(DeliveryFailed);
    expect(error?.message).toBe('channel_not_found');
  });

  it("turns a rate limit into DeliveryFailed with Slack's error name, at once", async () => {
    server.failNext('chat.postMessage', { ratelimited: 30 });
    const [delivery] = newChannel().deliveries(asking, [bob], messageFor(asking, PUBLIC_URL));

    const error = await failureOf(delivery.send());

    expect(error).toBeInstanceOf(DeliveryFailed);
    expect(error?.message).toBe('ratelimited');
    expect(server.calls().filter((call) => call.method === 'chat.postMessage')).toHaveLength(1);
  });

  it('names a refused token without repeating it', async () => {
    const [delivery] = newChannel('xoxb-not-the-right-one').deliveries(asking, [bob], messageFor(asking, PUBLIC_URL));

    const error = await failureOf(delivery.send());

    expect(error).toBeInstanceOf(DeliveryFailed);
    expect(error?.message).toBe('invalid_auth');
  });

  it("escapes mrkdwn's <, > and & in what people wrote, so that it cannot mention or link", async () => {
    const event: NotificationEvent = {
      ...asking,
      details: { requester: 'alice', justification: '<!channel> see <http://evil.test|here> & a > b' },
    };

    await send(newChannel(), event, [bob]);

    const [message] = server.messages();
    const text = sectionText(message.blocks);
    expect(text).toContain('Why: &lt;!channel&gt; see &lt;http://evil.test|here&gt; &amp; a &gt; b');
    expect(text).not.toContain('<!channel>');
  });
});
