import { ApiWorld, PEOPLE } from './testing/api-world';

const justification = 'Investigating INC-4211: slow queries on orders';

describe('latchkey API over HTTP: the happy path', () => {
  let world: ApiWorld;

  beforeAll(async () => {
    world = await ApiWorld.create('api-happy');
  }, 120_000);
  afterAll(async () => {
    await world?.dispose();
  }, 60_000);

  it('creates, approves, grants, reads the grant, revokes and audits a request', async () => {
    const resources = await world.call('GET', '/v1/resources', { as: PEOPLE.alice });
    expect(resources.status).toBe(200);
    expect(resources.body.map((resource: { id: string }) => resource.id)).toContain('prod-db');

    const created = await world.call('POST', '/v1/requests', {
      as: PEOPLE.alice,
      json: { resourceId: 'prod-db', duration: 'PT2H', justification },
    });
    expect(created.status).toBe(201);
    console.log(JSON.stringify(created.body, null, 1));
    const id = created.body.requestId as string;
    expect(created.headers.get('location')).toBe(`${world.config.api.publicUrl}/v1/requests/${id}`);

    const approved = await world.call('POST', `/v1/requests/${id}/approve`, {
      as: PEOPLE.bob,
      json: { comment: 'OK for the incident' },
    });
    console.log(JSON.stringify(approved.body, null, 1));
    expect(approved.status).toBe(200);

    const active = await world.eventually(
      () => world.call('GET', `/v1/requests/${id}`, { as: PEOPLE.alice }),
      (r) => r.body?.status === 'ACTIVE',
    );
    expect(active.body.status).toBe('ACTIVE');

    const grant = await world.call('GET', `/v1/requests/${id}/grant`, { as: PEOPLE.alice });
    console.log(JSON.stringify(grant.body, null, 1));
    expect(grant.status).toBe(200);

    const revoked = await world.call('POST', `/v1/requests/${id}/revoke`, { as: PEOPLE.alice, json: {} });
    console.log(JSON.stringify(revoked.body, null, 1));
    expect(revoked.status).toBe(200);

    const audit = await world.call('GET', `/v1/requests/${id}/audit`, { as: PEOPLE.audrey });
    console.log(JSON.stringify(audit.body, null, 1));
    expect(audit.status).toBe(200);
    console.log(world.logLines.slice(-10).join('\n'));
  }, 60_000);
});
