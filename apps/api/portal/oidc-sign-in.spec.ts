import * as crypto from 'node:crypto';
import pino from 'pino';
import { GENERIC_CLAIMS, type OidcAuthConfig } from '../../../config/identity';
import { OidcSignIn, PENDING_COOKIE, SignInFailed } from './oidc-sign-in';
import { CookieSealer } from './sealed-cookie';
import { closedPort } from '../../../test/support/closed-port';

function newSignIn(issuer: string, clientId: string | undefined) {
  const sealer = new CookieSealer(crypto.randomBytes(32));
  const auth: OidcAuthConfig = {
    mode: 'oidc',
    profile: 'generic',
    issuer,
    audience: 'latchkey',
    maxTokenAgeSeconds: 86_400,
    tokenFormat: 'jwt',
    accessTokenMarks: [],
    claims: GENERIC_CLAIMS,
  };
  const sut = new OidcSignIn({
    auth,
    portal: { clientId, scope: 'openid email profile' },
    publicUrl: 'https://latchkey.test',
    sealer,
    logger: pino({ level: 'silent' }),
  });
  return { sut, sealer };
}

async function failureOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'none';
  } catch (err) {
    if (err instanceof SignInFailed) return err.code;
    const { status, code } = err as { status?: number; code?: string };
    return `${status} ${code}`;
  }
}

describe(OidcSignIn.name, () => {
  it('answers 503 "not configured" without a portal client id', async () => {
    const { sut } = newSignIn('http://127.0.0.1:1', undefined);
    expect(sut.configured).toBe(false);
    expect(await failureOf(sut.begin('/portal/'))).toBe('503 portal-sign-in-not-configured');
  });

  it('answers 503 while the provider cannot be discovered, and asks again at the next sign-in', async () => {
    const { sut } = newSignIn(`http://127.0.0.1:${await closedPort()}`, 'latchkey-portal-web');
    expect(await failureOf(sut.begin('/portal/'))).toBe('503 identity-provider-unavailable');
    expect(await failureOf(sut.begin('/portal/'))).toBe('503 identity-provider-unavailable');
  });

  it('tells apart a refusal at the provider, a browser with no sign-in pending, and a foreign state', async () => {
    const { sut, sealer } = newSignIn('http://127.0.0.1:1', 'latchkey-portal-web');
    const query = (params: Record<string, string>) => new URLSearchParams(params);
    expect(await failureOf(sut.complete(query({ error: 'access_denied', state: 's' }), undefined))).toBe(
      'access-denied',
    );
    expect(await failureOf(sut.complete(query({ error: 'server_error' }), undefined))).toBe('provider-error');
    expect(await failureOf(sut.complete(query({ code: 'c', state: 's' }), undefined))).toBe('sign-in-expired');
    const pending = sealer.seal(
      'portal-oidc',
      { state: 'mine', codeVerifier: 'v', returnTo: '/portal/' },
      Date.now() / 1000 + 600,
    );
    const cookie = `${PENDING_COOKIE}=${pending}`;
    expect(await failureOf(sut.complete(query({ code: 'c', state: 'theirs' }), cookie))).toBe('bad-state');
    expect(await failureOf(sut.complete(query({ code: 'c' }), cookie))).toBe('bad-state');
    // A session cookie's seal is no pending sign-in.
    const session = sealer.seal('portal-session', { state: 'mine' }, Date.now() / 1000 + 600);
    expect(await failureOf(sut.complete(query({ code: 'c', state: 'mine' }), `${PENDING_COOKIE}=${session}`))).toBe(
      'sign-in-expired',
    );
  });

  it('forgets the pending sign-in with a cookie for its own path only', () => {
    expect(newSignIn('http://127.0.0.1:1', 'x').sut.clearedPendingCookie()).toBe(
      'latchkey_oidc=; Path=/portal/auth; Max-Age=0; HttpOnly; SameSite=Lax; Secure',
    );
  });
});
