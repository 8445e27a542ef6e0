import * as crypto from 'node:crypto';
import { checkSignature } from './slack-interactions';

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
