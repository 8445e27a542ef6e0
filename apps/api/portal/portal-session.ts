import * as crypto from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from '../errors/api-error';
import { type CookieSealer, readCookie, setCookie } from './sealed-cookie';

export const SESSION_COOKIE = 'latchkey_session';
export const CSRF_HEADER = 'x-csrf-token';
/** A working day and some: past it the person signs in again, whatever the token allowed. */
export const SESSION_MAX_SECONDS = 12 * 3600;
/** Browsers keep at most about 4 KB per cookie; a larger one would be dropped without a word. */
const MAX_COOKIE_BYTES = 4000;

/** What the session cookie holds, sealed: the access token never reaches the page's scripts. */
export interface PortalSession {
  token: string;
  csrfToken: string;
  /** Epoch seconds. */
  expiresAt: number;
  /** A display name from the ID token or the directory; identity itself always comes from the token. */
  name?: string;
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class SessionTooLarge extends Error {
  constructor() {
    super('the sealed session exceeds what a browser keeps in one cookie');
    this.name = 'SessionTooLarge';
  }
}

/**
 * The portal's sessions: a sealed cookie per browser, nothing kept on the server. A session never outlives
 * its token nor SESSION_MAX_SECONDS; every request still verifies the token inside, so the token's own
 * expiry and the verifier's rules apply as they do to a bearer header.
 */
export class PortalSessions {
  constructor(
    private readonly sealer: CookieSealer,
    /** https: the cookie is Secure. */
    private readonly publicUrl: string,
    private readonly now: () => number = Date.now,
  ) {}

  get publicOrigin(): string {
    return new URL(this.publicUrl).origin;
  }

  /** A new session for a verified token; `tokenExpiresAt` in epoch seconds, when known. */
  create(token: string, tokenExpiresAt: number | undefined, name?: string): { session: PortalSession; cookie: string } {
    const nowSeconds = Math.floor(this.now() / 1000);
    const expiresAt = Math.min(nowSeconds + SESSION_MAX_SECONDS, tokenExpiresAt ?? Infinity);
    const session: PortalSession = {
      token,
      csrfToken: crypto.randomBytes(32).toString('base64url'),
      expiresAt,
      ...(name ? { name: name.slice(0, 200) } : {}),
    };
    const value = this.sealer.seal('portal-session', session, expiresAt);
    const cookie = this.cookie(value, expiresAt - nowSeconds);
    if (cookie.length > MAX_COOKIE_BYTES) throw new SessionTooLarge();
    return { session, cookie };
  }

  /** The session of a request's cookie; undefined for none, an expired one or one we did not seal. */
  open(headers: IncomingHttpHeaders): PortalSession | undefined {
    const data = this.sealer.open('portal-session', readCookie(headers.cookie, SESSION_COOKIE)) as
      Partial<PortalSession> | undefined;
    if (typeof data?.token !== 'string' || typeof data.csrfToken !== 'string' || typeof data.expiresAt !== 'number') {
      return undefined;
    }
    return { token: data.token, csrfToken: data.csrfToken, expiresAt: data.expiresAt, name: data.name };
  }

  hasCookie(headers: IncomingHttpHeaders): boolean {
    return readCookie(headers.cookie, SESSION_COOKIE) !== undefined;
  }

  /** The `Set-Cookie` that ends the session in the browser. */
  cleared(): string {
    return this.cookie('', 0);
  }

  /**
   * A cookie rides along with any request the browser makes, including one a foreign page makes it send:
   * a request that changes something must also carry the session's CSRF token (which only the portal's own
   * scripts can read, from /portal/auth/session) and, if it says where it comes from, come from the portal.
   */
  requireSameOrigin(method: string, headers: IncomingHttpHeaders, session: PortalSession): void {
    if (!UNSAFE_METHODS.has(method.toUpperCase())) return;
    if (
      !csrfTokenMatches(headers[CSRF_HEADER], session.csrfToken) ||
      !originAllowed(headers.origin, this.publicOrigin)
    ) {
      throw csrfFailed();
    }
  }

  private cookie(value: string, maxAge: number): string {
    return setCookie(SESSION_COOKIE, value, {
      path: '/',
      sameSite: 'Strict',
      secure: new URL(this.publicUrl).protocol === 'https:',
      maxAge,
    });
  }
}

/** Constant-time, so the comparison says nothing about how much of a guess was right. */
export function csrfTokenMatches(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b) && given.length === expected.length;
}

/** No Origin: not a browser's cross-site request (browsers send it on every unsafe one). */
export function originAllowed(origin: string | string[] | undefined, publicOrigin: string): boolean {
  return origin === undefined || origin === publicOrigin;
}

export function csrfFailed(): ApiError {
  return new ApiError(
    403,
    'csrf-failed',
    "A signed-in browser's change needs the session's X-CSRF-Token header and the portal's own origin.",
  );
}
