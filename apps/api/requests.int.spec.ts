import { ApiWorld, PEOPLE } from '../../test/support/api-world';

const justification = 'Investigating INC-4211: slow queries on orders';

interface Summary {
  requestId: string;
  status?: string;
  breakGlass?: string;
  grantEndsAt?: string;
}

describe('latchkey API over HTTP against a real Temporal dev server and worker', () => {
  let world: ApiWorld;

  beforeAll(async () => {
    world = await ApiWorld.create('api-requests');
  }, 120_000);
  afterAll(async () => {
    await world?.dispose();
  }, 60_000);

  it('runs the happy path: create, approve, grant, read the grant, revoke, audit', async () => {
    const resources = await world.call('GET', '/v1/resources', { as: PEOPLE.alice });
    expect(resources.status).toBe(200);
    const prodDb = (resources.body as Array<{ id: string; flow: { name: string; maxDuration: string } }>).find(
      (resource) => resource.id === 'prod-db',
    );
    expect(prodDb?.flow).toMatchObject({ name: 'prod-access', maxDuration: 'PT8H' });

    const created = await world.call('POST', '/v1/requests', {
      as: PEOPLE.alice,
      json: { resourceId: 'prod-db', duration: 'PT2H', justification },
    });
    expect(created.status).toBe(201);
    const id = created.body.requestId as string;
    expect(id).toMatch(/^req_[0-9a-z]{26}$/);
    expect(created.body).toMatchObject({ status: 'PENDING_APPROVAL', requesterId: 'alice', durationMs: 7_200_000 });
    expect(created.headers.get('location')).toBe(`${world.config.api.publicUrl}/v1/requests/${id}`);
    // The create answers without asking the workflow, with the state the workflow starts from: read at once,
    // before anything happens to the request, it is the same to the millisecond.
    expect((await world.call('GET', `/v1/requests/${id}`, { as: PEOPLE.alice })).body).toEqual(created.body);

    const waiting = await world.eventually(
      () => world.call('GET', '/v1/requests?pendingMyApproval=true', { as: PEOPLE.bob }),
      (r) => (r.body?.items as Summary[] | undefined)?.some((item) => item.requestId === id) ?? false,
    );
    expect(waiting.body.items).toContainEqual(expect.objectContaining({ requestId: id, status: 'PENDING_APPROVAL' }));

    const approved = await world.call('POST', `/v1/requests/${id}/approve`, {
      as: PEOPLE.bob,
      json: { comment: 'OK for the incident' },
    });
    expect(approved.status).toBe(200);
    expect(approved.body.approvals).toEqual([
      expect.objectContaining({ approverId: 'bob', comment: 'OK for the incident' }),
    ]);

    const active = await world.eventually(
      () => world.call('GET', `/v1/requests/${id}`, { as: PEOPLE.alice }),
      (r) => r.body?.status === 'ACTIVE',
    );
    expect(active.body.grant).toMatchObject({ guarantee: { mode: 'share-link' } });
    // The list's summary says what the request says, each field read from its own search attribute.
    const listed = await world.eventually(
      () => world.call('GET', '/v1/requests?mine=true', { as: PEOPLE.alice }),
      (r) =>
        (r.body?.items as Summary[] | undefined)?.some((item) => item.requestId === id && item.grantEndsAt) ?? false,
    );
    expect((listed.body.items as Summary[]).find((item) => item.requestId === id)).toEqual({
      requestId: id,
      status: 'ACTIVE',
      requesterId: 'alice',
      resourceId: 'prod-db',
      integration: active.body.integration,
      grantEndsAt: active.body.grant.endsAt,
      startedAt: expect.any(String),
    });

    const grant = await world.call('GET', `/v1/requests/${id}/grant`, { as: PEOPLE.alice });
    expect(grant.status).toBe(200);
    expect(grant.body).toMatchObject({
      mode: 'share-link',
      accessDetails: 'Connect through the bastion: ssh bastion.example.com, then psql.',
      guarantee: { mode: 'share-link' },
    });
    expect(grant.body.shareUrl).toMatch(/^https:\/\//);
    expect(grant.headers.get('cache-control')).toBe('no-store');
    const shareUrl = grant.body.shareUrl as string;

    const revoked = await world.call('POST', `/v1/requests/${id}/revoke`, {
      as: PEOPLE.alice,
      json: { reason: 'done with the incident' },
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ status: 'REVOKED', revocation: { by: 'alice' } });

    const afterRevoke = await world.call('GET', `/v1/requests/${id}/grant`, { as: PEOPLE.alice });
    expect(afterRevoke.status).toBe(410);
    expect(afterRevoke.body.error.code).toBe('grant-ended');

    const audit = await world.call('GET', `/v1/requests/${id}/audit`, { as: PEOPLE.audrey });
    expect(audit.status).toBe(200);
    const entries = audit.body.entries as Array<{ kind: string; actor?: string; summary: string }>;
    expect(entries[0]).toMatchObject({ kind: 'requested', actor: 'alice' });
    expect(entries).toContainEqual(
      expect.objectContaining({ kind: 'approve', actor: 'bob', summary: 'bob approved: OK for the incident' }),
    );
    expect(entries).toContainEqual(expect.objectContaining({ kind: 'revoke', actor: 'alice' }));
    expect(entries).toContainEqual(expect.objectContaining({ kind: 'closed', summary: 'the request ended REVOKED' }));
    // The audit is for auditors: it never carries the share link or anyone's e-mail address.
    expect(audit.text).not.toContain(shareUrl);
    expect(audit.text).not.toContain('@example.com');

    // Neither the link, the tokens nor the e-mail addresses ever reach a log line.
    const logs = world.logLines.join('\n');
    expect(logs).toContain('"route":"/v1/requests/:id/grant","status":200');
    expect(logs).not.toContain(shareUrl);
    expect(logs).not.toContain('@example.com');
    expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  }, 90_000);

  it('returns the same request for the same Idempotency-Key, and starts one workflow for it', async () => {
    const before = await world.requestCount();
    const send = () =>
      world.call('POST', '/v1/requests', {
        as: PEOPLE.alice,
        json: { resourceId: 'prod-db', duration: 'PT1H', justification },
        headers: { 'Idempotency-Key': 'alice-retry-0001' },
      });
    const [first, second] = await Promise.all([send(), send()]);
    expect([first.status, second.status].sort()).toEqual([200, 201]);
    expect(second.body.requestId).toBe(first.body.requestId);
    const third = await send();
    expect(third.status).toBe(200);
    expect(third.headers.get('idempotent-replayed')).toBe('true');
    expect(third.body.requestId).toBe(first.body.requestId);
    expect(
      await world.eventually(
        () => world.requestCount(),
        (n) => n === before + 1,
      ),
    ).toBe(before + 1);

    // The same key from someone else is a different request.
    const frank = await world.call('POST', '/v1/requests', {
      as: PEOPLE.frank,
      json: { resourceId: 'prod-db', duration: 'PT1H', justification },
      headers: { 'Idempotency-Key': 'alice-retry-0001' },
    });
    expect(frank.status).toBe(201);
    expect(frank.body.requestId).not.toBe(first.body.requestId);

    // The same key for a different resource is a client mistake, not a retry.
    const reused = await world.call('POST', '/v1/requests', {
      as: PEOPLE.alice,
      json: { resourceId: 'staging-db', duration: 'PT1H', justification },
      headers: { 'Idempotency-Key': 'alice-retry-0001' },
    });
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe('idempotency-key-reused');
  }, 60_000);

  it('grants an automatic flow without approval', async () => {
    const created = await world.call('POST', '/v1/requests', {
      as: PEOPLE.alice,
      json: { resourceId: 'staging-db', duration: 'PT30M', justification: 'Reproducing a staging bug' },
    });
    expect(created.status).toBe(201);
    const id = created.body.requestId as string;
    const active = await world.eventually(
      () => world.call('GET', `/v1/requests/${id}/grant`, { as: PEOPLE.alice }),
      (r) => r.status === 200,
    );
    expect(active.body.mode).toBe('share-link');
  }, 60_000);

  it('break-glass: granted at once, found and ratified by security, refused where not offered and past the per-person limit', async () => {
    // Someone with no other break-glass in this file: the demo flow allows two in 30 days.
    const hana = { sub: 'hana', email: 'hana@example.com', groups: ['engineering'] };
    const breakGlass = {
      resourceId: 'prod-db',
      breakGlass: true,
      justification: 'INC-99: orders down, nobody answers',
    };
    // What is offered is said up front, with the flow.
    const offered = await world.call('GET', '/v1/resources/prod-db', { as: hana });
    expect(offered.body.flow.breakGlass).toEqual({
      maxDuration: 'PT1H',
      ratifyWithin: 'PT30M',
      ratifiers: [{ kind: 'group', id: 'security' }],
      onNotRatified: 'end-and-rotate',
    });
    const first = await world.call('POST', '/v1/requests', { as: hana, json: { ...breakGlass, duration: 'PT30M' } });
    expect(first.status).toBe(201);
    const id = first.body.requestId as string;
    const granted = await world.eventually(
      () => world.call('GET', `/v1/requests/${id}`, { as: hana }),
      (r) => r.body?.status === 'ACTIVE',
    );
    expect(granted.body.approvals).toEqual([]);
    expect(Date.parse(granted.body.breakGlass.ratifyBy as string)).toBeGreaterThan(Date.now());
    // Security finds it among what waits for them, marked; the grant reaches its requester.
    const inbox = await world.eventually(
      () => world.call('GET', '/v1/requests?pendingMyApproval=true', { as: PEOPLE.bob }),
      (r) => (r.body?.items as Summary[] | undefined)?.some((item) => item.requestId === id) === true,
    );
    expect((inbox.body.items as Summary[]).find((item) => item.requestId === id)).toMatchObject({
      breakGlass: 'awaiting-ratification',
    });
    expect((await world.call('GET', `/v1/requests/${id}/grant`, { as: hana })).status).toBe(200);
    const ratified = await world.call('POST', `/v1/requests/${id}/approve`, {
      as: PEOPLE.bob,
      json: { comment: 'INC-99 is real' },
    });
    expect(ratified.status).toBe(200);
    expect(ratified.body.breakGlass.ratification).toMatchObject({ by: 'bob', comment: 'INC-99 is real' });

    const staging = await world.call('POST', '/v1/requests', {
      as: hana,
      json: { ...breakGlass, resourceId: 'staging-db' },
    });
    expect(staging.status).toBe(422);
    expect(staging.body.error).toMatchObject({ code: 'break-glass-unavailable' });

    expect((await world.call('POST', '/v1/requests', { as: hana, json: breakGlass })).status).toBe(201);
    // Counted through visibility, which lags the starts by a moment.
    await world.eventually(
      () => world.call('GET', '/v1/requests?mine=true', { as: hana }),
      (r) => (r.body?.items as Summary[] | undefined)?.filter((item) => item.breakGlass).length === 2,
    );
    const third = await world.call('POST', '/v1/requests', { as: hana, json: breakGlass });
    expect(third.status).toBe(429);
    expect(third.body.error).toMatchObject({ code: 'break-glass-limit', details: { limit: 2, per: 'P30D' } });
    // An ordinary request for the same resource is still possible.
    expect(
      (await world.call('POST', '/v1/requests', { as: hana, json: { ...breakGlass, breakGlass: false } })).status,
    ).toBe(201);
  }, 90_000);

  it('schedules access: approved ahead, waiting for its start, cancellable until then; refuses a start in the past', async () => {
    const startAt = new Date(Date.now() + 3_600_000).toISOString();
    const created = await world.call('POST', '/v1/requests', {
      as: PEOPLE.alice,
      json: { resourceId: 'prod-db', duration: 'PT1H', justification, startAt },
    });
    expect(created.status).toBe(201);
    expect(created.body.scheduledStart).toBe(startAt);
    const id = created.body.requestId as string;
    const approved = await world.call('POST', `/v1/requests/${id}/approve`, { as: PEOPLE.bob, json: {} });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('APPROVED');
    expect(approved.body.grant).toBeUndefined();
    expect((await world.call('GET', `/v1/requests/${id}/grant`, { as: PEOPLE.alice })).status).toBe(409);
    const cancelled = await world.call('POST', `/v1/requests/${id}/cancel`, { as: PEOPLE.alice, json: {} });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('CANCELLED');

    // Malformed (no time zone): 400; well-formed but refused for when it falls: 422.
    for (const [bad, status] of [
      [{ startAt: new Date(Date.now() - 60_000).toISOString() }, 422],
      [{ startAt: '2026-12-01T22:00:00' }, 400],
      [{ startAt: new Date(Date.now() + 31 * 86_400_000).toISOString() }, 422],
      [{ startAt, breakGlass: true }, 422],
    ] as const) {
      const refused = await world.call('POST', '/v1/requests', {
        as: PEOPLE.alice,
        json: { resourceId: 'prod-db', duration: 'PT1H', justification, ...bad },
      });
      expect(refused.status).toBe(status);
    }
  }, 60_000);

  it('lets a requester withdraw a pending request, and answers 409 to an approval after that', async () => {
    const created = await world.call('POST', '/v1/requests', {
      as: PEOPLE.alice,
      json: { resourceId: 'prod-db', duration: 'PT1H', justification },
    });
    const id = created.body.requestId as string;
    const cancelled = await world.call('POST', `/v1/requests/${id}/cancel`, { as: PEOPLE.alice, json: {} });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('CANCELLED');
    const late = await world.call('POST', `/v1/requests/${id}/approve`, { as: PEOPLE.bob, json: {} });
    expect(late.status).toBe(409);
    const grant = await world.call('GET', `/v1/requests/${id}/grant`, { as: PEOPLE.alice });
    expect(grant.status).toBe(410);
  }, 60_000);

  it('rejects with a comment, and answers 409 to a second decision', async () => {
    const created = await world.call('POST', '/v1/requests', {
      as: PEOPLE.alice,
      json: { resourceId: 'prod-db', duration: 'PT1H', justification },
    });
    const id = created.body.requestId as string;
    const pendingGrant = await world.call('GET', `/v1/requests/${id}/grant`, { as: PEOPLE.alice });
    expect(pendingGrant.status).toBe(409);
    expect(pendingGrant.body.error.code).toBe('not-granted');
    const rejected = await world.call('POST', `/v1/requests/${id}/reject`, {
      as: PEOPLE.carol,
      json: { comment: 'Use the read replica' },
    });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({
      status: 'REJECTED',
      rejection: { by: 'carol', comment: 'Use the read replica' },
    });
    const again = await world.call('POST', `/v1/requests/${id}/approve`, { as: PEOPLE.bob, json: {} });
    expect(again.status).toBe(409);
  }, 60_000);

  it('lists with filters and pages through results with pageToken', async () => {
    // Someone with no other requests in this file, so the pages hold exactly what this test made.
    const gina = { sub: 'gina', email: 'gina@example.com', groups: ['engineering'] };
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await world.call('POST', '/v1/requests', {
        as: gina,
        json: { resourceId: 'prod-db', duration: 'PT1H', justification },
      });
      made.push(created.body.requestId as string);
    }
    const first = await world.eventually(
      () => world.call('GET', '/v1/requests?mine=true&pageSize=2', { as: gina }),
      (r) => r.body?.nextPageToken !== undefined,
    );
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    const second = await world.call(
      'GET',
      `/v1/requests?mine=true&pageSize=2&pageToken=${first.body.nextPageToken as string}`,
      { as: gina },
    );
    expect(second.status).toBe(200);
    const seen = [...(first.body.items as Summary[]), ...(second.body.items as Summary[])].map(
      (item) => item.requestId,
    );
    expect(seen.sort()).toEqual([...made].sort());

    const rejectedOne = await world.call('POST', `/v1/requests/${made[0]}/reject`, { as: PEOPLE.carol, json: {} });
    expect(rejectedOne.status).toBe(200);
    const rejected = await world.eventually(
      () => world.call('GET', '/v1/requests?status=REJECTED&requester=gina', { as: PEOPLE.audrey }),
      (r) => (r.body?.items as Summary[] | undefined)?.length === 1,
    );
    expect(rejected.body.items).toEqual([expect.objectContaining({ requestId: made[0], status: 'REJECTED' })]);

    const forged = await world.call('GET', '/v1/requests?pageToken=AAAA', { as: gina });
    expect(forged.status).toBe(422);
    expect(forged.body.error.code).toBe('invalid-page-token');
  }, 60_000);

  it('extends an active grant past its share link with a new link, and refuses an extension beyond the flow', async () => {
    const created = await world.call('POST', '/v1/requests', {
      as: PEOPLE.alice,
      json: { resourceId: 'staging-db', duration: 'PT30M', justification: 'Reproducing a staging bug' },
    });
    const id = created.body.requestId as string;
    await world.eventually(
      () => world.call('GET', `/v1/requests/${id}`, { as: PEOPLE.alice }),
      (r) => r.body?.status === 'ACTIVE',
    );
    const tooLong = await world.call('POST', `/v1/requests/${id}/extend`, {
      as: PEOPLE.alice,
      json: { duration: 'PT5H' },
    });
    expect(tooLong.status).toBe(422);
    const before = await world.call('GET', `/v1/requests/${id}/grant`, { as: PEOPLE.alice });
    // Thirty minutes on a one-hour link, plus an hour: the link expires first, so a new one is made.
    const extended = await world.call('POST', `/v1/requests/${id}/extend`, {
      as: PEOPLE.alice,
      json: { duration: 'PT1H', justification: 'Still reproducing' },
    });
    expect(extended.status).toBe(200);
    expect(extended.body.status).toBe('ACTIVE');
    const linkExpiresAt = extended.body.extensions[0].linkExpiresAt as string;
    expect(extended.body.grant.providerExpiresAt).toBe(linkExpiresAt);
    const after = await world.call('GET', `/v1/requests/${id}/grant`, { as: PEOPLE.alice });
    expect(after.body).toMatchObject({ providerExpiresAt: linkExpiresAt, endsAt: extended.body.grant.endsAt });
    expect(after.body.shareUrl).not.toBe(before.body.shareUrl);
  }, 60_000);

  it('serves health, readiness, metrics, the OpenAPI document and the docs page', async () => {
    expect((await world.call('GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await world.call('GET', '/readyz')).body).toEqual({ status: 'ready' });

    const metrics = await world.call('GET', '/metrics', { as: PEOPLE.audrey });
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/latchkey_api_requests_created_total \d+/);
    expect(metrics.text).toMatch(/latchkey_api_requests_approved_total [1-9]/);
    expect(metrics.text).toMatch(/latchkey_api_requests_revoked_total [1-9]/);
    expect(metrics.text).toContain(
      'latchkey_api_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/v1/requests",status="201"}',
    );
    expect((await world.call('GET', '/metrics', { as: PEOPLE.alice })).status).toBe(403);

    const openapi = await world.call('GET', '/openapi.json');
    expect(openapi.status).toBe(200);
    expect(Object.keys(openapi.body.paths as object)).toEqual(
      expect.arrayContaining([
        '/v1/requests',
        '/v1/requests/{id}/approve',
        '/v1/requests/{id}/grant',
        '/v1/resources',
        '/v1/me',
      ]),
    );
    const docs = await world.call('GET', '/docs');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('swagger-ui');
    expect((await world.call('GET', '/docs/assets/swagger-ui-bundle.js')).status).toBe(200);
    expect((await world.call('GET', '/docs/assets/..%2Fpackage.json')).status).toBe(404);
  }, 30_000);

  it('puts a request id on every response: its own, or a well-formed one the client sent', async () => {
    const generated = await world.call('GET', '/healthz');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const accepted = await world.call('GET', '/v1/me', {
      as: PEOPLE.alice,
      headers: { 'X-Request-Id': 'client-trace-123' },
    });
    expect(accepted.headers.get('x-request-id')).toBe('client-trace-123');
    const refused = await world.call('GET', '/healthz', { headers: { 'X-Request-Id': 'bad id with spaces' } });
    expect(refused.headers.get('x-request-id')).not.toBe('bad id with spaces');
    const failed = await world.call('GET', '/v1/nowhere', { as: PEOPLE.alice });
    expect(failed.status).toBe(404);
    expect(failed.headers.get('x-request-id')).toBeTruthy();
    expect(world.logLines.some((line) => line.includes('"requestId":"client-trace-123"'))).toBe(true);
  });

  it('says who the token says the caller is', async () => {
    const me = await world.call('GET', '/v1/me', { as: PEOPLE.dave });
    expect(me.body).toEqual({ id: 'dave', email: 'dave@example.com', groups: ['security-leads'], roles: ['admin'] });
  });
});
