import { decidersOf } from './visibility';

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
