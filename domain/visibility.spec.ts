import { SA_DECIDERS, SA_PENDING_APPROVERS } from '../contracts/search-attributes';
import { people, snapshot } from '../test/support/snapshots';
import { decidersOf, searchAttributesOf, type VisibleState } from './visibility';

const base = {
  status: 'PENDING_APPROVAL',
  requesterId: 'alice',
  resourceId: 'prod-db',
  integration: 'local',
  currentTier: 0,
} as const;

describe(decidersOf.name, () => {
  it('names each person who approved, rejected, ratified or refused, once', () => {
    expect(
      decidersOf({
        ...base,
        approvals: [
          { approverId: 'bob', at: '2026-11-30T10:00:00Z', tier: 0 },
          { approverId: 'carol', at: '2026-11-30T10:01:00Z', tier: 1 },
        ],
        rejection: { by: 'bob', at: '2026-11-30T10:02:00Z' },
        breakGlass: { ratifyBy: '2026-11-30T11:00:00Z', ratification: { by: 'dave', at: '2026-11-30T10:03:00Z' } },
      }),
    ).toEqual(['user:bob', 'user:carol', 'user:dave']);
  });

  it('leaves out latchkey itself (a deadline that refused a break-glass grant)', () => {
    const refusal = { by: 'system:break-glass-not-ratified', at: '2026-11-30T11:00:00Z' };
    expect(decidersOf({ ...base, breakGlass: { ratifyBy: '2026-11-30T11:00:00Z', refusal } })).toEqual([]);
  });
});

describe(searchAttributesOf.name, () => {
  const active: VisibleState = {
    ...base,
    status: 'ACTIVE',
    approvals: [{ approverId: people.alice.id, at: '2026-11-30T10:00:00Z', tier: 0 }],
    pendingExtension: { requestedBy: 'alice', at: '2026-11-30T11:00:00Z', addedMs: 3_600_000, approvals: [] },
  };
  const value = (
    state: Parameters<typeof searchAttributesOf>[1],
    decisionsFindable?: boolean,
    key = SA_PENDING_APPROVERS,
  ) => searchAttributesOf(snapshot(), state, { decisionsFindable }).find((pair) => pair.key.name === key.name)?.value;

  it("lists an extension's approvers while it waits for approval, so that it shows in their inbox", () => {
    expect(value(active)).toEqual([`user:${people.alice.id}`]);
    // Approved, its new link being made: nobody is asked any more.
    expect(
      value({ ...active, pendingExtension: { ...active.pendingExtension!, makingLinkSince: '2026-11-30T11:01:00Z' } }),
    ).toBeNull();
  });

  it('publishes neither for a request started before the patch', () => {
    expect(value(active, false)).toBeNull();
    expect(value(active, false, SA_DECIDERS)).toBeUndefined();
    expect(value(active, true, SA_DECIDERS)).toEqual([`user:${people.alice.id}`]);
  });
});
