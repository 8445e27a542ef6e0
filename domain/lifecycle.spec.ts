import { anyOf, DAY, HOUR, people, requestInput, snapshot } from '../test/support/snapshots';
import { stateAtRequest } from './lifecycle';

describe(stateAtRequest.name, () => {
  const madeAt = '2026-12-01T09:00:00.000Z';
  const made = (flow = snapshot()) => ({ ...requestInput(flow), requestedAt: madeAt });

  it("waits for approval until the flow's deadline, counted from the moment the request was made", () => {
    const input = made();
    expect(stateAtRequest(input)).toEqual({
      requestId: input.requestId,
      status: 'PENDING_APPROVAL',
      requesterId: input.requester.id,
      resourceId: 'prod-db-password',
      integration: 'demo',
      flowName: 'prod-secrets',
      policyVersion: input.snapshot.policyVersion,
      justification: 'Investigating incident INC-1234',
      ticket: 'INC-1234',
      requestedAt: madeAt,
      durationMs: 8 * HOUR,
      pendingDeadline: '2026-12-08T09:00:00.000Z',
      currentTier: 0,
      approvalsRequired: 1,
      approvals: [],
      extensions: [],
      updatedAt: madeAt,
    });
  });

  it('counts from another start when told (requests started before their clocks ran from requestedAt)', () => {
    const state = stateAtRequest(made(), Date.parse('2026-12-01T09:00:02.500Z'));
    expect(state).toMatchObject({ pendingDeadline: '2026-12-08T09:00:02.500Z', updatedAt: '2026-12-01T09:00:02.500Z' });
    expect(state.requestedAt).toBe(madeAt);
  });

  it('asks the first tier only, with its own threshold', () => {
    const flow = snapshot({
      approval: {
        automatic: false,
        tiers: [{ ...anyOf(people.alice.id, people.carol.id), threshold: { kind: 'atLeast', count: 2 } }, anyOf('x')],
        allowSelfApproval: false,
      },
    });
    expect(stateAtRequest(made(flow))).toMatchObject({ currentTier: 0, approvalsRequired: 2 });
  });

  it('has no decision deadline when nobody decides: an automatic flow', () => {
    const flow = snapshot({ approval: { automatic: true, tiers: [], allowSelfApproval: false } });
    expect(stateAtRequest(made(flow)).pendingDeadline).toBeUndefined();
  });

  it('gives a break-glass request its ratification deadline and no decision deadline', () => {
    const flow = snapshot({
      breakGlass: { ratifyWithinMs: HOUR / 2, ratifiers: [{ kind: 'group', id: 'sec-leads' }], onNotRatified: 'end' },
    });
    const state = stateAtRequest(made(flow));
    expect(state.pendingDeadline).toBeUndefined();
    expect(state.breakGlass).toEqual({ ratifyBy: '2026-12-01T09:30:00.000Z' });
  });

  it("carries a scheduled request's start", () => {
    const startAt = new Date(Date.parse(madeAt) + DAY).toISOString();
    expect(stateAtRequest({ ...made(), startAt }).scheduledStart).toBe(startAt);
  });
});
