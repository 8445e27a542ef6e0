import * as crypto from 'node:crypto';

/** What a sealed cookie is for: bound into the seal, so one kind can never be taken for the other. */
export type CookiePurpose = 'portal-session' | 'portal-oidc';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';

/**
 * Cookie values that only the API can read or make: AES-256-GCM over `{ exp, data }`, the purpose as
 * associated data. No server-side store, so every API instance that derives the same key (from the codec
 * key, like page tokens) accepts what another sealed. An expired, tampered or foreign value opens to
 * undefined: to the caller it is no cookie at all.
 */
export class CookieSealer {
  constructor(
    private readonly key: Uint8Array,
    private readonly now: () => number = Date.now,
  ) {
    if (key.length !== 32) throw new Error('the cookie key must be 32 bytes');
  }

  /** `expiresAt`: epoch seconds after which the value no longer opens. */
  seal(purpose: CookiePurpose, data: unknown, expiresAt: number): string {
    const iv = crypto.randomBytes(IV_BYTES);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(`${VERSION}:${purpose}`));
    const plaintext = Buffer.from(JSON.stringify({ exp: expiresAt, data }), 'utf8');
    const sealed = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${sealed.toString('base64url')}`;
  }

  open(purpose: CookiePurpose, value: string | undefined): unknown {
    if (!value?.startsWith(`${VERSION}.`)) return undefined;
    const sealed = Buffer.from(value.slice(VERSION.length + 1), 'base64url');
    if (sealed.length < IV_BYTES + TAG_BYTES + 1) return undefined;
    let plaintext: Buffer;
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(`${VERSION}:${purpose}`));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      plaintext = Buffer.concat([
        decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      return undefined;
    }
    const { exp, data } = JSON.parse(plaintext.toString('utf8')) as { exp: unknown; data: unknown };
    return typeof exp === 'number' && exp > this.now() / 1000 ? data : undefined;
  }
}

/** The portal's cookie key of an API process: derived from a shared secret so every instance agrees. */
export function derivePortalCookieKey(secret: Uint8Array): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', secret, Buffer.alloc(0), 'latchkey api portal cookies', 32));
}

/** One cookie of a `Cookie` header; the first of that name wins, as browsers send the most specific path first. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

export interface CookieAttributes {
  path: string;
  sameSite: 'Strict' | 'Lax';
  secure: boolean;
  /** Seconds; 0 deletes the cookie. */
  maxAge: number;
}

/** A `Set-Cookie` value: always HttpOnly, so no script of the page can read it. */
export function setCookie(name: string, value: string, attributes: CookieAttributes): string {
  return [
    `${name}=${value}`,
    `Path=${attributes.path}`,
    `Max-Age=${Math.max(0, Math.floor(attributes.maxAge))}`,
    'HttpOnly',
    `SameSite=${attributes.sameSite}`,
    ...(attributes.secure ? ['Secure'] : []),
  ].join('; ');
}
