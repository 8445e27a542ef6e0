import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { Role } from '../../../contracts/identity';
import { ApiError } from '../errors/api-error';
import type { PortalSessions } from '../portal/portal-session';
import type { Caller } from './caller';
import { TokenRejected } from './claim-mapping';
import { IdentityProviderUnavailable } from './identity-provider';
import type { TokenVerifier } from './token-verifier';

const BEARER = /^Bearer (\S+)$/;
/** RFC 6750's b64token: what a JWT or an opaque access token may be made of. */
const TOKEN_SHAPE = /^[A-Za-z0-9\-._~+/]+=*$/;
const MAX_TOKEN_LENGTH = 8192;

/** The token of an `Authorization: Bearer …` header; undefined for anything else. */
export function bearerToken(header: unknown): string | undefined {
  return typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
}

/** What the authenticator reads of a request (Fastify's request has it all). */
export interface CredentialSource {
  raw: object;
  method?: string;
  headers: IncomingHttpHeaders;
}

/**
 * The one way in: a credential becomes a verified caller here, or the request ends with 401 (and the
 * reason goes to the log only). The Nest guard uses it for every route, and so do the codec routes
 * that are registered on Fastify directly, so both are exactly as strict. A credential is a bearer
 * header or, without one, the portal's session cookie, whose token is verified the same way.
 */
export class Authenticator {
  /** Each request's verification, by its raw request: the rate limiter asks first, the guard after. */
  private readonly verified = new WeakMap<object, Promise<Caller>>();

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly logger: Logger,
    /** The portal's session cookies; without them only bearer headers count. */
    private readonly sessions?: PortalSessions,
  ) {}

  /** Whether the request carries something to verify (a bearer header, or a session cookie). */
  hasCredential(request: CredentialSource): boolean {
    return (
      bearerToken(request.headers.authorization) !== undefined ||
      (request.headers.authorization === undefined && this.sessions?.hasCookie(request.headers) === true)
    );
  }

  /**
   * The caller of a request's `Authorization` header (or, with none, of its session cookie), verified once
   * per request however often asked (a signature check is the dearest step of a request that does little else).
   */
  authenticateRequest(request: CredentialSource): Promise<Caller> {
    let caller = this.verified.get(request.raw);
    if (!caller) {
      caller =
        request.headers.authorization === undefined && this.sessions
          ? this.authenticateSession(request, this.sessions)
          : this.authenticate(bearerToken(request.headers.authorization));
      // Whoever awaits it sees the refusal; a request that ends before anyone does must not leave it unhandled.
      caller.catch(() => undefined);
      this.verified.set(request.raw, caller);
    }
    return caller;
  }

  /** An expired or tampered cookie is no credential (401); a cross-site change is refused (403) before any check. */
  private async authenticateSession(request: CredentialSource, sessions: PortalSessions): Promise<Caller> {
    const session = sessions.open(request.headers);
    if (!session) throw unauthenticated();
    try {
      sessions.requireSameOrigin(request.method ?? 'GET', request.headers, session);
    } catch (err) {
      this.logger.info('session request refused: no CSRF token or a foreign origin');
      throw err;
    }
    return this.authenticate(session.token);
  }

  async authenticate(token: string | undefined): Promise<Caller> {
    if (!token || token.length > MAX_TOKEN_LENGTH || !TOKEN_SHAPE.test(token)) throw unauthenticated();
    try {
      return await this.verifier.verify(token);
    } catch (err) {
      if (err instanceof IdentityProviderUnavailable) {
        this.logger.warn({ reason: err.reason }, 'identity provider unavailable: token not checked');
        throw new ApiError(
          503,
          'identity-provider-unavailable',
          'The identity provider cannot be reached to check the token; try again shortly.',
        );
      }
      if (!(err instanceof TokenRejected)) throw err;
      this.logger.info({ reason: err.reason }, 'bearer token rejected');
      throw unauthenticated();
    }
  }

  /** Refuses (403) a caller who has none of the roles. */
  requireRole(caller: Caller, roles: readonly Role[], message = `This needs the ${roles.join(' or ')} role.`): void {
    if (!roles.some((role) => caller.roles.includes(role))) throw ApiError.forbidden(message);
  }
}

function unauthenticated(): ApiError {
  return new ApiError(401, 'unauthenticated', 'A valid bearer token is required.');
}
