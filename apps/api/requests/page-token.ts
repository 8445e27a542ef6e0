import * as crypto from 'node:crypto';

/**
 * Page tokens handed to clients are Temporal's tokens sealed with an HMAC over the visibility query
 * they belong to. A forged or altered token, or one reused with other filters, is refused at once
 * instead of costing a round of server retries; it could never widen a query anyway.
 */
export class PageTokens {
  constructor(private readonly key: Uint8Array) {}

  private mac(query: string, raw: Uint8Array): string {
    return crypto
      .createHmac('sha256', this.key)
      .update(query)
      .update('\0')
      .update(raw)
      .digest('base64url')
      .slice(0, 32);
  }

  seal(query: string, raw: Uint8Array): string {
    return `${Buffer.from(raw).toString('base64url')}.${this.mac(query, raw)}`;
  }

  /** The server's token, or undefined when this token was not made by us for this query. */
  open(query: string, token: string): Buffer | undefined {
    const [body, mac, extra] = token.split('.');
    if (!body || !mac || extra !== undefined) return undefined;
    const raw = Buffer.from(body, 'base64url');
    const expected = Buffer.from(this.mac(query, raw));
    const given = Buffer.from(mac);
    return given.length === expected.length && crypto.timingSafeEqual(given, expected) ? raw : undefined;
  }
}

/** The page-token key of an API process: derived from a shared secret so every instance agrees. */
export function derivePageTokenKey(secret: Uint8Array): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', secret, Buffer.alloc(0), 'latchkey api page tokens', 32));
}
