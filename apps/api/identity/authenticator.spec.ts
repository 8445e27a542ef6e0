import * as crypto from 'node:crypto';
import pino from 'pino';
import { ApiError } from '../errors/api-error';
import { PortalSessions } from '../portal/portal-session';
import { CookieSealer } from '../portal/sealed-cookie';
import { Authenticator, bearerToken } from './authenticator';
import type { Caller } from './caller';
import { TokenRejected } from './claim-mapping';
import type { TokenVerifier } from './token-verifier';

const auditor: Caller = { identity: { id: 'ada', email: 'ada@example.com', groups: [] }, roles: ['auditor'] };
const verifier = {
  verify: (token: string): Promise<Caller> =>
    token === 'h.ada.s' ? Promise.resolve(auditor) : Promise.reject(new TokenRejected('ERR_JWT_EXPIRED')),
} as unknown as TokenVerifier;

async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (err) {
    return err instanceof ApiError ? err.status : 500;
  }
}

describe(Authenticator.name, () => {
  const sut = new Authenticator(verifier, pino({ level: 'silent' }));

  it('reads only the token of a Bearer header', () => {
    expect(bearerToken('Bearer h.ada.s')).toBe('h.ada.s');
    for (const header of [undefined, 'Basic YWRh', 'bearer h.ada.s', 'Bearer', ['Bearer h.ada.s']]) {
      expect(bearerToken(header)).toBeUndefined();
    }
  });

  it.each([undefined, '', 'not-a-jwt', `${'a'.repeat(9000)}.b.c`, 'h.forged.s'])(
    'answers 401 for a missing, malformed, oversized or rejected token (%s)',
    async (token) => {
      expect(await statusOf(sut.authenticate(token))).toBe(401);
    },
  );

  it('gives the verified caller', async () => {
    await expect(sut.authenticate('h.ada.s')).resolves.toBe(auditor);
  });

  it('verifies the token of one request once, however often asked, and each request for itself', async () => {
    let verifications = 0;
    const counting = new Authenticator(
      { verify: (token: string) => (verifications++, verifier.verify(token)) } as unknown as TokenVerifier,
      pino({ level: 'silent' }),
    );
    const request = { raw: {}, headers: { authorization: 'Bearer h.ada.s' } };
    await expect(counting.authenticateRequest(request)).resolves.toBe(auditor);
    await expect(counting.authenticateRequest(request)).resolves.toBe(auditor);
    expect(verifications).toBe(1);
    const forged = { raw: {}, headers: { authorization: 'Bearer h.forged.s' } };
    expect(await statusOf(counting.authenticateRequest(forged))).toBe(401);
    expect(await statusOf(counting.authenticateRequest(forged))).toBe(401);
    expect(verifications).toBe(2);
  });

  it('refuses a caller without any of the roles with 403, naming them', () => {
    expect(() => sut.requireRole(auditor, ['auditor', 'admin'])).not.toThrow();
    expect(() => sut.requireRole(auditor, ['admin'])).toThrow('This needs the admin role.');
  });
});

describe(`${Authenticator.name} with the portal's session cookie`, () => {
  const sessions = new PortalSessions(new CookieSealer(crypto.randomBytes(32)), 'http://localhost:3000');
  const sut = new Authenticator(verifier, pino({ level: 'silent' }), sessions);
  const { session, cookie } = sessions.create('h.ada.s', undefined);
  const sessionCookie = cookie.split(';')[0];
  const request = (method: string, headers: Record<string, string | undefined>) => ({ raw: {}, method, headers });

  it('verifies the token inside the cookie when there is no Authorization header', async () => {
    await expect(sut.authenticateRequest(request('GET', { cookie: sessionCookie }))).resolves.toBe(auditor);
    expect(sut.hasCredential(request('GET', { cookie: sessionCookie }))).toBe(true);
  });

  it('lets a bearer header win over the cookie, even a bad one', async () => {
    expect(
      await statusOf(
        sut.authenticateRequest(request('GET', { cookie: sessionCookie, authorization: 'Bearer h.forged.s' })),
      ),
    ).toBe(401);
    expect(
      await statusOf(sut.authenticateRequest(request('GET', { cookie: sessionCookie, authorization: 'Basic x' }))),
    ).toBe(401);
  });

  it('treats a tampered, foreign or token-less cookie as no credential (401)', async () => {
    const other = new PortalSessions(new CookieSealer(crypto.randomBytes(32)), 'http://localhost:3000');
    const foreign = other.create('h.ada.s', undefined).cookie.split(';')[0];
    const expiredToken = sessions.create('h.expired.s', undefined).cookie.split(';')[0];
    for (const cookieHeader of [`${sessionCookie}x`, foreign, expiredToken, 'latchkey_session=', 'other=1']) {
      expect(await statusOf(sut.authenticateRequest(request('GET', { cookie: cookieHeader })))).toBe(401);
    }
  });

  it('needs the CSRF token and the portal’s origin for a change (403 csrf-failed otherwise)', async () => {
    const csrf = session.csrfToken;
    const post = (headers: Record<string, string>) =>
      sut.authenticateRequest(request('POST', { cookie: sessionCookie, ...headers }));
    await expect(post({})).rejects.toMatchObject({ status: 403, code: 'csrf-failed' });
    await expect(post({ 'x-csrf-token': 'wrong' })).rejects.toMatchObject({ status: 403, code: 'csrf-failed' });
    await expect(post({ 'x-csrf-token': csrf, origin: 'https://evil.test' })).rejects.toMatchObject({ status: 403 });
    await expect(post({ 'x-csrf-token': csrf, origin: 'http://localhost:3000' })).resolves.toBe(auditor);
    await expect(post({ 'x-csrf-token': csrf })).resolves.toBe(auditor);
  });

  it('takes no cookie at all without portal sessions', async () => {
    const bearerOnly = new Authenticator(verifier, pino({ level: 'silent' }));
    expect(bearerOnly.hasCredential(request('GET', { cookie: sessionCookie }))).toBe(false);
    expect(await statusOf(bearerOnly.authenticateRequest(request('GET', { cookie: sessionCookie })))).toBe(401);
  });
});
