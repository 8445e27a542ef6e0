import { generateKeyPair, SignJWT } from 'jose';
import { loadPolicyFile } from '../../policy';
import { ApiWorld, PEOPLE } from '../../test/support/api-world';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pino from 'pino';
import { launchChromium } from '../../test/support/chromium';
import { TEST_ONLY_COMMAND_KEY } from '../../test/support/commands';
import { CommandSigner } from '../../trust/command-signer';
import { createApiApp } from './app';
import { loadOrCreateLocalSigningKey } from './identity/local-signing-key';

const justification = 'Investigating INC-4211: slow queries on orders';

/**
 * Every authorization rule and every kind of bad input, each its own test, over real HTTP against a
 * real Temporal dev server and worker. Bad input must get the right 4xx, start no workflow and change
 * nothing.
 */
describe('latchkey API security over HTTP', () => {
  let world: ApiWorld;
  /** alice's pending prod-db request. */
  let pendingId: string;

  beforeAll(async () => {
    world = await ApiWorld.create('api-security');
    const created = await world.call('POST', '/v1/requests', {
      as: PEOPLE.alice,
      json: { resourceId: 'prod-db', duration: 'PT1H', justification },
    });
    expect(created.status).toBe(201);
    pendingId = created.body.requestId as string;
  }, 120_000);
  afterAll(async () => {
    await world?.dispose();
  }, 60_000);

  async function stateOf(id: string): Promise<unknown> {
    return (await world.call('GET', `/v1/requests/${id}`, { as: PEOPLE.audrey })).body;
  }

  function expectErrorShape(body: unknown, code: string): void {
    expect(body).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
  }

  describe('authentication', () => {
    it.each(['/v1/requests', '/v1/resources', '/v1/me', `/v1/requests/req_0123456789abcdef`, '/metrics'])(
      'denies %s without a token',
      async (path) => {
        const response = await world.call('GET', path);
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toBe('Bearer');
        expectErrorShape(response.body, 'unauthenticated');
      },
    );

    it('opens only health and readiness without a token', async () => {
      expect((await world.call('GET', '/healthz')).status).toBe(200);
      expect((await world.call('GET', '/readyz')).status).toBe(200);
    });

    it('denies a forged token (signed by another key)', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      const forged = await new SignJWT({
        email: 'mallory@example.com',
        groups: ['security'],
        roles: ['admin', 'auditor'],
      })
        .setProtectedHeader({ alg: 'ES256' })
        .setSubject('mallory')
        .setIssuer(world.config.auth.issuer)
        .setAudience(world.config.auth.audience)
        .setExpirationTime('1h')
        .sign(privateKey);
      const response = await world.call('GET', '/v1/requests', { token: forged });
      expect(response.status).toBe(401);
    });

    it('denies an expired token', async () => {
      const token = await world.token(PEOPLE.alice, { ttlSeconds: -60 });
      expect((await world.call('GET', '/v1/me', { token })).status).toBe(401);
    });

    it('denies a token for another audience', async () => {
      const token = await world.token(PEOPLE.alice, { audience: 'some-other-api' });
      expect((await world.call('GET', '/v1/me', { token })).status).toBe(401);
    });

    it('denies a token from another issuer', async () => {
      const token = await world.token(PEOPLE.alice, { issuer: 'https://evil.example.com' });
      expect((await world.call('GET', '/v1/me', { token })).status).toBe(401);
    });

    it('never echoes the token or the reason in the answer', async () => {
      const token = await world.token(PEOPLE.alice, { ttlSeconds: -60 });
      const response = await world.call('GET', '/v1/me', { token });
      expect(response.text).not.toContain(token);
      expect(response.text).not.toMatch(/expired|signature|ERR_/i);
    });
  });

  describe('authorization', () => {
    it("refuses a requester reading someone else's request", async () => {
      const response = await world.call('GET', `/v1/requests/${pendingId}`, { as: PEOPLE.frank });
      expect(response.status).toBe(403);
      expectErrorShape(response.body, 'forbidden');
      expect((await world.call('GET', `/v1/requests/${pendingId}/audit`, { as: PEOPLE.frank })).status).toBe(403);
    });

    it("does not list someone else's requests, whatever the filters say", async () => {
      await world.eventually(
        () => world.call('GET', '/v1/requests', { as: PEOPLE.alice }),
        (r) => (r.body?.items as unknown[] | undefined)?.length === 1,
      );
      for (const query of ['', '?requester=alice', '?resourceId=prod-db', '?status=PENDING_APPROVAL']) {
        const response = await world.call('GET', `/v1/requests${query}`, { as: PEOPLE.frank });
        expect(response.status).toBe(200);
        expect(response.body.items).toEqual([]);
      }
    });

    it('shows an approver what waits for them, and an auditor everything', async () => {
      const bob = await world.call('GET', '/v1/requests?pendingMyApproval=true', { as: PEOPLE.bob });
      expect(bob.body.items).toContainEqual(expect.objectContaining({ requestId: pendingId }));
      expect((await world.call('GET', `/v1/requests/${pendingId}`, { as: PEOPLE.bob })).status).toBe(200);
      const audrey = await world.call('GET', '/v1/requests', { as: PEOPLE.audrey });
      expect(audrey.body.items).toContainEqual(expect.objectContaining({ requestId: pendingId }));
      expect((await world.call('GET', `/v1/requests/${pendingId}/audit`, { as: PEOPLE.audrey })).status).toBe(200);
      // An approver in another group sees nothing waiting for them.
      const erin = await world.call('GET', '/v1/requests?pendingMyApproval=true', { as: PEOPLE.erin });
      expect(erin.body.items).toEqual([]);
    });

    it('refuses an approver outside the flow, and changes nothing', async () => {
      const before = await stateOf(pendingId);
      const response = await world.call('POST', `/v1/requests/${pendingId}/approve`, { as: PEOPLE.erin, json: {} });
      expect(response.status).toBe(403);
      expect(await stateOf(pendingId)).toEqual(before);
    });

    it('refuses the requester approving their own request, and changes nothing', async () => {
      const before = await stateOf(pendingId);
      const response = await world.call('POST', `/v1/requests/${pendingId}/approve`, { as: PEOPLE.alice, json: {} });
      expect(response.status).toBe(403);
      expect(await stateOf(pendingId)).toEqual(before);
    });

    it('refuses an auditor approving: reading everything is not deciding', async () => {
      const response = await world.call('POST', `/v1/requests/${pendingId}/approve`, { as: PEOPLE.audrey, json: {} });
      expect(response.status).toBe(403);
    });

    it('refuses cancelling by anyone but the requester', async () => {
      const response = await world.call('POST', `/v1/requests/${pendingId}/cancel`, { as: PEOPLE.bob, json: {} });
      expect(response.status).toBe(403);
      expect((await stateOf(pendingId)) as { status: string }).toMatchObject({ status: 'PENDING_APPROVAL' });
    });

    it('gives the grant to the requester only, and lets an admin revoke anything', async () => {
      const created = await world.call('POST', '/v1/requests', {
        as: PEOPLE.alice,
        json: { resourceId: 'staging-db', duration: 'PT30M', justification: 'Reproducing a staging bug' },
      });
      const id = created.body.requestId as string;
      const grant = await world.eventually(
        () => world.call('GET', `/v1/requests/${id}/grant`, { as: PEOPLE.alice }),
        (r) => r.status === 200,
      );
      expect(grant.status).toBe(200);
      for (const other of [PEOPLE.frank, PEOPLE.bob, PEOPLE.audrey, PEOPLE.dave]) {
        const response = await world.call('GET', `/v1/requests/${id}/grant`, { as: other });
        expect(response.status).toBe(403);
        expect(response.text).not.toContain(grant.body.shareUrl as string);
      }
      const byFrank = await world.call('POST', `/v1/requests/${id}/revoke`, { as: PEOPLE.frank, json: {} });
      expect(byFrank.status).toBe(403);
      const byAdmin = await world.call('POST', `/v1/requests/${id}/revoke`, {
        as: PEOPLE.dave,
        json: { reason: 'incident over' },
      });
      expect(byAdmin.status).toBe(200);
      expect(byAdmin.body).toMatchObject({ status: 'REVOKED', revocation: { by: 'dave' } });
    });

    it('answers 404 for a request that does not exist and 400 for an id that cannot be one', async () => {
      const unknown = await world.call('GET', '/v1/requests/req_0000000000000000000000zzzz', { as: PEOPLE.audrey });
      expect(unknown.status).toBe(404);
      expectErrorShape(unknown.body, 'not-found');
      const approveUnknown = await world.call('POST', '/v1/requests/req_0000000000000000000000zzzz/approve', {
        as: PEOPLE.bob,
        json: {},
      });
      expect(approveUnknown.status).toBe(404);
      const malformed = await world.call('GET', `/v1/requests/${encodeURIComponent("req_x' OR '1'='1")}`, {
        as: PEOPLE.audrey,
      });
      expect(malformed.status).toBe(400);
    });

    it('answers a method a path does not have with 405 and Allow, and a path that does not exist with 404', async () => {
      for (const [method, path, allow] of [
        ['DELETE', `/v1/requests/${pendingId}`, 'GET, HEAD'],
        ['GET', `/v1/requests/${pendingId}/approve`, 'POST'],
        ['PUT', '/v1/requests', 'GET, HEAD, POST'],
      ]) {
        const response = await world.call(method, path, { as: PEOPLE.audrey });
        expect(response.status).toBe(405);
        expect(response.headers.get('allow')).toBe(allow);
        expect(response.headers.get('x-request-id')).toBeTruthy();
        expectErrorShape(response.body, 'method-not-allowed');
      }
      expect((await world.call('DELETE', '/v1/nothing-here', { as: PEOPLE.audrey })).status).toBe(404);
      expect(await stateOf(pendingId)).toMatchObject({ status: 'PENDING_APPROVAL' });
    });

    it('keeps metrics for auditors and admins', async () => {
      expect((await world.call('GET', '/metrics', { as: PEOPLE.alice })).status).toBe(403);
      expect((await world.call('GET', '/metrics', { as: PEOPLE.dave })).status).toBe(200);
    });
  });

  describe('bad input starts no workflow and changes nothing', () => {
    async function expectRefusedWithoutEffect(
      send: () => Promise<{ status: number; body: unknown }>,
      status: number,
      code?: string,
    ): Promise<void> {
      const before = await world.requestCount();
      const pendingBefore = await stateOf(pendingId);
      const response = await send();
      expect(response.status).toBe(status);
      if (code) expectErrorShape(response.body, code);
      else expect(response.body).toEqual({ error: expect.objectContaining({ code: expect.any(String) }) });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await world.requestCount()).toBe(before);
      expect(await stateOf(pendingId)).toEqual(pendingBefore);
    }

    const create = (json: unknown) => () => world.call('POST', '/v1/requests', { as: PEOPLE.alice, json });

    it('refuses unknown fields', async () => {
      await expectRefusedWithoutEffect(
        create({ resourceId: 'prod-db', justification, admin: true }),
        400,
        'validation-failed',
      );
    });

    it('refuses an identity sent in the body', async () => {
      await expectRefusedWithoutEffect(
        create({ resourceId: 'prod-db', justification, requester: { id: 'bob', email: 'bob@example.com' } }),
        400,
        'validation-failed',
      );
    });

    it('refuses missing fields', async () => {
      await expectRefusedWithoutEffect(create({ duration: 'PT1H', justification }), 400, 'validation-failed');
      await expectRefusedWithoutEffect(create(undefined), 400);
    });

    it('refuses wrong types', async () => {
      await expectRefusedWithoutEffect(create({ resourceId: 42, justification }), 400, 'validation-failed');
      await expectRefusedWithoutEffect(
        create({ resourceId: 'prod-db', duration: 3600, justification }),
        400,
        'validation-failed',
      );
      await expectRefusedWithoutEffect(create(['prod-db']), 400);
    });

    it('refuses a duration of zero', async () => {
      await expectRefusedWithoutEffect(
        create({ resourceId: 'prod-db', duration: 'PT0S', justification }),
        400,
        'validation-failed',
      );
    });

    it('refuses a negative duration', async () => {
      await expectRefusedWithoutEffect(
        create({ resourceId: 'prod-db', duration: '-PT1H', justification }),
        400,
        'validation-failed',
      );
    });

    it("refuses a duration above the flow's maximum (policy: 422)", async () => {
      await expectRefusedWithoutEffect(
        create({ resourceId: 'prod-db', duration: 'PT9H', justification }),
        422,
        'duration-too-long',
      );
    });

    it('refuses a justification the flow does not accept (policy: 422)', async () => {
      await expectRefusedWithoutEffect(create({ resourceId: 'prod-db', duration: 'PT1H', justification: 'x' }), 422);
    });

    it('refuses a 100 KB justification', async () => {
      await expectRefusedWithoutEffect(
        create({ resourceId: 'prod-db', duration: 'PT1H', justification: 'x'.repeat(100 * 1024) }),
        413,
        'payload-too-large',
      );
    });

    it('refuses a justification just over 1000 characters that fits the body limit', async () => {
      await expectRefusedWithoutEffect(
        create({ resourceId: 'prod-db', duration: 'PT1H', justification: 'x'.repeat(1001) }),
        400,
        'validation-failed',
      );
    });

    it('refuses malformed JSON', async () => {
      await expectRefusedWithoutEffect(
        () => world.call('POST', '/v1/requests', { as: PEOPLE.alice, rawBody: '{"resourceId": "prod-db",' }),
        400,
        'bad-request',
      );
    });

    it('refuses a prototype-pollution body', async () => {
      await expectRefusedWithoutEffect(
        () =>
          world.call('POST', '/v1/requests', {
            as: PEOPLE.alice,
            rawBody: `{"resourceId":"prod-db","justification":"${justification}","__proto__":{"admin":true}}`,
          }),
        400,
      );
    });

    it('refuses an unknown resource', async () => {
      await expectRefusedWithoutEffect(
        create({ resourceId: 'no-such-thing', duration: 'PT1H', justification }),
        422,
        'unknown-resource',
      );
    });

    it('refuses a resource the caller may not request', async () => {
      await expectRefusedWithoutEffect(
        () =>
          world.call('POST', '/v1/requests', {
            as: PEOPLE.erin,
            json: { resourceId: 'prod-db', duration: 'PT1H', justification },
          }),
        403,
        'not-eligible',
      );
    });

    it('refuses a malformed Idempotency-Key', async () => {
      await expectRefusedWithoutEffect(
        () =>
          world.call('POST', '/v1/requests', {
            as: PEOPLE.alice,
            json: { resourceId: 'prod-db', duration: 'PT1H', justification },
            headers: { 'Idempotency-Key': "x' OR 1=1" },
          }),
        400,
        'validation-failed',
      );
    });

    it.each([
      "?requester=alice' OR LatchkeyRequester != '",
      "?resourceId=prod-db') OR (WorkflowType != '",
      '?status=ACTIVE OR 1=1',
      '?status=PENDING_APPROVAL&status=ACTIVE',
      '?query=WorkflowType%20%21%3D%20%27%27',
      '?pageSize=0',
      '?pageSize=101',
      '?mine=1',
    ])('refuses the crafted list filter %s', async (query) => {
      await expectRefusedWithoutEffect(
        () => world.call('GET', `/v1/requests${query.replace(/ /g, '%20').replace(/'/g, '%27')}`, { as: PEOPLE.frank }),
        400,
      );
    });

    it('refuses bad decision bodies without touching the request', async () => {
      await expectRefusedWithoutEffect(
        () =>
          world.call('POST', `/v1/requests/${pendingId}/approve`, {
            as: PEOPLE.bob,
            json: { comment: 'x'.repeat(1001) },
          }),
        400,
        'validation-failed',
      );
      await expectRefusedWithoutEffect(
        () =>
          world.call('POST', `/v1/requests/${pendingId}/approve`, {
            as: PEOPLE.bob,
            json: { comment: 'ok', actor: { id: 'bob', roles: ['admin'] } },
          }),
        400,
        'validation-failed',
      );
      await expectRefusedWithoutEffect(
        () => world.call('POST', `/v1/requests/${pendingId}/extend`, { as: PEOPLE.alice, json: { duration: 'PT0S' } }),
        400,
        'validation-failed',
      );
    });

    it('never leaks internals in an error', async () => {
      const response = await world.call('POST', '/v1/requests', { as: PEOPLE.alice, rawBody: '{bad json' });
      expect(response.text).not.toMatch(/Unexpected token|position|at .*\.js|node_modules|SyntaxError/);
    });
  });

  describe('under abuse', () => {
    /** A token signed with the local key, with exactly these claims and times. */
    async function localToken(claims: Record<string, unknown>, times: { iat?: number; exp: number }) {
      if (world.config.auth.mode !== 'local') throw new Error('tests run in local auth mode');
      const key = await loadOrCreateLocalSigningKey(world.config.auth.signingKeyFile);
      let jwt = new SignJWT({ email: 'alice@example.com', groups: ['engineering'], roles: [], ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })
        .setSubject('alice')
        .setIssuer(world.config.auth.issuer)
        .setAudience(world.config.auth.audience)
        .setExpirationTime(times.exp);
      if (times.iat !== undefined) jwt = jwt.setIssuedAt(times.iat);
      return jwt.sign(key.privateKey);
    }
    const now = () => Math.floor(Date.now() / 1000);

    it('refuses a token issued longer ago than the maximum age, or without iat, though it has not expired', async () => {
      const old = await localToken({}, { iat: now() - world.config.auth.maxTokenAgeSeconds - 60, exp: now() + 3600 });
      expect((await world.call('GET', '/v1/me', { token: old })).status).toBe(401);
      const undated = await localToken({}, { exp: now() + 3600 });
      expect((await world.call('GET', '/v1/me', { token: undated })).status).toBe(401);
      const fresh = await localToken({}, { iat: now(), exp: now() + 3600 });
      expect((await world.call('GET', '/v1/me', { token: fresh })).status).toBe(200);
    });

    it('refuses an email_verified that is not the boolean true', async () => {
      for (const value of [false, 'true', 1]) {
        const token = await localToken({ email_verified: value }, { iat: now(), exp: now() + 600 });
        const response = await world.call('POST', '/v1/requests', {
          token,
          json: { resourceId: 'prod-db', duration: 'PT1H', justification },
        });
        expect(response.status).toBe(401);
      }
    });

    it('puts the security headers on every answer, and lets the docs page load its own files', async () => {
      const expected = {
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-resource-policy': 'same-origin',
        'content-security-policy': "default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'self'",
        'x-permitted-cross-domain-policies': 'none',
        // Served over http here: no HSTS (only an https public URL gets it).
        'strict-transport-security': null,
      };
      for (const answer of [
        await world.call('GET', '/v1/me', { as: PEOPLE.alice }),
        await world.call('GET', '/v1/me'),
        await world.call('GET', '/no/such/route'),
        await world.call('GET', '/codec/session'),
      ]) {
        expect(Object.fromEntries(Object.keys(expected).map((name) => [name, answer.headers.get(name)]))).toEqual(
          expected,
        );
      }
      const docs = await world.call('GET', '/docs');
      expect(docs.status).toBe(200);
      expect(docs.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(docs.headers.get('x-frame-options')).toBe('DENY');
    });

    it('renders the Swagger UI page in a browser under its own policy', async () => {
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const refused: string[] = [];
        page.on('console', (message) => {
          if (/Content Security Policy|Refused to/i.test(message.text())) refused.push(message.text());
        });
        await page.goto(`${world.baseUrl}/docs`);
        await page.locator('.swagger-ui .info .title').waitFor({ timeout: 15_000 });
        expect(await page.locator('.swagger-ui .info .title').innerText()).toContain('latchkey');
        expect(await page.locator('.opblock').count()).toBeGreaterThan(5);
        expect(refused).toEqual([]);
      } finally {
        await browser.close();
      }
    }, 60_000);

    it('refuses a codec body without a token before reading it', async () => {
      // Not JSON at all: parsed first, it would be a 400; refused first, it is a 401.
      const started = Date.now();
      const response = await world.call('POST', '/codec/decode', {
        rawBody: 'x'.repeat(3 * 1024 * 1024),
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(401);
      expectErrorShape(response.body, 'unauthenticated');
      expect(response.headers.get('x-request-id')).toBeTruthy();
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('cuts slow and idle clients with the configured timeouts', () => {
      const server = world.app.getHttpServer();
      const { timeouts } = world.config.api;
      expect({
        connectionMs: server.timeout,
        requestMs: server.requestTimeout,
        headersMs: server.headersTimeout,
        keepAliveMs: server.keepAliveTimeout,
      }).toEqual(timeouts);
    });

    it('has no /codec/encode', async () => {
      const response = await world.call('POST', '/codec/encode', { as: PEOPLE.audrey, json: { payloads: [] } });
      expect(response.status).toBe(404);
    });

    it('starts a codec session only from its own page or the UI, never from a foreign origin', async () => {
      const post = (origin: string) =>
        world.call('POST', '/codec/session', {
          rawBody: `token=${token}`,
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
        });
      const token = await world.token(PEOPLE.audrey);
      const foreign = await post('https://evil.example.com');
      expect(foreign.status).toBe(403);
      expectErrorShape(foreign.body, 'forbidden');
      expect(foreign.headers.get('set-cookie')).toBeNull();
      expect((await post(new URL(world.baseUrl).origin)).status).toBe(200);
      expect((await post(world.config.api.codecCorsOrigins[0])).status).toBe(200);
    });

    it('refuses one request more than the policy allows open per requester, with 429', async () => {
      const greg = { sub: 'greg', email: 'greg@example.com', groups: ['engineering'] };
      const limit = loadPolicyFile(world.config.policyFile).limits.openRequestsPerRequester;
      const ids: string[] = [];
      for (let i = 0; i < limit; i++) {
        const created = await world.call('POST', '/v1/requests', {
          as: greg,
          json: { resourceId: 'prod-db', duration: 'PT1H', justification },
        });
        expect(created.status).toBe(201);
        ids.push(created.body.requestId as string);
      }
      // Visibility follows the starts within a moment.
      await world.eventually(
        () => world.call('GET', `/v1/requests?mine=true&status=PENDING_APPROVAL&pageSize=100`, { as: greg }),
        (r) => (r.body?.items as unknown[] | undefined)?.length === limit,
      );
      const refused = await world.call('POST', '/v1/requests', {
        as: greg,
        json: { resourceId: 'prod-db', duration: 'PT1H', justification },
      });
      expect(refused.status).toBe(429);
      expectErrorShape(refused.body, 'open-request-limit');

      expect((await world.call('POST', `/v1/requests/${ids[0]}/cancel`, { as: greg, json: {} })).status).toBe(200);
      await world.eventually(
        () =>
          world.call('POST', '/v1/requests', {
            as: greg,
            json: { resourceId: 'prod-db', duration: 'PT1H', justification },
          }),
        (r) => r.status === 201,
      );
    }, 120_000);
  });
  describe('rate limits', () => {
    const limits = { perMinute: 6, anonymousPerMinute: 3, probesPerMinute: 4 };
    /** A second API on the same world with small budgets, so that a few requests spend them. */
    let limited: NestFastifyApplication;
    let baseUrl: string;

    beforeAll(async () => {
      limited = await createApiApp({
        config: { ...world.config, api: { ...world.config.api, rateLimit: limits } },
        temporal: world.client,
        policy: loadPolicyFile(world.config.policyFile),
        logger: pino({ level: 'silent' }),
        commandSigner: new CommandSigner(TEST_ONLY_COMMAND_KEY),
      });
      await limited.listen({ host: '127.0.0.1', port: 0 });
      const address = limited.getHttpServer().address();
      baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    });
    afterAll(() => limited?.close());

    async function call(path: string, options: { as?: (typeof PEOPLE)[keyof typeof PEOPLE]; token?: string } = {}) {
      const token = options.token ?? (options.as ? await world.token(options.as) : undefined);
      const response = await fetch(`${baseUrl}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        body: text ? (JSON.parse(text) as unknown) : undefined,
      };
    }

    it('answers an anonymous flood with 429, Retry-After and the error shape, on every route, and keeps callers and probes working', async () => {
      for (let i = 0; i < limits.anonymousPerMinute; i++) expect((await call('/v1/me')).status).toBe(401);
      const paths = [
        '/v1/me',
        '/docs',
        '/openapi.json',
        '/metrics',
        '/codec/session',
        '/portal/auth/session',
        '/portal/inbox',
      ];
      for (const path of [...paths, '/no/such/route']) {
        const refused = await call(path);
        expect({ path, status: refused.status }).toEqual({ path, status: 429 });
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(refused.headers.get('x-request-id')).toBeTruthy();
        expect(refused.headers.get('x-content-type-options')).toBe('nosniff');
        expectErrorShape(refused.body, 'too-many-requests');
      }
      // A token that does not verify is counted against the address, like none.
      expect((await call('/v1/me', { token: 'a.b.c' })).status).toBe(429);
      // The same address, with a valid token: its caller's own budget.
      expect((await call('/v1/me', { as: PEOPLE.alice })).status).toBe(200);
      expect((await call('/healthz')).status).toBe(200);
    });

    it("does not let one caller's flood limit another", async () => {
      for (let i = 0; i < limits.perMinute; i++) expect((await call('/v1/me', { as: PEOPLE.frank })).status).toBe(200);
      const refused = await call('/v1/me', { as: PEOPLE.frank });
      expect(refused.status).toBe(429);
      expectErrorShape(refused.body, 'too-many-requests');
      expect((await call('/v1/me', { as: PEOPLE.bob })).status).toBe(200);
    });

    it('gives probes their own budget per address', async () => {
      let status = 200;
      for (let i = 0; i < limits.probesPerMinute + 1 && status === 200; i++) status = (await call('/healthz')).status;
      expect(status).toBe(429);
    });
  });
});
