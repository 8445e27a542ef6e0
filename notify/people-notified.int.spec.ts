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
const SLACK = { bob: 'U0BOB', carol: 'U0CAROL', alice: 'U0ALICE' };

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
  slack = await startSlackServer({ botToken: SLACK_BOT_TOKEN, signingSecret: SLACK_SIGNING_SECRET });
  fs.writeFileSync(path.join(dir, 'slack-bot-token'), SLACK_BOT_TOKEN, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'slack-signing-secret'), SLACK_SIGNING_SECRET, { mode: 0o600 });
  // The demo policy, with prod-db's warning 55 s before the end, so that a one-minute grant is warned at once.
  const policy = fs
    .readFileSync(path.join(repoRoot(), 'config', 'policy.yaml'), 'utf8')
    .replace(
      '    extensions: { maxCount: 1, maxDuration: PT2H, requireApproval: true }\n    # When no approver',
      '    extensions: { maxCount: 1, maxDuration: PT2H, requireApproval: true }\n    notify: { warnBeforeEnd: PT55S }\n    # When no approver',
    );
  expect(policy).toContain('warnBeforeEnd: PT55S');
  fs.writeFileSync(path.join(dir, 'policy.yaml'), policy);
  world = await ApiWorld.create('notified', {
    LATCHKEY_POLICY_FILE: path.join(dir, 'policy.yaml'),
    LATCHKEY_NOTIFY_SMTP_URL: catcher.smtpUrl,
    LATCHKEY_SLACK_BOT_TOKEN_FILE: path.join(dir, 'slack-bot-token'),
    LATCHKEY_SLACK_API_URL: slack.apiUrl,
    LATCHKEY_SLACK_SIGNING_SECRET_FILE: path.join(dir, 'slack-signing-secret'),
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

  it('sends each message once when Slack fails and the notification is retried', async () => {
    slack.failNext('chat.postMessage', { status: 500 });
    const created = await world.call('POST', '/v1/requests', {
      as: PEOPLE.alice,
      json: { resourceId: 'stripe-key', duration: 'PT1M', justification: 'Rotating the webhook secret' },
    });
    expect(created.status).toBe(201);
    const second: string = created.body.requestId;
    // The first attempt reached one member in Slack and both by e-mail; the retry reaches the other member only.
    await world.eventually(
      () => Promise.resolve([...slackMessagesTo(SLACK.bob, second), ...slackMessagesTo(SLACK.carol, second)]),
      (messages) => messages.length === 2,
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(slackMessagesTo(SLACK.bob, second)).toHaveLength(1);
    expect(slackMessagesTo(SLACK.carol, second)).toHaveLength(1);
    for (const approver of ['bob@example.com', 'carol@example.com'])
      await mailed(approver, '[latchkey] Approval asked: stripe-key');
    expect(slack.calls().filter((call) => call.method === 'chat.postMessage' && call.status !== 200)).toHaveLength(1);
  });
});
