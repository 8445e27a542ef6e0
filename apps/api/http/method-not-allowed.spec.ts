import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerMethodNotAllowed, RouteMethods } from './method-not-allowed';

describe(registerMethodNotAllowed.name, () => {
  let sut: FastifyInstance;

  beforeAll(async () => {
    sut = Fastify();
    registerMethodNotAllowed(sut);
    sut.get('/v1/requests/:id', () => ({ read: true }));
    sut.post('/v1/requests/:id/approve', () => ({ approved: true }));
    // Routes of an encapsulated plugin count too (Slack's are added so).
    await sut.register((scope, _options, done) => {
      scope.post('/slack/interactions', () => ({ ok: true }));
      done();
    });
    await sut.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => sut.close());

  /** Over a real socket, since fetch refuses methods such as TRACE. */
  const send = (method: string, url: string) =>
    new Promise<{ statusCode: number; headers: http.IncomingHttpHeaders; json: () => unknown }>((resolve, reject) => {
      const { port } = sut.server.address() as AddressInfo;
      http
        .request({ host: '127.0.0.1', port, method, path: url, agent: false }, (response) => {
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
        .on('error', reject)
        .end();
    });

  it.each([
    ['DELETE', '/v1/requests/req_0123456789abcdef', 'GET, HEAD'],
    ['PUT', '/v1/requests/req_0123456789abcdef?force=true', 'GET, HEAD'],
    ['GET', '/v1/requests/req_0123456789abcdef/approve', 'POST'],
    ['TRACE', '/slack/interactions', 'POST'],
  ])('answers %s %s with 405, the methods allowed there and the error shape', async (method, url, allow) => {
    const answer = await send(method, url);
    expect(answer.statusCode).toBe(405);
    expect(answer.headers.allow).toBe(allow);
    expect(answer.json()).toEqual({ error: { code: 'method-not-allowed', message: expect.any(String) } });
  });

  it('answers 405 before reading the body, so a QUERY without a Content-Type is not a 400', async () => {
    const answer = await send('QUERY', '/v1/requests/req_0123456789abcdef');
    expect(answer.statusCode).toBe(405);
  });

  it('leaves a path no route serves, and a served method, alone', async () => {
    expect((await send('DELETE', '/v1/nothing')).statusCode).toBe(404);
    expect((await send('GET', '/v1/requests/a/b/c')).statusCode).toBe(404);
    expect((await send('GET', '/v1/requests/req_0123456789abcdef')).json()).toEqual({ read: true });
  });
});

describe(RouteMethods.name, () => {
  it('matches parameters within one segment only, and static text literally', () => {
    const sut = new RouteMethods();
    sut.add('/docs/assets/:name', 'GET');
    sut.add('/v1.0/*', ['GET', 'POST']);
    expect(sut.allowedAt('/docs/assets/swagger-ui.css')).toEqual(['GET']);
    expect(sut.allowedAt('/docs/assets/a/b')).toEqual([]);
    expect(sut.allowedAt('/docs/assets/')).toEqual([]);
    expect(sut.allowedAt('/v1.0/anything/below')).toEqual(['GET', 'POST']);
    expect(sut.allowedAt('/v1x0/anything')).toEqual([]);
  });
});
