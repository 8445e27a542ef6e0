import type { Caller } from '../identity/caller';
import { ApiError } from '../errors/api-error';
import { buildListQuery, type ListFilter } from './visibility-query';

const scope = { workflowType: 'accessRequestWorkflow', taskQueue: 'latchkey-test' };
const alice: Caller = { identity: { id: 'alice', email: 'alice@example.com', groups: ['engineering'] }, roles: [] };
const auditor: Caller = { identity: { id: 'audrey', email: 'audrey@example.com', groups: [] }, roles: ['auditor'] };

function sut(caller: Caller, filter: ListFilter): string {
  return buildListQuery(scope, caller, filter);
}

describe(buildListQuery.name, () => {
  it('limits a caller without a read-all role to their own requests, those waiting for them and those they decided', () => {
    expect(sut(alice, {})).toBe(
      "WorkflowType = 'accessRequestWorkflow' AND TaskQueue = 'latchkey-test' AND " +
        "(LatchkeyRequester = 'alice' OR LatchkeyPendingApprovers IN ('user:alice', 'group:engineering') " +
        "OR LatchkeyDeciders = 'user:alice')",
    );
  });

  it('finds what the caller decided, and requests made in a time window, as instants the server writes', () => {
    const query = sut(auditor, {
      decidedByMe: true,
      requestedAfter: '2026-11-30T10:00:00+01:00',
      requestedBefore: '2026-11-30T12:00:00Z',
    });
    expect(query).toContain("LatchkeyDeciders = 'user:audrey'");
    expect(query).toContain("StartTime >= '2026-11-30T09:00:00.000Z' AND StartTime < '2026-11-30T12:00:00.000Z'");
  });

  it('refuses a time that is not one, whatever the DTO let through', () => {
    expect(() => sut(auditor, { requestedAfter: "' OR 1=1" })).toThrow(ApiError);
  });

  it('accepts a caller whose id is a subject digest (a provider subject that is not a plain id)', () => {
    const digest: Caller = { ...alice, identity: { ...alice.identity, id: '~mfrggzdfmztwq2lknnwg23tpob' } };
    expect(sut(digest, { requester: '~mfrggzdfmztwq2lknnwg23tpob' })).toContain(
      "(LatchkeyRequester = '~mfrggzdfmztwq2lknnwg23tpob' OR LatchkeyPendingApprovers IN ('user:~mfrggzdfmztwq2lknnwg23tpob', 'group:engineering') OR LatchkeyDeciders = 'user:~mfrggzdfmztwq2lknnwg23tpob')",
    );
  });

  it('keeps that limit when filters name someone else: filters only narrow', () => {
    const query = sut(alice, { requester: 'bob', status: 'ACTIVE' });
    expect(query).toContain("(LatchkeyRequester = 'alice' OR LatchkeyPendingApprovers IN");
    expect(query).toContain("LatchkeyRequester = 'bob'");
    expect(query).toContain("LatchkeyStatus = 'ACTIVE'");
  });

  it('lets an auditor list everything, filtered as asked', () => {
    expect(sut(auditor, { resourceId: 'prod-db', pendingMyApproval: false })).toBe(
      "WorkflowType = 'accessRequestWorkflow' AND TaskQueue = 'latchkey-test' AND LatchkeyResource = 'prod-db'",
    );
  });

  it('turns mine and pendingMyApproval into clauses on the caller', () => {
    const query = sut(auditor, { mine: true, pendingMyApproval: true });
    expect(query).toContain("LatchkeyRequester = 'audrey'");
    expect(query).toContain("LatchkeyPendingApprovers IN ('user:audrey')");
  });

  it.each([
    ['a quote closing the literal', { resourceId: "prod-db' OR LatchkeyRequester != '" }],
    ['an OR in the requester', { requester: "x' OR '1'='1" }],
    ['a status outside the enum', { status: "ACTIVE' OR 'a'='a" as never }],
    ['a backslash escape', { resourceId: 'prod\\' }],
    ['spaces and operators', { requester: 'alice OR 1=1' }],
    ['an empty value', { resourceId: '' }],
  ])('refuses %s with a 400 instead of building a query', (_what, filter: ListFilter) => {
    let thrown: unknown;
    try {
      sut(alice, filter);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ApiError);
    expect((thrown as ApiError).status).toBe(400);
  });

  it('refuses a caller id that could break the query, even though tokens are checked earlier', () => {
    const forged: Caller = { identity: { id: "x' OR 'a'='a", email: 'x@example.com', groups: [] }, roles: [] };
    expect(() => sut(forged, {})).toThrow(ApiError);
    const badGroup: Caller = { identity: { id: 'x', email: 'x@example.com', groups: ["g') OR ('a"] }, roles: [] };
    expect(() => sut(badGroup, {})).toThrow(ApiError);
  });
});
