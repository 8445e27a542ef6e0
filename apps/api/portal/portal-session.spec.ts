import * as crypto from 'node:crypto';
import { ApiError } from '../errors/api-error';
import { csrfTokenMatches, PortalSessions, SESSION_MAX_SECONDS } from './portal-session';
import { CookieSealer } from './sealed-cookie';

const NOW = 1_800_000_000_000;
const nowSeconds = NOW / 1000;

function newSessions(publicUrl = 'https://latchkey.example.com') {
  let now = NOW;
  const sut = new PortalSessions(new CookieSealer(crypto.randomBytes(32), () => now), publicUrl, () => now);
  return { sut, advance: (ms: number) => (now += ms) };
}

/** The `Cookie` header a browser sends back for a `Set-Cookie`. */
function cookieHeaderOf(setCookie: string): string {
  return setCookie.split(';')[0];
}

function csrfCode(run: () => void): string | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    return err instanceof ApiError ? `${err.status} ${err.code}` : 'other';
  }
}

describe(PortalSessions.name, () => {
  it('makes an HttpOnly, SameSite=Strict, Secure (on https) cookie for the whole site', () => {
    const { sut } = newSessions();
    const { cookie } = sut.create('h.token.s', nowSeconds + 3600);
    expect(cookie).toMatch(
      /^latchkey_session=v1\.[A-Za-z0-9_-]+; Path=\/; Max-Age=3600; HttpOnly; SameSite=Strict; Secure$/,
    );
    expect(cookie).not.toContain('token');
    expect(newSessions('http://localhost:3000').sut.create('t', undefined).cookie).not.toContain('Secure');
  });

  it('ends the session with the token, and at 12 hours at most', () => {
    const { sut } = newSessions();
    expect(sut.create('t', nowSeconds + 600).session.expiresAt).toBe(nowSeconds + 600);
    expect(sut.create('t', nowSeconds + 86_400).session.expiresAt).toBe(nowSeconds + SESSION_MAX_SECONDS);
    expect(sut.create('t', undefined).session.expiresAt).toBe(nowSeconds + SESSION_MAX_SECONDS);
  });

  it('opens the session of its own cookie until it expires', () => {
    const { sut, advance } = newSessions();
    const { session, cookie } = sut.create('h.token.s', nowSeconds + 600, 'Alice');
    const headers = { cookie: `theme=dark; ${cookieHeaderOf(cookie)}` };
    expect(sut.open(headers)).toEqual(session);
    expect(session).toMatchObject({
      token: 'h.token.s',
      name: 'Alice',
      csrfToken: expect.stringMatching(/^[\w-]{43}$/),
    });
    advance(601_000);
    expect(sut.open(headers)).toBeUndefined();
    expect(sut.hasCookie(headers)).toBe(true);
  });

  it('gives each session its own CSRF token', () => {
    const { sut } = newSessions();
    expect(sut.create('t', undefined).session.csrfToken).not.toBe(sut.create('t', undefined).session.csrfToken);
  });

  it('clears the cookie with an empty value that expires at once', () => {
    expect(newSessions().sut.cleared()).toBe('latchkey_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure');
  });

  describe('requireSameOrigin', () => {
    const { sut } = newSessions();
    const { session } = sut.create('t', undefined);
    const origin = 'https://latchkey.example.com';

    it.each(['GET', 'HEAD', 'OPTIONS'])('lets %s through without a CSRF token', (method) => {
      expect(csrfCode(() => sut.requireSameOrigin(method, {}, session))).toBeUndefined();
    });

    it.each(['POST', 'PUT', 'PATCH', 'DELETE', 'post'])('refuses %s without the CSRF token', (method) => {
      expect(csrfCode(() => sut.requireSameOrigin(method, { origin }, session))).toBe('403 csrf-failed');
    });

    it('refuses a wrong or repeated CSRF token', () => {
      for (const given of ['nope', `${session.csrfToken}x`, session.csrfToken.slice(1), '']) {
        expect(csrfCode(() => sut.requireSameOrigin('POST', { 'x-csrf-token': given }, session))).toBe(
          '403 csrf-failed',
        );
      }
      expect(
        csrfCode(() =>
          sut.requireSameOrigin('POST', { 'x-csrf-token': [session.csrfToken, session.csrfToken] }, session),
        ),
      ).toBe('403 csrf-failed');
    });

    it('takes the right token from the portal’s origin, or from a client that names none', () => {
      expect(
        csrfCode(() => sut.requireSameOrigin('POST', { 'x-csrf-token': session.csrfToken, origin }, session)),
      ).toBeUndefined();
      expect(
        csrfCode(() => sut.requireSameOrigin('POST', { 'x-csrf-token': session.csrfToken }, session)),
      ).toBeUndefined();
    });

    it.each(['https://evil.test', 'http://latchkey.example.com', 'https://latchkey.example.com:8443', 'null'])(
      'refuses the right token from the origin %s',
      (foreign) => {
        expect(
          csrfCode(() =>
            sut.requireSameOrigin('POST', { 'x-csrf-token': session.csrfToken, origin: foreign }, session),
          ),
        ).toBe('403 csrf-failed');
      },
    );
  });
});

describe(csrfTokenMatches.name, () => {
  it('matches only the very same text', () => {
    expect(csrfTokenMatches('abc', 'abc')).toBe(true);
    expect(csrfTokenMatches('abd', 'abc')).toBe(false);
    expect(csrfTokenMatches(undefined, 'abc')).toBe(false);
  });
});
