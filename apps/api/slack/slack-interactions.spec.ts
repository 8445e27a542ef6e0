import * as crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import pino from 'pino';
import { SLACK_ACTIONS } from '../../../contracts/notifications';
import type { AccessRequestState } from '../../../contracts/request';
import { Directory } from '../../../domain/directory';
import { checkSignature, registerSlackInteractions, SLACK_INTERACTIONS_PATH } from './slack-interactions';

const SECRET = 'the-slack-apps-signing-secret';
const NOW = 1_767_225_600;
const BODY = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', actions: [{ value: 'req_1' }] }))}`;

/** Signed as Slack signs (docs.slack.dev, "Verifying requests from Slack"): v0, the timestamp, the exact body. */
function signed(options: { at?: number; body?: string; secret?: string } = {}) {
  const at = String(options.at ?? NOW);
  const hmac = crypto.createHmac('sha256', options.secret ?? SECRET);
  hmac.update(`v0:${at}:${options.body ?? BODY}`);
  return { 'x-slack-request-timestamp': at, 'x-slack-signature': `v0=${hmac.digest('hex')}` };
}

describe(checkSignature.name, () => {
  let seen: Map<string, number>;
  const sut = (headers: Record<string, string | string[] | undefined>, now = NOW, body = BODY) =>
    checkSignature(SECRET, headers, body, now, seen);

  beforeEach(() => {
    seen = new Map();
  });

  it('accepts a request signed with the secret over its exact bytes', () => {
    expect(sut(signed())).toBeUndefined();
  });

  it('refuses a request signed with another secret', () => {
    expect(sut(signed({ secret: 'a-forgers-guess' }))).toBe('the signature does not match');
  });

  it('refuses a body changed by one byte', () => {
    const headers = signed();
    expect(sut(headers, NOW, BODY.replace('req_1', 'req_2'))).toBe('the signature does not match');
    expect(sut(headers, NOW, `${BODY} `)).toBe('the signature does not match');
  });

  it('refuses a signature of another version or length', () => {
    const headers = signed();
    expect(sut({ ...headers, 'x-slack-signature': headers['x-slack-signature'].replace('v0=', 'v1=') })).toBe(
      'the signature does not match',
    );
    expect(sut({ ...headers, 'x-slack-signature': headers['x-slack-signature'].slice(0, -2) })).toBe(
      'the signature does not match',
    );
  });

  it('accepts a request signed up to five minutes ago, and refuses one signed longer ago', () => {
    expect(sut(signed({ at: NOW - 300 }))).toBeUndefined();
    expect(sut(signed({ at: NOW - 301 }))).toBe('signed too long ago');
  });

  it('refuses a request dated more than five minutes ahead', () => {
    expect(sut(signed({ at: NOW + 301 }))).toBe('signed too long ago');
  });

  it.each([
    ['no timestamp', { 'x-slack-signature': signed()['x-slack-signature'] }],
    ['no signature', { 'x-slack-request-timestamp': String(NOW) }],
    ['no headers at all', {}],
    ['a timestamp that is not a number', { ...signed(), 'x-slack-request-timestamp': `${NOW}.5` }],
    ['a repeated header', { ...signed(), 'x-slack-signature': [signed()['x-slack-signature']] }],
  ])('refuses a request with %s', (_case, headers) => {
    expect(sut(headers)).toBe('no Slack signature');
  });

  it('refuses the same signature a second time', () => {
    const headers = signed();
    expect(sut(headers)).toBeUndefined();
    expect(sut(headers, NOW + 10)).toBe('already received');
    expect(sut(signed({ at: NOW + 1 }), NOW + 10)).toBeUndefined();
  });

  it('forgets a signature once its request is too old to pass, and still refuses it then', () => {
    const first = signed();
    expect(sut(first)).toBeUndefined();

    const later = NOW + 301;
    expect(sut(signed({ at: later }), later)).toBeUndefined();

    expect(seen.has(first['x-slack-signature'])).toBe(false);
    expect(seen.size).toBe(1);
    expect(sut(first, later)).toBe('signed too long ago');
  });

  it("refuses a replay of a request dated ahead of the API's clock until it is too old to pass", () => {
    // Slack's clock 200 s ahead of the API's: the request passes from NOW - 100 to NOW + 500.
    const ahead = signed({ at: NOW + 200 });
    expect(sut(ahead)).toBeUndefined();

    for (const replayAt of [NOW + 60, NOW + 301, NOW + 500]) {
      expect(sut(signed({ at: replayAt }), replayAt)).toBeUndefined();
      expect(sut(ahead, replayAt)).toBe('already received');
    }
    expect(sut(ahead, NOW + 501)).toBe('signed too long ago');
  });
});

describe(registerSlackInteractions.name, () => {
  const REQUEST_ID = 'req_01h0000000000000000000000a';
  const clickBody = (userId: string) =>
    `payload=${encodeURIComponent(
      JSON.stringify({
        type: 'block_actions',
        user: { id: userId },
        actions: [{ action_id: SLACK_ACTIONS.approve, value: REQUEST_ID }],
      }),
    )}`;

  /** One API instance: its own Fastify and its own memory of seen signatures, recording what it asks to change. */
  async function apiInstance(changes: Array<{ by: string; nonce?: string }>) {
    const app = Fastify();
    registerSlackInteractions(app, {
      signingSecret: SECRET,
      directory: new Directory([
        { id: 'bob', email: 'bob@example.com', groups: ['security'], roles: [], slack: 'U0BOB' },
      ]),
      requests: {
        change: (caller, _id, _change, _body, options = {}) => {
          changes.push({ by: caller.identity.id, nonce: options.nonce });
          return Promise.resolve({} as AccessRequestState);
        },
      },
      responseOrigin: 'https://hooks.slack.com',
      logger: pino({ level: 'silent' }),
      bodyLimitBytes: 16_384,
      nowMs: () => NOW * 1000,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    return app;
  }

  /** Over a real socket, as Slack calls it. */
  async function post(app: Awaited<ReturnType<typeof apiInstance>>, body: string): Promise<number> {
    const address = app.server.address() as AddressInfo;
    const answer = await fetch(`http://127.0.0.1:${address.port}${SLACK_INTERACTIONS_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...signed({ body }) },
      body,
    });
    return answer.status;
  }

  it('gives a click the same command nonce on every API instance, so that a replay to another one is refused by the workflow', async () => {
    const changes: Array<{ by: string; nonce?: string }> = [];
    const [first, second] = [await apiInstance(changes), await apiInstance(changes)];
    const click = clickBody('U0BOB');

    expect(await post(first, click)).toBe(200);
    expect(await post(first, click)).toBe(401); // this instance remembers the signature
    expect(await post(second, click)).toBe(200); // another instance does not
    await new Promise((resolve) => setImmediate(resolve));

    // Both commands carry one nonce: the request's workflow accepts a nonce once (workflows/signed-commands).
    expect(changes).toHaveLength(2);
    expect(changes[0]).toEqual({ by: 'bob', nonce: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(changes[1].nonce).toBe(changes[0].nonce);
    // Another click (another signature) is another command.
    expect(await post(first, `${click}&x=1`)).toBe(200);
    await new Promise((resolve) => setImmediate(resolve));
    expect(changes[2].nonce).not.toBe(changes[0].nonce);
    await Promise.all([first.close(), second.close()]);
  });
});
