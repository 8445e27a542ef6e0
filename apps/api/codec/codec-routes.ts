import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ApiError } from '../errors/api-error';
import { toErrorResponse } from '../errors/error-mapping';
import { type Authenticator, bearerToken } from '../identity/authenticator';
import type { Caller } from '../identity/caller';
import type { AuthenticatedRequest } from '../identity/decorators';

export interface CodecRoutesOptions {
  codecs: PayloadCodec[];
  authenticator: Authenticator;
  /** Browser origins (the Temporal UI) allowed to call the codec endpoint. */
  corsOrigins: string[];
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
 * cross-origin credentials" setting it sends cookies. This cookie holds a verified token for the
 * codec paths only (HttpOnly, SameSite=Strict), set by posting the token to /codec/session.
 */
const SESSION_COOKIE = 'latchkey_codec';

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

function expiresIn(token: string): number {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? Math.max(0, Math.floor(payload.exp - Date.now() / 1000)) : 0;
  } catch {
    return 0;
  }
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
 * The codec endpoint the Temporal UI calls (`/codec/encode`, `/codec/decode`) to show encrypted
 * payloads to people allowed to read them: a bearer token with the auditor or admin role, as on any
 * other route (or the session cookie made from one, for a UI without login), and CORS only for the
 * configured UI origins. Payloads can hold a share link, which is why requesters and approvers get
 * nothing here. Registered on Fastify directly, since only these routes take the larger body limit.
 */
export function registerCodecRoutes(fastify: FastifyInstance, options: CodecRoutesOptions): void {
  const access = codecAccess(options);
  registerSessionRoutes(fastify, options, access);
  for (const direction of ['encode', 'decode'] as const) registerPayloadRoute(fastify, options, access, direction);
}

interface CodecAccess {
  /** Adds the CORS headers for an allowed origin; false for a browser origin that is not allowed. */
  cors(request: FastifyRequest, reply: FastifyReply): boolean;
  /** The caller, if the token (or session cookie) is an auditor's or an admin's. */
  reader(token: string | undefined): Promise<Caller>;
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
    async reader(token) {
      const caller = await options.authenticator.authenticate(token);
      options.authenticator.requireRole(caller, ROLES_ALLOWED, 'Reading payloads needs the auditor or admin role.');
      return caller;
    },
  };
}

/** The page and the form that turn a token into the session cookie, for a Temporal UI without login. */
function registerSessionRoutes(fastify: FastifyInstance, options: CodecRoutesOptions, access: CodecAccess): void {
  fastify.get('/codec/session', (_request, reply) => {
    void reply.header('Content-Type', 'text/html; charset=utf-8').send(SESSION_PAGE);
  });

  fastify.post('/codec/session', async (request, reply) => {
    try {
      const given = (request.body as { token?: unknown } | null)?.token;
      const token = typeof given === 'string' ? given.trim() : undefined;
      const caller = await access.reader(token);
      options.logger.info({ callerId: caller.identity.id }, 'codec session started');
      return reply
        .header(
          'Set-Cookie',
          `${SESSION_COOKIE}=${token}; Path=/codec; HttpOnly; SameSite=Strict; Max-Age=${expiresIn(token ?? '')}`,
        )
        .header('Content-Type', 'text/html; charset=utf-8')
        .send('<!doctype html><p>This browser may now read latchkey payloads in the Temporal UI.</p>\n');
    } catch (err) {
      return sendError(reply, err);
    }
  });
}

function registerPayloadRoute(
  fastify: FastifyInstance,
  options: CodecRoutesOptions,
  access: CodecAccess,
  direction: 'encode' | 'decode',
): void {
  const url = `/codec/${direction}`;
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

  // The origin and the caller are checked before the body is read: a stranger's payloads are never parsed.
  const authorize = async (request: FastifyRequest & AuthenticatedRequest, reply: FastifyReply) => {
    try {
      if (!access.cors(request, reply)) throw ApiError.forbidden('This origin may not call the codec.');
      const token = bearerToken(request.headers.authorization) ?? cookieValue(request.headers.cookie, SESSION_COOKIE);
      request.caller = await access.reader(token);
    } catch (err) {
      return sendError(reply, err);
    }
  };

  fastify.post(
    url,
    { bodyLimit: options.bodyLimitBytes, onRequest: authorize },
    async (request: FastifyRequest & AuthenticatedRequest, reply) => {
      try {
        const payloads = payloadsFromJson(request.body);
        let result = payloads;
        // Encoding runs the codecs in order; decoding in reverse, as the SDK does.
        const codecs = direction === 'encode' ? options.codecs : [...options.codecs].reverse();
        try {
          for (const codec of codecs) result = await codec[direction](result);
        } catch {
          throw new ApiError(400, 'undecodable', `The payloads could not be ${direction}d with latchkey's key.`);
        }
        options.logger.info({ callerId: request.caller?.identity.id, direction, count: payloads.length }, 'codec used');
        return reply.header('Cache-Control', 'no-store').send(payloadsToJson(result));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );
}
