import { createHash } from 'node:crypto';
import { errors as joseErrors, type JWTPayload, type JWTVerifyGetKey, jwtVerify, type KeyLike } from 'jose';
import type { LatchkeyConfig } from '../../../config/config';
import { type AccessTokenMark, type ClaimMapping, GENERIC_CLAIMS, type OidcAuthConfig } from '../../../config/identity';
import type { Caller } from './caller';
import { callerFromClaims, claimAt, TokenRejected } from './claim-mapping';
import { IdentityProvider } from './identity-provider';
import { LOCAL_TOKEN_ALGORITHM, loadLocalVerificationKey } from './local-signing-key';
import { LRUCache } from 'lru-cache';

const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const CLOCK_TOLERANCE_SECONDS = 5;
/**
 * A JWT whose signature and claims were checked is taken again without a new signature check for at most
 * this long (and never past its expiry or maximum age): a client sends the same token with every call. The
 * bound is how long a signing key the provider withdrew from its key set may still be honoured.
 */
const VERIFIED_TOKEN_TTL_MS = 60_000;
const VERIFIED_TOKENS_KEPT = 10_000;

/** How a verifier is set up: what signs tokens, which tokens are access tokens, and where identity is read. */
interface VerifierSetup {
  keys: KeyLike | JWTVerifyGetKey | undefined;
  provider?: IdentityProvider;
  issuer: string;
  audience: string;
  algorithms: string[];
  maxTokenAgeSeconds: number;
  tokenFormat: OidcAuthConfig['tokenFormat'];
  accessTokenMarks: AccessTokenMark[];
  claims: ClaimMapping;
}

/**
 * Verifies bearer tokens: an access token of the configured issuer for this API, not an ID token,
 * fresh (`iat` required and not older than the configured maximum, so a long-lived token leaked once is
 * not good for ever), then builds the caller from its claims as the claim mapping says.
 */
export class TokenVerifier {
  /** Callers of JWTs verified lately, by the token's SHA-256 (the token itself is not kept). */
  private readonly verifiedJwts = new LRUCache<string, { caller: Caller; keptUntilMs: number }>({
    max: VERIFIED_TOKENS_KEPT,
  });

  private constructor(private readonly setup: VerifierSetup) {}

  /**
   * `startupWaitMs`: how long an OpenID provider that does not answer yet is waited for before the
   * API refuses to start.
   */
  static async fromConfig(
    auth: LatchkeyConfig['auth'],
    options: { startupWaitMs?: number } = {},
  ): Promise<TokenVerifier> {
    const maxTokenAgeSeconds = auth.maxTokenAgeSeconds;
    if (auth.mode === 'local') {
      const publicKey = await loadLocalVerificationKey(auth.publicKeyFile, auth.signingKeyFile);
      return new TokenVerifier({
        keys: publicKey,
        issuer: auth.issuer,
        audience: auth.audience,
        algorithms: [LOCAL_TOKEN_ALGORITHM],
        maxTokenAgeSeconds,
        tokenFormat: 'jwt',
        accessTokenMarks: [],
        claims: GENERIC_CLAIMS,
      });
    }
    const provider = await IdentityProvider.connect(auth, options.startupWaitMs ?? 30_000);
    return new TokenVerifier({
      keys: provider.keys,
      provider,
      issuer: provider.issuer,
      audience: auth.audience,
      algorithms: ASYMMETRIC_ALGORITHMS,
      maxTokenAgeSeconds,
      tokenFormat: auth.tokenFormat,
      accessTokenMarks: auth.accessTokenMarks,
      claims: auth.claims,
    });
  }

  /** Throws `TokenRejected` for a bad token, `IdentityProviderUnavailable` when the provider cannot be asked. */
  async verify(token: string): Promise<Caller> {
    if (JWT_SHAPE.test(token) && this.setup.tokenFormat !== 'opaque') return this.verifyJwt(token);
    if (this.setup.tokenFormat === 'jwt') throw new TokenRejected('not a JWT');
    if (JWT_SHAPE.test(token)) throw new TokenRejected("a JWT, but this provider's access tokens are opaque");
    return this.verifyOpaque(token);
  }

  private async verifyJwt(token: string): Promise<Caller> {
    const digest = createHash('sha256').update(token).digest('base64url');
    const known = this.verifiedJwts.get(digest);
    if (known && Date.now() < known.keptUntilMs) return known.caller;
    const { caller, validUntilMs } = await this.checkJwt(token);
    this.verifiedJwts.set(digest, { caller, keptUntilMs: Math.min(validUntilMs, Date.now() + VERIFIED_TOKEN_TTL_MS) });
    return caller;
  }

  /** The signature and claims checks; `validUntilMs`: when the token stops passing them (expiry or maximum age). */
  private async checkJwt(token: string): Promise<{ caller: Caller; validUntilMs: number }> {
    const { keys, issuer, audience, algorithms, maxTokenAgeSeconds } = this.setup;
    let payload: JWTPayload;
    let typ: string | undefined;
    try {
      const options = {
        issuer,
        audience,
        algorithms,
        requiredClaims: ['exp', 'iat'],
        maxTokenAge: maxTokenAgeSeconds,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      };
      // The two overloads of jwtVerify differ only in the key's type.
      const verified =
        typeof keys === 'function' ? await jwtVerify(token, keys, options) : await jwtVerify(token, keys!, options);
      ({ payload } = verified);
      typ = verified.protectedHeader.typ;
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) throw new TokenRejected(err.code);
      throw err;
    }
    this.requireAccessToken(typ, payload);
    // jose required both claims; it accepts a token until either limit is passed by the clock tolerance.
    const validUntilMs = Math.min(payload.exp!, payload.iat! + maxTokenAgeSeconds) * 1000;
    return { caller: frozen(callerFromClaims(payload, this.setup.claims)), validUntilMs };
  }

  /**
   * An ID token is signed by the same keys and may carry this API's audience (Entra and Okta set `aud`
   * to the client id, which is often the API's too), so only a token that says it is an access token
   * passes: `typ: at+jwt` (RFC 9068), or, for providers that do not set it, a claim only their access
   * tokens carry.
   */
  private requireAccessToken(typ: string | undefined, payload: JWTPayload): void {
    const type = typ?.toLowerCase().replace(/^application\//, '');
    if (type === 'at+jwt') return;
    if (type !== undefined && type !== 'jwt') throw new TokenRejected(`not an access token: typ is ${type}`);
    const marks = this.setup.accessTokenMarks;
    const marked = marks.some(({ claim, value }) => {
      const found = claimAt(payload, claim);
      return value === undefined ? found !== undefined : found === value;
    });
    if (marked) return;
    const expected = marks.length
      ? `typ at+jwt or ${marks.map(({ claim, value }) => (value === undefined ? claim : `${claim}=${value}`)).join(' or ')}`
      : 'typ at+jwt';
    throw new TokenRejected(`not an access token: expected ${expected}`);
  }

  /** RFC 7662: the provider says whether the token is active; latchkey still checks issuer, audience and age. */
  private async verifyOpaque(token: string): Promise<Caller> {
    const claims = await this.setup.provider!.introspect(token);
    const nowSeconds = Date.now() / 1000;
    if (typeof claims.token_type === 'string' && claims.token_type.toLowerCase() !== 'bearer') {
      throw new TokenRejected(`introspection: token_type is ${claims.token_type}`);
    }
    if (claims.iss !== undefined && (typeof claims.iss !== 'string' || claims.iss !== this.setup.issuer)) {
      throw new TokenRejected('introspection: another issuer');
    }
    const audiences = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
    if (!audiences.includes(this.setup.audience)) throw new TokenRejected('introspection: not for this audience');
    if (typeof claims.exp === 'number' && claims.exp + CLOCK_TOLERANCE_SECONDS < nowSeconds) {
      throw new TokenRejected('introspection: expired');
    }
    if (typeof claims.iat === 'number' && nowSeconds - claims.iat > this.setup.maxTokenAgeSeconds) {
      throw new TokenRejected('introspection: older than the maximum token age');
    }
    return callerFromClaims(claims, this.setup.claims);
  }
}

/** A caller that is handed to many requests: none of them may change what the others see. */
function frozen(caller: Caller): Caller {
  Object.freeze(caller.identity.groups);
  Object.freeze(caller.identity);
  Object.freeze(caller.roles);
  return Object.freeze(caller);
}
