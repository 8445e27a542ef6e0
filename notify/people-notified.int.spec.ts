import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../config/config';
import { SLACK_ACTIONS } from '../contracts/notifications';
import { type CaughtMail, startMailCatcher } from '../devstack/mail-catcher';
import { chooseServerPort } from '../devstack/ports';
import { ApiWorld, PEOPLE } from '../test/support/api-world';
import { type SlackMessageRecord, type SlackServer, startSlackServer } from '../test/support/slack-server';

/**
 * Notifications through the real channels: latchkey's worker mails a real SMTP server (the mail catcher npm start
 * runs) and posts to a server that speaks Slack's Web API, which sends signed clicks back to latchkey's API.
 * The demo people (config/people.yaml) are the directory: bob and carol approve prod-db, as group security.
 */
const SLACK_BOT_TOKEN = 'xoxb-latchkey-test-token';
const SLACK_SIGNING_SECRET = 'slack-signing-secret-for-the-tests';
const SLACK = { bob: 'U0BOB', carol: 'U0CAROL', alice: 'U0ALICE', stranger: 'U0STRANGER' };
const APPROVALS_CHANNEL = 'C0SECURITY';

let world: ApiWorld;
let slack: SlackServer;
let catcher: Awaited<ReturnType<typeof startMailCatcher>>;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-notified-'));
  catcher = await startMailCatcher({
    host: '127.0.0.1',
    smtpPort: await chooseServerPort(),
    webPort: await chooseServerPort(),
    log: () => undefined,
  });
  slack = await startSlackServer({
    botToken: SLACK_BOT_TOKEN,
    signingSecret: SLACK_SIGNING_SECRET,
    serveResponseUrls: true,
  });
  fs.writeFileSync(path.join(dir, 'slack-bot-token'), SLACK_BOT_TOKEN, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'slack-signing-secret'), SLACK_SIGNING_SECRET, { mode: 0o600 });
  // The demo policy, with prod-db's warning 55 s before the end, so that a one-minute grant is warned at once,
  // and the Stripe key's approval requests in a Slack channel.
  const policy = fs
    .readFileSync(path.join(repoRoot(), 'config', 'policy.yaml'), 'utf8')
    .replace(
      '    extensions: { maxCount: 1, maxDuration: PT2H, requireApproval: true }\n    # When no approver',
      '    extensions: { maxCount: 1, maxDuration: PT2H, requireApproval: true }\n    notify: { warnBeforeEnd: PT55S }\n    # When no approver',
    )
    .replace(
      '    resources: [stripe-key, reporting-db, oncall-vault]\n',
      `    resources: [stripe-key, reporting-db, oncall-vault]\n    notify: { slackChannel: ${APPROVALS_CHANNEL} }\n`,
    );
  expect(policy).toContain('warnBeforeEnd: PT55S');
  expect(policy).toContain(`slackChannel: ${APPROVALS_CHANNEL}`);
  fs.writeFileSync(path.join(dir, 'policy.yaml'), policy);
  world = await ApiWorld.create('notified', {
    LATCHKEY_POLICY_FILE: path.join(dir, 'policy.yaml'),
    LATCHKEY_NOTIFY_SMTP_URL: catcher.smtpUrl,
    LATCHKEY_SLACK_BOT_TOKEN_FILE: path.join(dir, 'slack-bot-token'),
    LATCHKEY_SLACK_API_URL: slack.apiUrl,
    LATCHKEY_SLACK_SIGNING_SECRET_FILE: path.join(dir, 'slack-signing-secret'),
    LATCHKEY_SLACK_RESPONSE_ORIGIN: new URL(slack.apiUrl).origin,
  });
}, 180_000);

afterAll(async () => {
  await world?.dispose();
  await slack?.stop();
  await catcher?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

const mailsTo = (address: string, subject: string): CaughtMail[] =>
  catcher.messages().filter((mail) => mail.to.some((to) => to.includes(address)) && mail.subject === subject);

/** Waits for the one mail of that subject to that address (mails to several people go out one after another). */
const mailed = (address: string, subject: string, timeoutMs?: number) =>
  world.eventually(
    () => Promise.resolve(mailsTo(address, subject)),
    (mails) => mails.length === 1,
    timeoutMs,
  );

const slackMessagesTo = (member: string, requestId: string): SlackMessageRecord[] =>
  slack
    .messages()
    .filter(
      (message) =>
        message.channel === slack.dmChannel(member) &&
        message.text.length > 0 &&
        JSON.stringify(message.blocks).includes(requestId),
    );

const channelMessages = (requestId: string): SlackMessageRecord[] =>
  slack
    .messages()
    .filter((message) => message.channel === APPROVALS_CHANNEL && JSON.stringify(message.blocks).includes(requestId));

const hasButtons = (blocks: unknown[]) => JSON.stringify(blocks).includes(SLACK_ACTIONS.approve);

async function requestProdDb(): Promise<string> {
  const created = await world.call('POST', '/v1/requests', {
    as: PEOPLE.alice,
    json: { resourceId: 'prod-db', duration: 'PT1M', justification: 'Investigating incident INC-1234' },
  });
  expect(created.status).toBe(201);
  return created.body.requestId as string;
}

describe('people are notified by e-mail and in Slack', () => {
  let id: string;

  it('asks each approver by e-mail, with a link to the request that works, and in Slack with buttons', async () => {
    id = await requestProdDb();
    const subject = '[latchkey] Approval asked: prod-db';
    const [toBob] = await mailed('bob@example.com', subject);
    await mailed('carol@example.com', subject);
    expect(mailsTo('alice@example.com', subject)).toHaveLength(0);
    expect(toBob.text).toContain('alice asks for prod-db (demo) for 1 min.');
    expect(toBob.text).toContain('Why: Investigating incident INC-1234');

    const link = toBob.text!.match(/The request: (\S+)/)![1];
    expect(link).toBe(`${world.config.api.publicUrl}/v1/requests/${id}`);
    const followed = await fetch(link, { headers: { authorization: `Bearer ${await world.token(PEOPLE.bob)}` } });
    expect(followed.status).toBe(200);
    expect(((await followed.json()) as { status: string }).status).toBe('PENDING_APPROVAL');

    const [bobs] = await world.eventually(
      () => Promise.resolve(slackMessagesTo(SLACK.bob, id)),
      (messages) => messages.length > 0,
    );
    expect(hasButtons(bobs.blocks)).toBe(true);
    await world.eventually(
      () => Promise.resolve(slackMessagesTo(SLACK.carol, id)),
      (messages) => messages.length === 1,
    );
  });

  it('refuses forged, stale and replayed clicks; approves on a signed one; the messages then say who decided', async () => {
    const url = `${world.baseUrl}/slack/interactions`;
    const [bobs] = slackMessagesTo(SLACK.bob, id);
    const click = { message: bobs, actionId: SLACK_ACTIONS.approve, userId: SLACK.bob, url };

    expect((await slack.click({ ...click, forged: true })).status).toBe(401);
    expect((await slack.click({ ...click, stale: true })).status).toBe(401);
    expect((await world.call('GET', `/v1/requests/${id}`, { as: PEOPLE.alice })).body.status).toBe('PENDING_APPROVAL');

    const clicked = await slack.click(click);
    expect(clicked.status).toBe(200);
    const active = await world.eventually(
      () => world.call('GET', `/v1/requests/${id}`, { as: PEOPLE.alice }),
      (answer) => answer.body.status === 'ACTIVE',
    );
    expect(active.body.approvals).toMatchObject([{ approverId: 'bob' }]);
    expect((await slack.replay(clicked)).status).toBe(401);

    // Both asking messages now say who decided, and their buttons are gone.
    for (const member of [SLACK.bob, SLACK.carol]) {
      const [message] = await world.eventually(
        () => Promise.resolve(slackMessagesTo(member, id)),
        (messages) => messages[0]?.updates.length > 0,
      );
      const latest = message.updates[message.updates.length - 1];
      expect(JSON.stringify(latest.blocks)).toContain('bob approved it.');
      expect(hasButtons(latest.blocks)).toBe(false);
    }
    // The requester and the other approver hear the decision; who decided does not.
    await mailed('alice@example.com', '[latchkey] Approved: prod-db');
    await mailed('carol@example.com', '[latchkey] Approved: prod-db');
    expect(mailsTo('bob@example.com', '[latchkey] Approved: prod-db')).toHaveLength(0);
    await mailed('alice@example.com', '[latchkey] Access granted: prod-db');
  });

  it('warns the requester before access ends, with an extend link that works', async () => {
    const [warning] = await mailed('alice@example.com', '[latchkey] Access to prod-db ends soon', 30_000);
    const link = warning.text!.match(/Extend \(latchkey extend \S+\): POST (\S+)/)![1];
    expect(link).toBe(`${world.config.api.publicUrl}/v1/requests/${id}/extend`);
    const extended = await fetch(link, {
      method: 'POST',
      headers: { authorization: `Bearer ${await world.token(PEOPLE.alice)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ duration: 'PT5M', justification: 'the migration needs five more minutes' }),
    });
    expect(extended.status).toBe(200);
    expect(((await extended.json()) as { pendingExtension?: unknown }).pendingExtension).toBeDefined();
  });

  let stripe: string;

  it('sends each message once when Slack fails and the notification is retried', async () => {
    slack.failNext('chat.postMessage', { status: 500 });
    const created = await world.call('POST', '/v1/requests', {
      as: PEOPLE.alice,
      json: { resourceId: 'stripe-key', duration: 'PT1M', justification: 'Rotating the webhook secret' },
    });
    expect(created.status).toBe(201);
    stripe = created.body.requestId as string;
    // The first attempt mailed bob and carol, and failed in Slack; the retry posts to Slack only.
    await world.eventually(
      () => Promise.resolve(channelMessages(stripe)),
      (messages) => messages.length === 1,
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(channelMessages(stripe)).toHaveLength(1);
    for (const approver of ['bob@example.com', 'carol@example.com'])
      await mailed(approver, '[latchkey] Approval asked: stripe-key');
    expect(slack.calls().filter((call) => call.method === 'chat.postMessage' && call.status !== 200)).toHaveLength(1);
  });

  it("answers a click it cannot record to the clicker alone, and records a security member's", async () => {
    const [message] = channelMessages(stripe);
    expect(hasButtons(message.blocks)).toBe(true);
    const click = (userId: string) =>
      slack.click({ message, actionId: SLACK_ACTIONS.approve, userId, url: `${world.baseUrl}/slack/interactions` });

    expect((await click(SLACK.stranger)).status).toBe(200);
    expect((await click(SLACK.alice)).status).toBe(200);
    const replies = await world.eventually(
      () => Promise.resolve(slack.responses()),
      (posts) => posts.length === 2,
    );
    const texts = replies.map((post) => post.body as { response_type: string; text: string });
    expect(texts.every((reply) => reply.response_type === 'ephemeral')).toBe(true);
    expect(texts.map((reply) => reply.text)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('latchkey does not know your Slack account'),
        expect.stringContaining('latchkey did not record your approve:'),
      ]),
    );
    expect((await world.call('GET', `/v1/requests/${stripe}`, { as: PEOPLE.alice })).body.status).toBe(
      'PENDING_APPROVAL',
    );

    expect((await click(SLACK.carol)).status).toBe(200);
    await world.eventually(
      () => world.call('GET', `/v1/requests/${stripe}`, { as: PEOPLE.alice }),
      (answer) => answer.body.status === 'ACTIVE',
    );
    const [updated] = await world.eventually(
      () => Promise.resolve(channelMessages(stripe)),
      (messages) => messages[0]?.updates.length > 0,
    );
    expect(JSON.stringify(updated.updates[updated.updates.length - 1].blocks)).toContain('carol approved it.');
  });
});
