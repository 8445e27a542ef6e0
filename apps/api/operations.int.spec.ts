import { requestWorkflowId } from '../../domain/ids';
import { ApiWorld, PEOPLE } from '../../test/support/api-world';

const justification = 'Investigating INC-4211: slow queries on orders';
const UI_ORIGIN = 'http://localhost:8233';

describe('latchkey API operations over HTTP: codec endpoint and emergency revoke', () => {
  let world: ApiWorld;

  beforeAll(async () => {
    world = await ApiWorld.create('api-operations');
  }, 120_000);
  afterAll(async () => {
    await world?.dispose();
  }, 60_000);

  async function activeRequest(person = PEOPLE.alice): Promise<string> {
    const created = await world.call('POST', '/v1/requests', {
      as: person,
      json: { resourceId: 'staging-db', duration: 'PT30M', justification: 'Reproducing a staging bug' },
    });
    const id = created.body.requestId as string;
    await world.eventually(
      () => world.call('GET', `/v1/requests/${id}`, { as: PEOPLE.audrey }),
      (r) => r.body?.status === 'ACTIVE',
    );
    return id;
  }

  describe('codec endpoint', () => {
    async function storedInputPayload(id: string): Promise<{ metadata: Record<string, string>; data: string }> {
      const history = await world.client.workflow.getHandle(requestWorkflowId(id)).fetchHistory();
      const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      if (!payload) throw new Error('no input payload');
      return {
        metadata: Object.fromEntries(
          Object.entries(payload.metadata ?? {}).map(([key, value]) => [
            key,
            Buffer.from(value ?? []).toString('base64'),
          ]),
        ),
        data: Buffer.from(payload.data ?? []).toString('base64'),
      };
    }

    it('decodes a stored (encrypted) payload for an auditor calling from the Temporal UI origin', async () => {
      const created = await world.call('POST', '/v1/requests', {
        as: PEOPLE.alice,
        json: { resourceId: 'prod-db', duration: 'PT1H', justification },
      });
      const stored = await storedInputPayload(created.body.requestId as string);
      expect(Buffer.from(stored.data, 'base64').toString('utf8')).not.toContain(justification);

      const preflight = await world.call('OPTIONS', '/codec/decode', {
        headers: {
          origin: UI_ORIGIN,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,x-namespace',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);

      const decoded = await world.call('POST', '/codec/decode', {
        as: PEOPLE.audrey,
        json: { payloads: [stored] },
        headers: { origin: UI_ORIGIN, 'x-namespace': world.config.temporal.namespace },
      });
      expect(decoded.status).toBe(200);
      expect(decoded.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
      const [plain] = decoded.body.payloads as Array<{ metadata: Record<string, string>; data: string }>;
      expect(Buffer.from(plain.metadata.encoding, 'base64').toString()).toBe('json/plain');
      expect(JSON.parse(Buffer.from(plain.data, 'base64').toString())).toMatchObject({ justification });

      // There is no way back: nobody may make payloads that pass for latchkey's.
      const encoded = await world.call('POST', '/codec/encode', { as: PEOPLE.audrey, json: { payloads: [plain] } });
      expect(encoded.status).toBe(404);
    });

    it('refuses without a token, without the auditor or admin role, and from an origin it does not know', async () => {
      const body = { payloads: [] };
      expect((await world.call('POST', '/codec/decode', { json: body })).status).toBe(401);
      expect((await world.call('POST', '/codec/decode', { as: PEOPLE.alice, json: body })).status).toBe(403);
      expect((await world.call('POST', '/codec/decode', { as: PEOPLE.bob, json: body })).status).toBe(403);
      const foreign = await world.call('POST', '/codec/decode', {
        as: PEOPLE.audrey,
        json: body,
        headers: { origin: 'https://evil.example.com' },
      });
      expect(foreign.status).toBe(403);
      expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
      const preflight = await world.call('OPTIONS', '/codec/decode', {
        headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
      });
      expect(preflight.status).toBe(403);
    });

    it('lets a browser without a bearer token use a session cookie made from an auditor token', async () => {
      const page = await world.call('GET', '/codec/session');
      expect(page.status).toBe(200);
      expect(page.text).toContain('<form method="post" action="/codec/session">');

      const token = await world.token(PEOPLE.audrey);
      const session = await world.call('POST', '/codec/session', {
        rawBody: `token=${token}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(session.status).toBe(200);
      expect(session.text).not.toContain(token);
      const cookie = session.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/^latchkey_codec=[^;]+; Path=\/codec; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
      // A sealed session of an hour at most, not the token (which would open every route).
      expect(cookie).not.toContain(token.split('.')[1]);
      expect(Number(/Max-Age=(\d+)/.exec(cookie)?.[1])).toBeLessThanOrEqual(3600);

      const decoded = await world.call('POST', '/codec/decode', {
        json: { payloads: [] },
        headers: { cookie: cookie.split(';')[0], origin: UI_ORIGIN },
      });
      expect(decoded.status).toBe(200);

      const requester = await world.call('POST', '/codec/session', {
        rawBody: `token=${await world.token(PEOPLE.alice)}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(requester.status).toBe(403);
      expect(requester.headers.get('set-cookie')).toBeNull();
      const forged = await world.call('POST', '/codec/decode', {
        json: { payloads: [] },
        headers: { cookie: 'latchkey_codec=a.b.c' },
      });
      expect(forged.status).toBe(401);
    });

    it('refuses malformed and tampered payloads with a 400', async () => {
      const malformed = await world.call('POST', '/codec/decode', { as: PEOPLE.audrey, json: { payloads: 'x' } });
      expect(malformed.status).toBe(400);
      const created = await world.call('POST', '/v1/requests', {
        as: PEOPLE.alice,
        json: { resourceId: 'prod-db', duration: 'PT1H', justification },
      });
      const stored = await storedInputPayload(created.body.requestId as string);
      const bytes = Buffer.from(stored.data, 'base64');
      bytes[bytes.length - 1] ^= 1;
      const tampered = await world.call('POST', '/codec/decode', {
        as: PEOPLE.audrey,
        json: { payloads: [{ ...stored, data: bytes.toString('base64') }] },
      });
      expect(tampered.status).toBe(400);
      expect(tampered.body.error.code).toBe('undecodable');
    });

    it('takes bodies larger than the API limit, up to its own', async () => {
      const created = await world.call('POST', '/v1/requests', {
        as: PEOPLE.alice,
        json: { resourceId: 'prod-db', duration: 'PT1H', justification },
      });
      const stored = await storedInputPayload(created.body.requestId as string);
      const many = Array.from({ length: 400 }, () => stored);
      const decoded = await world.call('POST', '/codec/decode', { as: PEOPLE.audrey, json: { payloads: many } });
      expect(JSON.stringify({ payloads: many }).length).toBeGreaterThan(world.config.api.bodyLimitBytes);
      expect(decoded.status).toBe(200);
      expect(decoded.body.payloads).toHaveLength(400);
    });
  });

  describe('emergency revoke', () => {
    it('revokes every active grant of a requester, for admins only, and reports what it did', async () => {
      const first = await activeRequest(PEOPLE.frank);
      const second = await activeRequest(PEOPLE.frank);
      const aliceOwn = await activeRequest(PEOPLE.alice);
      await world.eventually(
        () => world.call('GET', '/v1/requests?status=ACTIVE&requester=frank', { as: PEOPLE.audrey }),
        (r) => (r.body?.items as unknown[] | undefined)?.length === 2,
      );

      const byAuditor = await world.call('POST', '/v1/admin/revoke', {
        as: PEOPLE.audrey,
        json: { requesterId: 'frank' },
      });
      expect(byAuditor.status).toBe(403);
      const empty = await world.call('POST', '/v1/admin/revoke', { as: PEOPLE.dave, json: {} });
      expect(empty.status).toBe(400);
      const crafted = await world.call('POST', '/v1/admin/revoke', {
        as: PEOPLE.dave,
        json: { requesterId: "frank' OR LatchkeyRequester != '" },
      });
      expect(crafted.status).toBe(400);

      const report = await world.call('POST', '/v1/admin/revoke', {
        as: PEOPLE.dave,
        json: { requesterId: 'frank', reason: 'laptop stolen' },
      });
      expect(report.status).toBe(200);
      expect(report.body.matched).toBe(2);
      expect(report.body.revoked).toBe(2);
      expect((report.body.results as Array<{ requestId: string }>).map((r) => r.requestId).sort()).toEqual(
        [first, second].sort(),
      );

      for (const id of [first, second]) {
        const state = await world.call('GET', `/v1/requests/${id}`, { as: PEOPLE.audrey });
        expect(state.body).toMatchObject({ status: 'REVOKED', revocation: { by: 'dave', comment: 'laptop stolen' } });
      }
      expect((await world.call('GET', `/v1/requests/${aliceOwn}`, { as: PEOPLE.audrey })).body.status).toBe('ACTIVE');
    });
  });
  describe('when the worker is down (last: these tests stop it)', () => {
    it('answers 503 after a bounded wait instead of holding the request, and stays ready', async () => {
      const id = await activeRequest();
      await world.stopWorker();
      const started = Date.now();
      const response = await world.call('GET', `/v1/requests/${id}`, { as: PEOPLE.alice });
      expect(response.status).toBe(503);
      expect(response.body.error.code).toBe('unavailable');
      expect(response.headers.get('retry-after')).toBe('5');
      expect(Date.now() - started).toBeLessThan(20_000);
      expect((await world.call('GET', '/readyz')).status).toBe(200);
    }, 40_000);

    it('shuts down gracefully: a request in flight gets its answer, new connections are refused', async () => {
      const id = await world.eventually(
        () => world.call('GET', '/v1/requests?mine=true', { as: PEOPLE.alice }),
        (r) => (r.body?.items as unknown[] | undefined)?.length !== 0,
      );
      const requestId = (id.body.items as Array<{ requestId: string }>)[0].requestId;
      // With the worker stopped, this query waits for its deadline: it is in flight while we close.
      const inFlight = world.call('GET', `/v1/requests/${requestId}`, { as: PEOPLE.alice });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const closing = world.closeApp();
      await new Promise((resolve) => setTimeout(resolve, 300));
      await expect(fetch(`${world.baseUrl}/healthz`)).rejects.toThrow();
      const answered = await inFlight;
      expect(answered.status).toBe(503);
      expect(answered.body).toEqual({ error: expect.objectContaining({ code: 'unavailable' }) });
      await closing;
    }, 40_000);
  });
});
