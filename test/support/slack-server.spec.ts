import * as crypto from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ChatPostMessageArguments,
  ErrorCode,
  type Logger,
  LogLevel,
  type WebAPICallError,
  WebClient,
  WebClientEvent,
  type WebClientOptions,
} from '@slack/web-api';
import { type BlockActionsPayload, SLACK_WORKSPACE, type SlackServer, startSlackServer } from './slack-server';

const BOT_TOKEN = 'xoxb-1234-5678-test-bot-token';
const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const APPROVALS = 'C0APPROVALS';

const approvalBlocks: Extract<ChatPostMessageArguments, { blocks: unknown }>['blocks'] = [
  { type: 'section', text: { type: 'mrkdwn', text: '*alice* asks for `prod-db-password`' } },
  {
    type: 'actions',
    block_id: 'decision',
    elements: [
      {
        type: 'button',
        action_id: 'approve',
        text: { type: 'plain_text', text: 'Approve' },
        style: 'primary',
        value: 'req_1',
      },
      { type: 'button', action_id: 'reject', text: { type: 'plain_text', text: 'Reject' }, style: 'danger' },
    ],
  },
];

/** The SDK logs retries and Slack's warnings; the tests read them instead of printing them. */
function quietLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (...msg: unknown[]) => void lines.push(msg.map(String).join(' '));
  return {
    lines,
    debug: () => undefined,
    info: log,
    warn: log,
    error: log,
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
}

/** The Slack error name of a rejected SDK call. */
async function slackError(call: Promise<unknown>): Promise<string> {
  const error = (await call.then(
    () => undefined,
    (err: unknown) => err,
  )) as WebAPICallError | undefined;
  if (error?.code !== ErrorCode.PlatformError) throw new Error(`expected a Slack API error, got ${String(error)}`);
  return error.data.error;
}

/**
 * Slack's request check, written here from Slack's description and not taken from the server: the
 * timestamp within five minutes, then `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>`, compared in
 * constant time.
 */
function verifiesAsSlack(secret: string, headers: http.IncomingHttpHeaders, body: string): boolean {
  const timestamp = Number(headers['x-slack-request-timestamp']);
  if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > 5 * 60) return false;
  const expected = `v0=${crypto.createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  const given = String(headers['x-slack-signature'] ?? '');
  return given.length === expected.length && crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

/** An app's interactivity endpoint: keeps what it receives and answers 200 to what verifies, 401 otherwise. */
async function startReceiver() {
  const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: request.headers, body });
      response.statusCode = verifiesAsSlack(SIGNING_SECRET, request.headers, body) ? 200 : 401;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/slack/interactions`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe(startSlackServer.name, () => {
  let sut: SlackServer;
  let logger: ReturnType<typeof quietLogger>;

  const client = (options: WebClientOptions = {}, token = BOT_TOKEN) =>
    new WebClient(token, { slackApiUrl: sut.apiUrl, logger, retryConfig: { retries: 0 }, ...options });

  beforeEach(async () => {
    logger = quietLogger();
    sut = await startSlackServer({
      botToken: BOT_TOKEN,
      signingSecret: SIGNING_SECRET,
      members: [{ id: ALICE, name: 'alice', email: 'alice@example.test' }, BOB],
      channels: [{ id: APPROVALS, name: 'approvals' }],
    });
  });

  afterEach(() => sut.stop());

  it('answers auth.test with the app, its bot user and the workspace', async () => {
    await expect(client().auth.test()).resolves.toMatchObject({
      ok: true,
      url: `https://${SLACK_WORKSPACE.domain}.slack.com/`,
      team_id: SLACK_WORKSPACE.teamId,
      user_id: SLACK_WORKSPACE.botUserId,
      bot_id: SLACK_WORKSPACE.botId,
    });
  });

  it("posts to a member id in the app's DM with them and answers with the DM id, as conversations.open does", async () => {
    const posted = await client().chat.postMessage({ channel: ALICE, text: 'Approve?', blocks: approvalBlocks });

    expect(posted.channel).toMatch(/^D[A-Z0-9]+$/);
    expect(posted.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(posted.message).toMatchObject({
      type: 'message',
      ts: posted.ts,
      user: SLACK_WORKSPACE.botUserId,
      bot_id: SLACK_WORKSPACE.botId,
      app_id: SLACK_WORKSPACE.appId,
      text: 'Approve?',
    });
    // Stored as Slack stores blocks: a generated block_id, and the text objects' defaults.
    const [section, actions] = posted.message!.blocks!;
    expect(section.block_id).toEqual(expect.any(String));
    expect(section.text).toEqual({ type: 'mrkdwn', text: '*alice* asks for `prod-db-password`', verbatim: false });
    expect(actions.block_id).toBe('decision');
    expect(actions.elements![0].text).toEqual({ type: 'plain_text', text: 'Approve', emoji: true });

    const opened = await client().conversations.open({ users: ALICE });
    expect(opened).toMatchObject({ ok: true, already_open: true, channel: { id: posted.channel } });
    expect(sut.messages()).toEqual([
      expect.objectContaining({ channel: posted.channel, dmWith: ALICE, ts: posted.ts, text: 'Approve?' }),
    ]);
    expect(sut.calls()[0]).toMatchObject({
      method: 'chat.postMessage',
      token: BOT_TOKEN,
      contentType: 'application/x-www-form-urlencoded',
      params: { channel: ALICE, text: 'Approve?', blocks: JSON.stringify(approvalBlocks) },
    });
  });

  it('posts to a channel by id or name, each ts later than the one before', async () => {
    const first = await client().chat.postMessage({ channel: APPROVALS, text: 'one' });
    const second = await client().chat.postMessage({ channel: '#approvals', text: 'two' });

    expect([first.channel, second.channel]).toEqual([APPROVALS, APPROVALS]);
    expect(second.ts! > first.ts!).toBe(true);
    expect(await slackError(client().chat.postMessage({ channel: 'C0ELSEWHERE', text: 'x' }))).toBe(
      'channel_not_found',
    );
  });

  it('updates a message, keeping its blocks when only text is sent, and records each version', async () => {
    const posted = await client().chat.postMessage({ channel: ALICE, text: 'Approve?', blocks: approvalBlocks });
    const decided = [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text: 'Approved by *bob*' } }];

    const updated = await client().chat.update({
      channel: posted.channel!,
      ts: posted.ts!,
      text: 'Approved',
      blocks: decided,
    });
    await client().chat.update({ channel: posted.channel!, ts: posted.ts!, text: 'Approved (expired since)' });

    expect(updated).toMatchObject({ ok: true, channel: posted.channel, ts: posted.ts, text: 'Approved' });
    expect(updated.message).toMatchObject({ type: 'message', user: SLACK_WORKSPACE.botUserId, text: 'Approved' });
    expect(updated.message?.edited?.ts).toMatch(/^\d{10}\.\d{6}$/);
    const [record] = sut.messages();
    expect(record.text).toBe('Approved (expired since)');
    expect(record.blocks).toEqual([expect.objectContaining({ text: { ...decided[0].text, verbatim: false } })]);
    expect(record.updates.map((update) => update.text)).toEqual(['Approved', 'Approved (expired since)']);
  });

  it("answers Slack's errors with Slack's names, as HTTP 200", async () => {
    const posted = await client().chat.postMessage({ channel: ALICE, text: 'Approve?' });
    const byAlice = sut.postAsMember(ALICE, { channel: posted.channel!, text: 'hello' });

    expect(await slackError(client({}, 'xoxb-not-this-app').auth.test())).toBe('invalid_auth');
    expect(await slackError(client({}, '').auth.test())).toBe('not_authed');
    expect(await slackError(client().chat.update({ channel: ALICE, ts: posted.ts!, text: 'x' }))).toBe(
      'channel_not_found',
    );
    expect(await slackError(client().chat.update({ channel: posted.channel!, ts: '1.000001', text: 'x' }))).toBe(
      'message_not_found',
    );
    expect(await slackError(client().chat.update({ channel: posted.channel!, ts: byAlice.ts, text: 'x' }))).toBe(
      'cant_update_message',
    );
    expect(await slackError(client().apiCall('chat.postMessage', { channel: APPROVALS }))).toBe('no_text');
    expect(await slackError(client().apiCall('chat.postMessage', { text: 'x' }))).toBe('invalid_arguments');
    expect(await slackError(client().conversations.open({ users: 'U0NOBODY' }))).toBe('user_not_found');
    expect(await slackError(client().users.lookupByEmail({ email: 'nobody@example.test' }))).toBe('users_not_found');
    await expect(client().users.lookupByEmail({ email: 'alice@example.test' })).resolves.toMatchObject({
      user: { id: ALICE, name: 'alice' },
    });

    const tooLong = { type: 'plain_text' as const, text: 'A'.repeat(76) };
    const invalid = client().chat.postMessage({
      channel: APPROVALS,
      text: 'x',
      blocks: [{ type: 'actions', elements: [{ type: 'button', action_id: 'a', text: tooLong }] }],
    });
    expect(await slackError(invalid)).toBe('invalid_blocks');
    expect(sut.calls().at(-1)?.response).toMatchObject({
      errors: ['must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]'],
    });
    expect(sut.calls().every((call) => call.status === 200)).toBe(true);
  });

  it('answers a rate-limited call with 429 and Retry-After, which the SDK waits out and then retries', async () => {
    sut.failNext('chat.postMessage', { ratelimited: 1 });
    const sdk = client({ retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 } });
    const rateLimited: number[] = [];
    sdk.on(WebClientEvent.RATE_LIMITED, (seconds: number) => rateLimited.push(seconds));

    const started = Date.now();
    const posted = await sdk.chat.postMessage({ channel: APPROVALS, text: 'once' });

    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(rateLimited).toEqual([1]);
    expect(sut.calls().map((call) => call.status)).toEqual([429, 200]);
    expect(sut.calls()[0].response).toEqual({ ok: false, error: 'ratelimited' });
    expect(sut.messages()).toEqual([expect.objectContaining({ ts: posted.ts, text: 'once' })]);
  });

  it('with rejectRateLimitedCalls, the SDK throws a rate-limited error carrying Retry-After instead', async () => {
    sut.failNext('chat.update', { ratelimited: 30 });

    const error = (await client({ rejectRateLimitedCalls: true })
      .chat.update({ channel: APPROVALS, ts: '1.000001', text: 'x' })
      .catch((err: unknown) => err)) as WebAPICallError;

    expect(error).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 30 });
    expect(sut.calls()).toHaveLength(1);
  });

  it('fails the next call of a method with an injected Slack error or HTTP status, once', async () => {
    sut.failNext('chat.postMessage', { error: 'fatal_error' });
    sut.failNext('chat.postMessage', { status: 503 });

    expect(await slackError(client().chat.postMessage({ channel: APPROVALS, text: 'x' }))).toBe('fatal_error');
    await expect(client().chat.postMessage({ channel: APPROVALS, text: 'x' })).rejects.toMatchObject({
      code: ErrorCode.HTTPError,
      statusCode: 503,
    });
    await expect(client().chat.postMessage({ channel: APPROVALS, text: 'x' })).resolves.toMatchObject({ ok: true });
  });

  describe('click', () => {
    let receiver: Awaited<ReturnType<typeof startReceiver>>;

    beforeEach(async () => {
      receiver = await startReceiver();
    });

    afterEach(() => receiver.close());

    it('sends a block_actions payload, form-encoded and signed so that Slack’s check accepts it', async () => {
      const posted = await client().chat.postMessage({ channel: ALICE, text: 'Approve?', blocks: approvalBlocks });
      const message = { channel: posted.channel!, ts: posted.ts! };

      const click = await sut.click({ message, actionId: 'approve', userId: ALICE, url: receiver.url });

      expect(click.status).toBe(200);
      const [{ headers, body }] = receiver.received;
      expect(headers['content-type']).toBe('application/x-www-form-urlencoded');
      const payload = JSON.parse(new URLSearchParams(body).get('payload')!) as BlockActionsPayload;
      expect(payload).toEqual(click.payload);
      expect(payload).toMatchObject({
        type: 'block_actions',
        user: { id: ALICE, username: 'alice', team_id: SLACK_WORKSPACE.teamId },
        api_app_id: SLACK_WORKSPACE.appId,
        container: { type: 'message', message_ts: posted.ts, channel_id: posted.channel },
        team: { id: SLACK_WORKSPACE.teamId },
        channel: { id: posted.channel, name: 'directmessage' },
        message: { ts: posted.ts, text: 'Approve?', blocks: sut.messages()[0].blocks },
        actions: [{ action_id: 'approve', block_id: 'decision', value: 'req_1', type: 'button', style: 'primary' }],
      });
      expect(payload.token).toEqual(expect.any(String));
      expect(payload.trigger_id).toMatch(/^\d+\.\d+\.[0-9a-f]+$/);
      expect(payload.response_url).toMatch(/^https:\/\/hooks\.slack\.com\/actions\//);
    });

    it('makes forged and stale clicks that the check refuses, and replays a click byte for byte', async () => {
      const posted = await client().chat.postMessage({ channel: APPROVALS, text: 'Approve?', blocks: approvalBlocks });
      const message = { channel: posted.channel!, ts: posted.ts! };

      const forged = await sut.click({ message, actionId: 'reject', userId: BOB, url: receiver.url, forged: true });
      const stale = await sut.click({ message, actionId: 'reject', userId: BOB, url: receiver.url, stale: true });
      const genuine = await sut.click({ message, actionId: 'reject', userId: BOB, url: receiver.url });
      const replayed = await sut.replay(genuine);

      expect([forged.status, stale.status, genuine.status]).toEqual([401, 401, 200]);
      expect(Number(stale.request.headers['x-slack-request-timestamp'])).toBeLessThan(Date.now() / 1000 - 5 * 60);
      // Within the five minutes a replay verifies: telling it apart is the app's work.
      expect(replayed.status).toBe(200);
      const [, , first, again] = receiver.received;
      expect(again.body).toBe(first.body);
      expect(again.headers['x-slack-signature']).toBe(first.headers['x-slack-signature']);
      expect(again.headers['x-slack-request-timestamp']).toBe(first.headers['x-slack-request-timestamp']);
      expect(genuine.payload.actions[0]).not.toHaveProperty('value');
    });

    it('refuses to make a click Slack could not send', async () => {
      const posted = await client().chat.postMessage({ channel: ALICE, text: 'Approve?', blocks: approvalBlocks });
      const message = { channel: posted.channel!, ts: posted.ts! };

      await expect(sut.click({ message, actionId: 'approve', userId: BOB, url: receiver.url })).rejects.toThrow(
        /cannot see the DM/,
      );
      await expect(sut.click({ message, actionId: 'escalate', userId: ALICE, url: receiver.url })).rejects.toThrow(
        /no button with action_id escalate/,
      );
      expect(receiver.received).toHaveLength(0);
    });
  });
});
