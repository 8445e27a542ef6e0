import * as crypto from 'node:crypto';
import { decodeJwt } from 'jose';
import type * as OpenIdClientModule from 'openid-client';
import type { Configuration as ProviderConfiguration } from 'openid-client';
import type { Logger } from 'pino';
import type { PortalSignInConfig } from '../../../config/config';
import type { OidcAuthConfig } from '../../../config/identity';
import { readSecret } from '../../../config/secrets';
import { ApiError } from '../errors/api-error';
import { safeReturnTo } from './return-to';
import { type CookieSealer, readCookie, setCookie } from './sealed-cookie';

type OpenIdClient = typeof OpenIdClientModule;

export const PENDING_COOKIE = 'latchkey_oidc';
const PENDING_PATH = '/portal/auth';
/** Time enough to sign in at the provider (with a second factor), short enough that a stale one is useless. */
const PENDING_SECONDS = 600;

/** What the browser carries from the login redirect to the callback, sealed: only it can finish its sign-in. */
interface PendingSignIn {
  state: string;
  nonce?: string;
  codeVerifier: string;
  returnTo: string;
}

/** Why a sign-in did not finish: a short code for the portal's page (`/portal/?signInError=<code>`), nothing secret. */
export type SignInErrorCode =
  | 'access-denied'
  | 'provider-error'
  | 'sign-in-expired'
  | 'bad-state'
  | 'exchange-failed'
  | 'token-refused'
  | 'provider-unavailable'
  | 'session-too-large';

export class SignInFailed extends Error {
  constructor(
    readonly code: SignInErrorCode,
    /** For the log: never a token, a code or a cookie. */
    readonly reason: string,
  ) {
    super(`sign-in failed: ${code}`);
    this.name = 'SignInFailed';
  }
}

/** The tokens of a finished sign-in: the access token is the one the API verifies; the name is for display. */
export interface SignedIn {
  accessToken: string;
  /** Epoch seconds: the JWT's `exp`, else from `expires_in`; undefined when neither says. */
  expiresAt?: number;
  name?: string;
  returnTo: string;
}

export interface OidcSignInOptions {
  auth: OidcAuthConfig;
  portal: PortalSignInConfig;
  publicUrl: string;
  sealer: CookieSealer;
  logger: Logger;
}

/** Plain HTTP to the provider only on this machine (a test or a demo), as the CLI allows. */
function isLoopback(url: URL): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) || url.hostname.startsWith('127.');
}

function sameText(a: string, b: string): boolean {
  const digest = (text: string) => crypto.createHash('sha256').update(text).digest();
  return crypto.timingSafeEqual(digest(a), digest(b)) && a.length === b.length;
}

/**
 * The portal's sign-in at an OpenID provider: the authorization code flow with PKCE (S256), state and
 * nonce, through openid-client. The provider is discovered at the first sign-in and remembered; a
 * provider that cannot be reached then is a 503 for that sign-in, tried again at the next, never a
 * failed start.
 */
export class OidcSignIn {
  private provider?: Promise<{ client: OpenIdClient; configuration: ProviderConfiguration }>;

  constructor(private readonly options: OidcSignInOptions) {}

  get configured(): boolean {
    return this.options.portal.clientId !== undefined;
  }

  get redirectUri(): string {
    return `${this.options.publicUrl}/portal/auth/callback`;
  }

  /** Where to send the browser, and the cookie that remembers this sign-in until the callback. */
  async begin(returnTo: unknown): Promise<{ location: string; cookie: string }> {
    const { client, configuration } = await this.discover();
    const { portal, auth } = this.options;
    const pending: PendingSignIn = {
      state: client.randomState(),
      codeVerifier: client.randomPKCECodeVerifier(),
      returnTo: safeReturnTo(returnTo),
    };
    const parameters: Record<string, string> = {
      redirect_uri: this.redirectUri,
      scope: portal.scope,
      state: pending.state,
      code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
    };
    if (this.asksForIdToken()) parameters.nonce = pending.nonce = client.randomNonce();
    if (portal.resource) parameters.resource = portal.resource;
    // Auth0 issues an access token for an API only when its identifier is asked for as `audience`.
    if (auth.profile === 'auth0') parameters.audience = auth.audience;
    const expiresAt = Math.floor(Date.now() / 1000) + PENDING_SECONDS;
    const cookie = this.pendingCookie(this.options.sealer.seal('portal-oidc', pending, expiresAt), PENDING_SECONDS);
    return { location: client.buildAuthorizationUrl(configuration, parameters).href, cookie };
  }

  /** Checks the provider's answer against the pending sign-in and exchanges the code. Throws `SignInFailed`. */
  async complete(query: URLSearchParams, cookieHeader: string | undefined): Promise<SignedIn> {
    const error = query.get('error');
    if (error !== null) {
      // Only the provider's registered error code goes to the log: its description is free text.
      const known = /^[a-z_]{1,64}$/.test(error) ? error : 'unrecognised';
      throw new SignInFailed(error === 'access_denied' ? 'access-denied' : 'provider-error', `provider said ${known}`);
    }
    const pending = this.options.sealer.open('portal-oidc', readCookie(cookieHeader, PENDING_COOKIE)) as
      PendingSignIn | undefined;
    if (!pending) throw new SignInFailed('sign-in-expired', 'no pending sign-in in this browser (or it expired)');
    const state = query.get('state');
    if (state === null || !sameText(state, pending.state)) {
      throw new SignInFailed('bad-state', 'the state does not match this browser’s sign-in');
    }

    const { client, configuration } = await this.discover().catch((err: unknown) => {
      throw new SignInFailed('provider-unavailable', (err as Error).message);
    });
    const { portal } = this.options;
    let tokens;
    try {
      // The URL the provider sent the browser to, as registered (behind a proxy the request's own differs).
      const callbackUrl = new URL(`${this.redirectUri}?${query.toString()}`);
      tokens = await client.authorizationCodeGrant(
        configuration,
        callbackUrl,
        {
          pkceCodeVerifier: pending.codeVerifier,
          expectedState: pending.state,
          ...(pending.nonce ? { expectedNonce: pending.nonce } : {}),
        },
        portal.resource ? { resource: portal.resource } : undefined,
      );
    } catch (err) {
      throw new SignInFailed('exchange-failed', oauthReason(err));
    }
    const claims = tokens.claims();
    const name = typeof claims?.name === 'string' ? claims.name : undefined;
    return {
      accessToken: tokens.access_token,
      expiresAt: tokenExpiry(tokens.access_token, tokens.expiresIn()),
      name,
      returnTo: safeReturnTo(pending.returnTo),
    };
  }

  /** The `Set-Cookie` that forgets a pending sign-in. */
  clearedPendingCookie(): string {
    return this.pendingCookie('', 0);
  }

  private asksForIdToken(): boolean {
    return this.options.portal.scope.split(' ').includes('openid');
  }

  private pendingCookie(value: string, maxAge: number): string {
    // Lax: the callback is a top-level navigation from the provider's site, which a Strict cookie would miss.
    return setCookie(PENDING_COOKIE, value, {
      path: PENDING_PATH,
      sameSite: 'Lax',
      secure: new URL(this.options.publicUrl).protocol === 'https:',
      maxAge,
    });
  }

  private discover(): Promise<{ client: OpenIdClient; configuration: ProviderConfiguration }> {
    if (!this.configured) {
      return Promise.reject(
        new ApiError(
          503,
          'portal-sign-in-not-configured',
          'portal sign-in is not configured: set LATCHKEY_PORTAL_CLIENT_ID to the portal’s client at the identity provider.',
        ),
      );
    }
    this.provider ??= this.connect().catch((err: unknown) => {
      // Not remembered: the next sign-in asks again.
      this.provider = undefined;
      throw err;
    });
    return this.provider;
  }

  private async connect(): Promise<{ client: OpenIdClient; configuration: ProviderConfiguration }> {
    const { auth, portal, logger } = this.options;
    // An ECMAScript module, loaded only when someone signs in.
    const client = await import('openid-client');
    const issuer = new URL(auth.issuer);
    let clientAuth;
    try {
      clientAuth = portal.clientSecretFile
        ? client.ClientSecretBasic(readSecret({ file: portal.clientSecretFile }))
        : client.None();
    } catch (err) {
      logger.error({ reason: (err as Error).message }, 'portal sign-in: the client secret cannot be read');
      throw new ApiError(503, 'portal-sign-in-not-configured', 'portal sign-in is misconfigured: see the API log.');
    }
    try {
      const configuration = await client.discovery(
        issuer,
        portal.clientId!,
        undefined,
        clientAuth,
        issuer.protocol === 'http:' && isLoopback(issuer) ? { execute: [client.allowInsecureRequests] } : undefined,
      );
      return { client, configuration };
    } catch (err) {
      logger.warn({ reason: oauthReason(err) }, 'portal sign-in: identity provider discovery failed');
      throw new ApiError(
        503,
        'identity-provider-unavailable',
        'The identity provider cannot be reached to sign in; try again shortly.',
      );
    }
  }
}

/** From the JWT's own `exp`, else `expires_in`; undefined for an opaque token without `expires_in`. */
function tokenExpiry(token: string, expiresIn: number | undefined): number | undefined {
  try {
    const { exp } = decodeJwt(token);
    if (typeof exp === 'number') return exp;
  } catch {
    // An opaque token: its lifetime is what the token endpoint said.
  }
  return expiresIn === undefined ? undefined : Math.floor(Date.now() / 1000) + expiresIn;
}

/** openid-client's errors carry the provider's OAuth error code; the description and the code are left out. */
function oauthReason(err: unknown): string {
  const { error, code, name, cause } = err as Record<string, unknown>;
  if (typeof error === 'string' && /^[a-z_]{1,64}$/.test(error)) return `provider error ${error}`;
  const causeCode = (cause as { code?: unknown } | undefined)?.code;
  return [name, code, causeCode].filter((part) => typeof part === 'string').join(' ') || 'unknown failure';
}
