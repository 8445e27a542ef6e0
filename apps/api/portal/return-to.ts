export const PORTAL_HOME = '/portal/';

/** Path characters a portal route uses: no backslash, no control character, no `%2e%2e` tricks to decode later. */
const PORTAL_PATH = /^\/portal\/[A-Za-z0-9\-._~/]*(?:\?[A-Za-z0-9\-._~/=&%+]*)?$/;

/**
 * Where to send the browser after sign-in: a path of the portal itself, or the portal's home. Anything
 * else (another host, `//evil.test`, `/\evil.test`, a scheme, a dot segment, an encoded one) could make
 * the sign-in an open redirect, so it is replaced rather than cleaned.
 */
export function safeReturnTo(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length > 512 || !PORTAL_PATH.test(raw)) return PORTAL_HOME;
  const pathPart = raw.split('?')[0];
  if (pathPart.split('/').some((segment) => segment === '.' || segment === '..')) return PORTAL_HOME;
  if (/%2e|%2f|%5c/i.test(raw)) return PORTAL_HOME;
  // The URL parser must agree that this stays on our origin, at the same path.
  const resolved = new URL(raw, 'http://portal.invalid');
  if (resolved.origin !== 'http://portal.invalid' || resolved.pathname !== pathPart) return PORTAL_HOME;
  return raw;
}
