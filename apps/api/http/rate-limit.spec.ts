import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { toErrorResponse } from '../errors/error-mapping';
import { Authenticator } from '../identity/authenticator';
import type { Caller } from '../identity/caller';
import { TokenRejected } from '../identity/claim-mapping';
import type { TokenVerifier } from '../identity/token-verifier';
import { budgetOf, rateLimitKey, registerRateLimit } from './rate-limit';

const limits = { perMinute: 5, anonymousPerMinute: 2, probesPerMinute: 3 };
const callerOf = (id: string): Caller => ({ identity: { id, email: `${id}@example.com`, groups: [] }, roles: [] });
const TOKENS: Record<string, string> = { 'h.ada.s': 'ada', 'h.bob.s': 'bob' };

describe(registerRateLimit.name, () => {
  let sut: FastifyInstance;
  let verifications: number;

  beforeEach(async () => {
    verifications = 0;
    const verifier = {
      verify: (token: string): Promise<Caller> => {
        verifications++;
        const id = TOKENS[token];
        return id
          ? Promise.resolve(callerOf(id))
          : Promise.reject(new TokenRejected('ERR_JWS_SIGNATURE_VERIFICATION_FAILED'));
      },
    } as unknown as TokenVerifier;
    const authenticator = new Authenticator(verifier, pino({ level: 'silent' }));
    sut = Fastify();
    // As the Nest exception filter does: the API's error shape.
    sut.setErrorHandler((err, _request, reply) => {
      const { status, body } = toErrorResponse(err);
      void reply.status(status).send(body);
    });
    await registerRateLimit(sut, limits, authenticator);
    // As the guard does: asks the authenticator again, for the same request.
    sut.get('/v1/me', async (request) => (await authenticator.authenticateRequest(request)).identity);
    sut.get('/healthz', () => ({ status: 'ok' }));
    await sut.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(() => sut.close());

  /** A GET from a client address of the loopback network (all of 127/8 reaches the server on Linux). */
  const get = (url: string, token?: string, from = '127.0.0.2') =>
    new Promise<{ statusCode: number; headers: http.IncomingHttpHeaders; json: () => unknown }>((resolve, reject) => {
      const { port } = sut.server.address() as AddressInfo;
      const headers = token ? { authorization: `Bearer ${token}` } : {};
      http
        .get({ host: '127.0.0.1', port, path: url, localAddress: from, headers, agent: false }, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              statusCode: response.statusCode ?? 0,
              headers: response.headers,
              json: () => JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown,
            }),
          );
        })
        .on('error', reject);
    });

  it('answers 429 with Retry-After, in the error shape, once an address spends its anonymous budget', async () => {
    expect((await get('/v1/me')).statusCode).toBe(401);
    await get('/v1/me');
    const refused = await get('/v1/me');
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.json()).toEqual({
      error: { code: 'too-many-requests', message: 'Too many requests; try again later.' },
    });
    // Another address still has its own.
    expect((await get('/v1/me', undefined, '127.0.0.3')).statusCode).not.toBe(429);
  });

  it('keeps a verified caller working while their address floods without a valid token', async () => {
    for (let i = 0; i < 4; i++) await get('/v1/me', 'h.forged.s');
    expect((await get('/v1/me', 'h.forged.s')).statusCode).toBe(429);
    expect((await get('/v1/me', 'h.ada.s')).statusCode).toBe(200);
  });

  it("does not let one caller spend another's budget, and gives callers more than anonymous addresses", async () => {
    for (let i = 0; i < limits.perMinute; i++) expect((await get('/v1/me', 'h.ada.s')).statusCode).toBe(200);
    expect((await get('/v1/me', 'h.ada.s', '127.0.0.4')).statusCode).toBe(429);
    expect((await get('/v1/me', 'h.bob.s')).statusCode).toBe(200);
  });

  it('verifies a token once per request, though the limiter and the handler both ask', async () => {
    await get('/v1/me', 'h.ada.s');
    expect(verifications).toBe(1);
  });

  it('counts probes apart from everything else', async () => {
    for (let i = 0; i < limits.anonymousPerMinute; i++) await get('/nowhere');
    expect((await get('/nowhere')).statusCode).toBe(429);
    for (let i = 0; i < limits.probesPerMinute; i++) expect((await get('/healthz')).statusCode).toBe(200);
    expect((await get('/healthz')).statusCode).toBe(429);
  });
});

describe(rateLimitKey.name, () => {
  it('names each budget by its prefix', () => {
    expect(budgetOf('caller:ada', limits)).toBe(5);
    expect(budgetOf('anonymous:10.0.0.1', limits)).toBe(2);
    expect(budgetOf('probe:10.0.0.1', limits)).toBe(3);
  });
});
