import * as crypto from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ApiError } from '../errors/api-error';
import { toErrorResponse } from '../errors/error-mapping';
import { type Authenticator, bearerToken } from '../identity/authenticator';
import type { Role } from '../../../contracts/identity';
import { type Caller, ROLES } from '../identity/caller';

export interface CodecRoutesOptions {
  codecs: PayloadCodec[];
  authenticator: Authenticator;
  /** Browser origins (the Temporal UI) allowed to call the codec endpoint. */
  corsOrigins: string[];
  /** The API's public URL: its origin may post the session form, and https makes the cookie Secure. */
  publicUrl: string;
  /** Seals session cookies; instances behind one load balancer share it (derived from the codec key). */
  sessionKey: Uint8Array;
  /** The UI sends whole histories' payloads at once, so this limit is larger than the API's. */
  bodyLimitBytes: number;
  logger: Logger;
}

/** What the Temporal UI sends and expects: payloads in protobuf JSON (bytes as base64). */
interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const MAX_PAYLOADS = 2_000;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const ROLES_ALLOWED = ['auditor', 'admin'] as const;
/**
 * The Temporal UI of a dev server has no login, so it cannot pass a bearer token; with its "include
 * cross-origin credentials" setting it sends cookies. This cookie, for the codec paths only (HttpOnly,
 * SameSite=Strict, Secure on https), is set by posting an auditor's or admin's token to /codec/session.
 * It never holds the token (which would be good on every route): only a sealed, short-lived session.
 */
const SESSION_COOKIE = 'latchkey_codec';
/** A session lasts an hour at most, and never longer than the token it was made from. */
const SESSION_MAX_SECONDS = 3600;

const SESSION_PAGE = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>latchkey: read payloads in the Temporal UI</title></head>
  <body>
    <h1>Read latchkey payloads in the Temporal UI</h1>
    <p>Paste a token with the auditor or admin role. The codec endpoint then decodes payloads for this
    browser until the token expires (enable "include cross-origin credentials" in the UI's codec settings).</p>
    <form method="post" action="/codec/session">
      <input name="token" type="password" autocomplete="off" size="60" />
      <button type="submit">Use this token</button>
    </form>
  </body>
</html>
`;

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

/** Who may read payloads: all the codec needs to know, and all a session holds. */
export interface CodecReader {
  id: string;
  roles: Role[];
}

/**
 * Codec sessions: `<base64url JSON {sub, roles, exp}>.<HMAC-SHA256>`. A sealed value rather than a
 * server-side map, so that API instances behind a load balancer (which derive the same key from the
 * codec key) all accept it, and nothing is kept per session. It opens the codec paths only, for at most
 * SESSION_MAX_SECONDS, and says nothing to anyone without the key.
 */
export class CodecSessions {
  constructor(
    private readonly key: Uint8Array,
    private readonly now: () => number = Date.now,
  ) {}

  private mac(body: string): string {
    return crypto.createHmac('sha256', this.key).update(body).digest('base64url');
  }

  /** The cookie value and its lifetime in seconds (0: the token expires now, no session). */
  seal(reader: CodecReader, tokenExp: number): { value: string; maxAge: number } {
    const now = Math.floor(this.now() / 1000);
    const exp = Math.min(tokenExp, now + SESSION_MAX_SECONDS);
    const body = Buffer.from(JSON.stringify({ sub: reader.id, roles: reader.roles, exp })).toString('base64url');
    return { value: `${body}.${this.mac(body)}`, maxAge: Math.max(0, exp - now) };
  }

  /** The reader, or undefined for a value we did not seal or one that has expired. */
  open(value: string | undefined): CodecReader | undefined {
    const [body, mac, extra] = (value ?? '').split('.');
    if (!body || !mac || extra !== undefined) return undefined;
    const expected = Buffer.from(this.mac(body));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return undefined;
    const { sub, roles, exp } = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as {
      sub: string;
      roles: Role[];
      exp: number;
    };
    return exp > this.now() / 1000 ? { id: sub, roles: ROLES.filter((role) => roles.includes(role)) } : undefined;
  }
}

/** The session key of an API process: derived from a shared secret so every instance agrees. */
export function deriveCodecSessionKey(secret: Uint8Array): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', secret, Buffer.alloc(0), 'latchkey api codec sessions', 32));
}

/** `exp` of a token the authenticator has just verified (it requires one). */
function tokenExpiry(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { exp: number };
  return payload.exp;
}

function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  const { status, body } = toErrorResponse(err);
  if (status === 401) void reply.header('WWW-Authenticate', 'Bearer');
  return reply.status(status).send(body);
}

function invalid(): ApiError {
  return new ApiError(400, 'validation-failed', 'The body must be {"payloads": [{"metadata": {...}, "data": "..."}]}.');
}

function bytes(value: unknown): Uint8Array {
  if (typeof value !== 'string' || !BASE64.test(value)) throw invalid();
  return Buffer.from(value, 'base64');
}

export function payloadsFromJson(body: unknown): Payload[] {
  const list = (body as { payloads?: unknown } | null)?.payloads;
  if (!Array.isArray(list) || list.length > MAX_PAYLOADS) throw invalid();
  return list.map((entry: unknown): Payload => {
    if (typeof entry !== 'object' || entry === null) throw invalid();
    const { metadata = {}, data = '' } = entry as JsonPayload;
    if (typeof metadata !== 'object' || metadata === null) throw invalid();
    return {
      metadata: Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key, bytes(value)])),
      data: bytes(data),
    };
  });
}

export function payloadsToJson(payloads: Payload[]): { payloads: JsonPayload[] } {
  return {
    payloads: payloads.map((payload) => ({
      metadata: Object.fromEntries(
        Object.entries(payload.metadata ?? {}).map(([key, value]) => [
          key,
          Buffer.from(value ?? []).toString('base64'),
        ]),
      ),
      data: Buffer.from(payload.data ?? []).toString('base64'),
    })),
  };
}

/**
 * The codec endpoint the Temporal UI calls (`/codec/decode`) to show encrypted payloads to people
 * allowed to read them: a bearer token with the auditor or admin role, as on any other route (or the
 * session cookie made from one, for a UI without login), and CORS only for the configured UI origins.
 * Payloads can hold a share link, which is why requesters and approvers get nothing here. There is no
 * `/codec/encode`: the UI needs it only for write actions (signals, Updates sent from the UI), which a
 * hardened deployment disables, and it would let a reader make payloads that pass for latchkey's.
 * Registered on Fastify directly, since only these routes take the larger body limit.
 */
export function registerCodecRoutes(fastify: FastifyInstance, options: CodecRoutesOptions): void {
  const access = codecAccess(options);
  registerSessionRoutes(fastify, options, access);
  registerDecodeRoute(fastify, options, access);
}

interface CodecAccess {
  /** Adds the CORS headers for an allowed origin; false for a browser origin that is not allowed. */
  cors(request: FastifyRequest, reply: FastifyReply): boolean;
  /** The reader, if the verified caller is an auditor or an admin. */
  reader(verifying: Promise<Caller>): Promise<CodecReader>;
  sessions: CodecSessions;
}

function codecAccess(options: CodecRoutesOptions): CodecAccess {
  const allowed = new Set(options.corsOrigins);
  return {
    cors(request, reply) {
      const origin = request.headers.origin;
      if (origin === undefined) return true;
      if (!allowed.has(origin)) return false;
      void reply
        .header('Access-Control-Allow-Origin', origin)
        .header('Access-Control-Allow-Credentials', 'true')
        .header('Vary', 'Origin');
      return true;
    },
    async reader(verifying) {
      const caller = await verifying;
      options.authenticator.requireRole(caller, ROLES_ALLOWED, 'Reading payloads needs the auditor or admin role.');
      return { id: caller.identity.id, roles: caller.roles };
    },
    sessions: new CodecSessions(options.sessionKey),
  };
}

/**
 * Who may post the session form: the API's own page (same host, or the public URL's origin) and the
 * configured UI origins. A browser always sends Origin on a POST; a client without one is not a
 * browser, so it cannot be the victim of a cross-site post.
 */
function sessionOriginAllowed(request: FastifyRequest, options: CodecRoutesOptions): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (origin === new URL(options.publicUrl).origin || options.corsOrigins.includes(origin)) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/** The page and the form that turn a token into the session cookie, for a Temporal UI without login. */
function registerSessionRoutes(fastify: FastifyInstance, options: CodecRoutesOptions, access: CodecAccess): void {
  const secure = new URL(options.publicUrl).protocol === 'https:' ? '; Secure' : '';

  fastify.get('/codec/session', (_request, reply) => {
    void reply.header('Content-Type', 'text/html; charset=utf-8').send(SESSION_PAGE);
  });

  fastify.post(
    '/codec/session',
    {
      // A foreign page's post is refused before its body is read.
      onRequest: async (request, reply) => {
        if (!sessionOriginAllowed(request, options)) {
          return sendError(reply, ApiError.forbidden('This origin may not start a codec session.'));
        }
      },
    },
    async (request, reply) => {
      try {
        const given = (request.body as { token?: unknown } | null)?.token;
        const token = typeof given === 'string' ? given.trim() : undefined;
        const reader = await access.reader(options.authenticator.authenticate(token));
        const session = access.sessions.seal(reader, tokenExpiry(token ?? ''));
        options.logger.info({ callerId: reader.id }, 'codec session started');
        return reply
          .header(
            'Set-Cookie',
            `${SESSION_COOKIE}=${session.value}; Path=/codec; HttpOnly; SameSite=Strict${secure}; Max-Age=${session.maxAge}`,
          )
          .header('Content-Type', 'text/html; charset=utf-8')
          .send('<!doctype html><p>This browser may now read latchkey payloads in the Temporal UI.</p>\n');
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );
}

function registerDecodeRoute(fastify: FastifyInstance, options: CodecRoutesOptions, access: CodecAccess): void {
  const url = '/codec/decode';
  fastify.options(url, (request, reply) => {
    if (!access.cors(request, reply) || request.headers.origin === undefined) {
      void reply.status(403).send({ error: { code: 'forbidden', message: 'This origin may not call the codec.' } });
      return;
    }
    void reply
      .header('Access-Control-Allow-Methods', 'POST')
      .header('Access-Control-Allow-Headers', 'authorization, content-type, x-namespace')
      .header('Access-Control-Max-Age', '600')
      .status(204)
      .send();
  });

  // The origin and the caller are checked in onRequest, before the body is read: a stranger's payloads
  // (up to the codec's large body limit) are never received, let alone parsed.
  const readers = new WeakMap<FastifyRequest, CodecReader>();
  const authorize = async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      if (!access.cors(request, reply)) throw ApiError.forbidden('This origin may not call the codec.');
      // Verified once per request: the rate limiter may have keyed the request by this caller already.
      const reader =
        bearerToken(request.headers.authorization) !== undefined
          ? await access.reader(options.authenticator.authenticateRequest(request))
          : access.sessions.open(cookieValue(request.headers.cookie, SESSION_COOKIE));
      if (!reader) throw new ApiError(401, 'unauthenticated', 'A valid bearer token or codec session is required.');
      readers.set(request, reader);
    } catch (err) {
      return sendError(reply, err);
    }
  };

  fastify.post(url, { bodyLimit: options.bodyLimitBytes, onRequest: authorize }, async (request, reply) => {
    try {
      const payloads = payloadsFromJson(request.body);
      let result = payloads;
      // Decoding runs the codecs in reverse, as the SDK does.
      try {
        for (const codec of [...options.codecs].reverse()) result = await codec.decode(result);
      } catch {
        throw new ApiError(400, 'undecodable', "The payloads could not be decoded with latchkey's key.");
      }
      options.logger.info({ callerId: readers.get(request)?.id, count: payloads.length }, 'codec used');
      return reply.header('Cache-Control', 'no-store').send(payloadsToJson(result));
    } catch (err) {
      return sendError(reply, err);
    }
  });
}
