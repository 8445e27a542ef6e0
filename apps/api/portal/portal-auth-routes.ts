import * as fs from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { LatchkeyConfig } from '../../../config/config';
import { loadDirectory, type Directory } from '../../../config/directory';
import { ApiError } from '../errors/api-error';
import { toErrorResponse } from '../errors/error-mapping';
import type { Authenticator } from '../identity/authenticator';
import { loadOrCreateLocalSigningKey, mintLocalToken, type LocalSigningKey } from '../identity/local-signing-key';
import { type OidcSignIn, SignInFailed, type SignInErrorCode } from './oidc-sign-in';
import { csrfFailed, originAllowed, type PortalSessions, SessionTooLarge } from './portal-session';
import { PORTAL_HOME } from './return-to';

type LocalAuthConfig = Extract<LatchkeyConfig['auth'], { mode: 'local' }>;

export interface PortalAuthOptions {
  config: Pick<LatchkeyConfig, 'auth' | 'directoryFile'>;
  authenticator: Authenticator;
  sessions: PortalSessions;
  /** oidc mode only. */
  oidc?: OidcSignIn;
  logger: Logger;
}

/** Local sign-in: a working day, as `latchkey login --as` by default. */
const LOCAL_SESSION_SECONDS = 8 * 3600;

/**
 * Local mode's sign-in: anyone may be any of the directory's demo people (local mode is refused in production
 * unless explicitly allowed). The token is minted exactly as `latchkey token` mints it, with the private key
 * that the API's verification key is the public half of.
 */
class LocalSignIn {
  private directory?: Directory;
  private key?: Promise<LocalSigningKey>;

  constructor(
    private readonly auth: LocalAuthConfig,
    private readonly directoryFile: string | undefined,
  ) {}

  people(): Directory {
    // Read at first use, so a broken people file is a clear error on this route, not a failed start.
    this.directory ??= loadDirectory(this.directoryFile);
    return this.directory;
  }

  async mint(personId: string): Promise<{ token: string; expiresAt: number; name?: string }> {
    const person = this.people().person(personId);
    if (!person)
      throw new ApiError(400, 'validation-failed', 'personId must be the id of one of the directory’s people.');
    if (!fs.existsSync(this.auth.signingKeyFile)) {
      throw new ApiError(
        503,
        'local-sign-in-unavailable',
        'Local sign-in needs the local signing key (LATCHKEY_AUTH_LOCAL_KEY_FILE) on the API’s disk.',
      );
    }
    this.key ??= loadOrCreateLocalSigningKey(this.auth.signingKeyFile, this.auth.publicKeyFile);
    const ttl = Math.min(LOCAL_SESSION_SECONDS, this.auth.maxTokenAgeSeconds);
    const token = await mintLocalToken(
      await this.key,
      this.auth.issuer,
      this.auth.audience,
      { sub: person.id, email: person.email, groups: person.groups, roles: person.roles },
      ttl,
    );
    return { token, expiresAt: Math.floor(Date.now() / 1000) + ttl, name: person.name };
  }
}

function sendError(reply: FastifyReply, err: unknown, extra: Record<string, unknown> = {}): FastifyReply {
  const { status, body } = toErrorResponse(err);
  if (status === 503) void reply.header('Retry-After', '5');
  return reply.status(status).send({ ...body, ...extra });
}

function notFound(reply: FastifyReply): FastifyReply {
  return sendError(reply, new ApiError(404, 'not-found', 'No such route.'));
}

/**
 * The portal's sign-in and session routes, under /portal/auth. Registered on Fastify directly and left out
 * of the OpenAPI document: they speak cookies to the portal's own pages, not tokens to API clients.
 *
 *   GET  /portal/auth/session   who is signed in (and the CSRF token), or 401 with how to sign in
 *   GET  /portal/auth/people    local mode: the directory's people, to pick one
 *   POST /portal/auth/local     local mode: `{ "personId": "alice" }` → the session cookie
 *   GET  /portal/auth/login     oidc mode: to the provider (authorization code with PKCE)
 *   GET  /portal/auth/callback  oidc mode: back from the provider → the session cookie
 *   POST /portal/auth/logout    ends the session (CSRF header required)
 */
export function registerPortalAuthRoutes(fastify: FastifyInstance, options: PortalAuthOptions): void {
  const { config } = options;
  registerSessionRoutes(fastify, options);
  if (config.auth.mode === 'local')
    registerLocalRoutes(fastify, options, new LocalSignIn(config.auth, config.directoryFile));
  if (options.oidc) registerOidcRoutes(fastify, options, options.oidc);
  // Anything else under /portal/auth (the other mode's routes among them) is no page of the portal's app.
  fastify.all('/portal/auth/*', (_request, reply) => notFound(reply));
}

/** Who is signed in, and signing out: both modes. */
function registerSessionRoutes(fastify: FastifyInstance, options: PortalAuthOptions): void {
  const { config, authenticator, sessions, oidc } = options;
  const mode = config.auth.mode;
  const signIn = oidc?.configured ? '/portal/auth/login' : null;

  fastify.get('/portal/auth/session', async (request, reply) => {
    const session = sessions.open(request.headers);
    try {
      if (!session) throw new ApiError(401, 'unauthenticated', 'Not signed in.');
      const caller = await authenticator.authenticate(session.token);
      return reply.send({
        mode,
        person: {
          id: caller.identity.id,
          ...(caller.identity.email ? { email: caller.identity.email } : {}),
          ...(session.name ? { name: session.name } : {}),
        },
        roles: caller.roles,
        groups: caller.identity.groups,
        csrfToken: session.csrfToken,
        expiresAt: new Date(session.expiresAt * 1000).toISOString(),
      });
    } catch (err) {
      // A session whose token no longer verifies is over: the browser forgets it.
      if (sessions.hasCookie(request.headers) && toErrorResponse(err).status === 401) {
        void reply.header('Set-Cookie', sessions.cleared());
      }
      return sendError(reply, err, { mode, signIn });
    }
  });

  fastify.post('/portal/auth/logout', (request, reply) => {
    const session = sessions.open(request.headers);
    try {
      // Only the portal may end its session (a foreign page could otherwise sign people out at will).
      if (session) sessions.requireSameOrigin(request.method, request.headers, session);
    } catch (err) {
      return sendError(reply, err);
    }
    return reply.header('Set-Cookie', sessions.cleared()).status(204).send();
  });
}

/** Local mode: pick one of the directory's people. */
function registerLocalRoutes(fastify: FastifyInstance, options: PortalAuthOptions, local: LocalSignIn): void {
  const { authenticator, sessions, logger } = options;
  fastify.get('/portal/auth/people', (_request, reply) => {
    try {
      return reply.send(
        local.people().people.map((person) => ({
          id: person.id,
          name: person.name ?? person.id,
          email: person.email,
          groups: person.groups,
          roles: person.roles,
        })),
      );
    } catch (err) {
      logger.error({ reason: (err as Error).message }, 'portal: the directory of people cannot be read');
      return sendError(reply, new ApiError(503, 'directory-unavailable', 'The directory of people cannot be read.'));
    }
  });

  fastify.post(
    '/portal/auth/local',
    {
      // Refused before the body is read: only the portal's own script posts JSON here (a cross-site form
      // cannot send application/json without a preflight, which this API never grants).
      onRequest: async (request, reply) => {
        if (!isJson(request)) {
          return sendError(reply, new ApiError(415, 'unsupported-media-type', 'Send the body as application/json.'));
        }
        if (!originAllowed(request.headers.origin, sessions.publicOrigin)) return sendError(reply, csrfFailed());
      },
    },
    async (request, reply) => {
      try {
        const personId = (request.body as { personId?: unknown } | null)?.personId;
        if (typeof personId !== 'string') {
          throw new ApiError(400, 'validation-failed', 'The body must be {"personId": "<id>"}.');
        }
        const minted = await local.mint(personId);
        // Verified as any bearer token is, so the session is exactly what the token says.
        const caller = await authenticator.authenticate(minted.token);
        const { cookie } = sessions.create(minted.token, minted.expiresAt, minted.name);
        logger.info({ callerId: caller.identity.id }, 'portal: local sign-in');
        return reply.header('Set-Cookie', cookie).status(204).send();
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );
}

/** oidc mode: the authorization code flow with PKCE at the identity provider. */
function registerOidcRoutes(fastify: FastifyInstance, options: PortalAuthOptions, oidc: OidcSignIn): void {
  const { authenticator, sessions, logger } = options;
  fastify.get('/portal/auth/login', async (request, reply) => {
    try {
      const { location, cookie } = await oidc.begin((request.query as { returnTo?: unknown }).returnTo);
      return reply.header('Set-Cookie', cookie).redirect(location, 302);
    } catch (err) {
      return sendError(reply, err);
    }
  });

  fastify.get('/portal/auth/callback', async (request, reply) => {
    const query = new URLSearchParams(request.url.split('?')[1] ?? '');
    const fail = (code: SignInErrorCode, reason: string) => {
      logger.warn({ code, reason }, 'portal: sign-in failed');
      return reply
        .header('Set-Cookie', oidc.clearedPendingCookie())
        .redirect(`${PORTAL_HOME}?signInError=${code}`, 302);
    };
    try {
      const signedIn = await oidc.complete(query, request.headers.cookie);
      // The API's own check, before any cookie: a token it would refuse makes no session.
      let callerId: string;
      try {
        callerId = (await authenticator.authenticate(signedIn.accessToken)).identity.id;
      } catch (err) {
        const status = toErrorResponse(err).status;
        return fail(status === 503 ? 'provider-unavailable' : 'token-refused', `the API refuses the token (${status})`);
      }
      const { cookie } = sessions.create(signedIn.accessToken, signedIn.expiresAt, signedIn.name);
      logger.info({ callerId }, 'portal: signed in at the identity provider');
      return reply.header('Set-Cookie', [oidc.clearedPendingCookie(), cookie]).redirect(signedIn.returnTo, 302);
    } catch (err) {
      if (err instanceof SignInFailed) return fail(err.code, err.reason);
      if (err instanceof SessionTooLarge) return fail('session-too-large', err.message);
      logger.error({ err: { type: (err as Error).name } }, 'portal: sign-in failed unexpectedly');
      return fail('provider-error', 'unexpected');
    }
  });
}

function isJson(request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  return typeof type === 'string' && /^application\/json\s*(;|$)/i.test(type);
}
