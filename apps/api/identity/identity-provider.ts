import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { createRemoteJWKSet, errors as joseErrors, type JWTVerifyGetKey } from 'jose';
import type { OidcAuthConfig } from '../../../config/identity';
import { TokenRejected } from './claim-mapping';
import { LRUCache } from 'lru-cache';

/**
 * The provider could not be asked (its JWKS or introspection endpoint is down, slow or answers
 * nonsense): the API answers 503 with `Retry-After`, never 401 (the token may be good) or 500.
 */
export class IdentityProviderUnavailable extends Error {
  constructor(readonly reason: string) {
    super(`identity provider unavailable: ${reason}`);
    this.name = 'IdentityProviderUnavailable';
  }
}

/** The provider's discovery document is missing, or disagrees with the configuration: the API does not start. */
export class IdentityProviderMisconfigured extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityProviderMisconfigured';
  }
}

const REQUEST_TIMEOUT_MS = 5_000;

/** What latchkey reads from `/.well-known/openid-configuration`. */
interface Discovery {
  issuer: string;
  jwksUri?: string;
  introspectionEndpoint?: string;
}

/** Issuers differ only by a trailing slash as often as not; nothing else is forgiven. */
function sameIssuer(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

async function getJson(url: string, what: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    throw new IdentityProviderUnavailable(`${what} at ${url}: ${causeOf(err)}`);
  }
  if (!response.ok) {
    const message = `${what} at ${url} answered HTTP ${response.status}`;
    // A 4xx will not mend by waiting (a wrong issuer path, a JWKS URL that is not one); a 5xx may.
    throw response.status < 500 ? new IdentityProviderMisconfigured(message) : new IdentityProviderUnavailable(message);
  }
  try {
    return await response.json();
  } catch {
    throw new IdentityProviderUnavailable(`${what} at ${url} is not JSON`);
  }
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code ?? (err as Error).name ?? 'error';
}

async function discover(issuer: string): Promise<Discovery> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const document = (await getJson(url, 'the discovery document')) as Record<string, unknown>;
  if (typeof document.issuer !== 'string') {
    throw new IdentityProviderMisconfigured(`the discovery document at ${url} names no issuer`);
  }
  if (!sameIssuer(document.issuer, issuer)) {
    throw new IdentityProviderMisconfigured(
      `LATCHKEY_AUTH_ISSUER is ${issuer}, but the provider at ${url} says its issuer is ${document.issuer}`,
    );
  }
  const text = (key: string) => (typeof document[key] === 'string' ? document[key] : undefined);
  return {
    issuer: document.issuer,
    jwksUri: text('jwks_uri'),
    introspectionEndpoint: text('introspection_endpoint'),
  };
}

/**
 * One OpenID provider, as its discovery document describes it: the exact issuer its tokens carry, its
 * signing keys (fetched by jose, cached, refetched when a token names a key it has not seen) and, for
 * opaque tokens, its introspection endpoint.
 */
export class IdentityProvider {
  private constructor(
    readonly issuer: string,
    readonly keys: JWTVerifyGetKey | undefined,
    private readonly introspection: Introspection | undefined,
  ) {}

  /**
   * Discovers the provider and checks at once what tokens will need (the JWKS answers with keys; an
   * introspection endpoint exists), retrying while `waitMs` lasts so that a provider starting beside
   * latchkey is waited for. After that the error says what is wrong.
   */
  static async connect(auth: OidcAuthConfig, waitMs: number): Promise<IdentityProvider> {
    const deadline = Date.now() + waitMs;
    for (let delay = 250; ; delay = Math.min(delay * 2, 5_000)) {
      try {
        return await IdentityProvider.connectOnce(auth);
      } catch (err) {
        if (!(err instanceof IdentityProviderUnavailable) || Date.now() + delay > deadline) {
          const reason = err instanceof IdentityProviderUnavailable ? err.reason : (err as Error).message;
          throw new IdentityProviderMisconfigured(`cannot use the identity provider ${auth.issuer}: ${reason}`);
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private static async connectOnce(auth: OidcAuthConfig): Promise<IdentityProvider> {
    const discovery = await discover(auth.issuer);
    let keys: JWTVerifyGetKey | undefined;
    if (auth.tokenFormat !== 'opaque') {
      const jwksUri = auth.jwksUrl ?? discovery.jwksUri;
      if (!jwksUri) throw new IdentityProviderMisconfigured('the discovery document has no jwks_uri');
      const jwks = (await getJson(jwksUri, 'the JWKS')) as { keys?: unknown };
      if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) {
        throw new IdentityProviderMisconfigured(`the JWKS at ${jwksUri} has no keys`);
      }
      keys = unavailableWhenUnreachable(
        createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: REQUEST_TIMEOUT_MS, cooldownDuration: 30_000 }),
      );
    }
    let introspection: Introspection | undefined;
    if (auth.introspection) {
      const endpoint = auth.introspection.url ?? discovery.introspectionEndpoint;
      if (!endpoint) {
        throw new IdentityProviderMisconfigured(
          'the discovery document has no introspection_endpoint: set LATCHKEY_AUTH_INTROSPECTION_URL',
        );
      }
      introspection = new Introspection(endpoint, auth.introspection.clientId, readClientSecret(auth.introspection));
    }
    return new IdentityProvider(discovery.issuer, keys, introspection);
  }

  /** The claims of an opaque access token, as the provider's introspection endpoint (RFC 7662) states them. */
  introspect(token: string): Promise<Record<string, unknown>> {
    if (!this.introspection) throw new TokenRejected('an opaque token, and no introspection is configured');
    return this.introspection.claims(token);
  }
}

/** Read once at start, so that a missing file stops the start instead of failing every request. */
function readClientSecret({ clientSecretFile }: NonNullable<OidcAuthConfig['introspection']>): string {
  let secret: string;
  try {
    secret = fs.readFileSync(clientSecretFile, 'utf8').trim();
  } catch (err) {
    throw new IdentityProviderMisconfigured(
      `LATCHKEY_AUTH_INTROSPECTION_CLIENT_SECRET_FILE (${clientSecretFile}) cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  if (!secret)
    throw new IdentityProviderMisconfigured(
      `LATCHKEY_AUTH_INTROSPECTION_CLIENT_SECRET_FILE (${clientSecretFile}) is empty`,
    );
  return secret;
}

/**
 * jose's key set, with its failures sorted: a key the provider does not publish is the token's fault
 * (401), while a JWKS that cannot be fetched is the provider's (503).
 */
function unavailableWhenUnreachable(keySet: JWTVerifyGetKey): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await keySet(header, token);
    } catch (err) {
      if (
        err instanceof joseErrors.JWKSNoMatchingKey ||
        err instanceof joseErrors.JWKSMultipleMatchingKeys ||
        err instanceof joseErrors.JOSENotSupported
      ) {
        throw err;
      }
      throw new IdentityProviderUnavailable(
        `the JWKS: ${err instanceof joseErrors.JOSEError ? err.code : causeOf(err)}`,
      );
    }
  };
}

/** Answers for one token are reused for a minute at most (and never past its expiry): a page polls. */
const INTROSPECTION_CACHE_MS = 60_000;
const INTROSPECTION_CACHE_ENTRIES = 10_000;

/** An RFC 7662 client, authenticated with client_secret_basic. */
class Introspection {
  /** By the token's sha256, so that the cache holds no token. */
  private readonly answers = new LRUCache<string, { claims: Record<string, unknown>; until: number }>({
    max: INTROSPECTION_CACHE_ENTRIES,
  });

  constructor(
    private readonly endpoint: string,
    private readonly clientId: string,
    private readonly clientSecret: string,
  ) {}

  async claims(token: string): Promise<Record<string, unknown>> {
    const key = crypto.createHash('sha256').update(token).digest('base64url');
    const cached = this.answers.get(key);
    if (cached && cached.until > Date.now()) return cached.claims;

    const claims = await this.ask(token);
    if (claims.active !== true) throw new TokenRejected('introspection: the token is not active');
    const expiresAt = typeof claims.exp === 'number' ? claims.exp * 1000 : Date.now();
    this.answers.set(key, { claims, until: Math.min(Date.now() + INTROSPECTION_CACHE_MS, expiresAt) });
    return claims;
  }

  private async ask(token: string): Promise<Record<string, unknown>> {
    // RFC 6749 §2.3.1: the id and secret are form-encoded before they are joined.
    const basic = Buffer.from(`${encodeURIComponent(this.clientId)}:${encodeURIComponent(this.clientSecret)}`).toString(
      'base64',
    );
    let response: Response;
    try {
      response = await fetch(this.endpoint, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      throw new IdentityProviderUnavailable(`introspection: ${causeOf(err)}`);
    }
    if (!response.ok) throw new IdentityProviderUnavailable(`introspection answered HTTP ${response.status}`);
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new IdentityProviderUnavailable('introspection did not answer JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new IdentityProviderUnavailable('introspection did not answer a JSON object');
    }
    return body as Record<string, unknown>;
  }
}
