import type { Actor } from '../contracts/identity';
import { REFUSAL } from '../contracts/messages';
import type { ApprovalRecord } from '../contracts/request';
import type { ApprovalSpec, FlowSnapshot } from '../contracts/snapshot';
import {
  approvalsRequired,
  checkApprove,
  checkCancel,
  checkExtend,
  checkReject,
  checkRevoke,
  expiryBucketFor,
  grantModeOf,
  guaranteeFor,
  matchedPrincipals,
  nextEscalationAt,
  nextReminderAt,
  pendingApproverKeys,
  revokeBackoffMs,
  thresholdMet,
  tiersActorMayApprove,
} from './decisions';

const HOUR = 3_600_000;
const actor = (id: string, groups: string[] = [], roles: Actor['roles'] = []): Actor => ({ id, groups, roles });
const alice = actor('alice', ['security']);
const carol = actor('carol', ['security']);
const dave = actor('dave', ['security', 'sec-leads']);
const erin = actor('erin', ['sec-leads']);
const bob = actor('bob', ['engineering']);
const root = actor('root', [], ['admin']);

const approval = (overrides: Partial<ApprovalSpec> = {}): ApprovalSpec => ({
  automatic: false,
  allowSelfApproval: false,
  tiers: [
    { approvers: [{ kind: 'user', id: 'alice' }], threshold: { kind: 'any' }, escalateAfterMs: 2 * HOUR },
    { approvers: [{ kind: 'group', id: 'sec-leads' }], threshold: { kind: 'any' } },
  ],
  ...overrides,
});

const flow = (overrides: Partial<FlowSnapshot> = {}): FlowSnapshot => ({
  policyVersion: 'sha256:0',
  flowName: 'f',
  integration: { name: 'demo', kind: 'local' },
  resource: { id: 'r', name: 'R', type: 'item', vaultId: 'v', itemId: 'i' },
  grant: { mode: 'share-link', vaultId: 'v', itemId: 'i', oneTimeView: true, rotateOnRevoke: false },
  approval: approval(),
  durationMs: 8 * HOUR,
  maxDurationMs: 12 * HOUR,
  pendingTimeoutMs: 7 * 24 * HOUR,
  extensions: { maxCount: 1, maxExtensionMs: 3 * HOUR, requireApproval: false },
  ...overrides,
});

function record(who: Actor, spec: ApprovalSpec = approval()): ApprovalRecord {
  return { approverId: who.id, at: '2026-01-01T00:00:00Z', tier: 0, matchedPrincipals: matchedPrincipals(spec, who) };
}

const pending = { status: 'PENDING_APPROVAL' as const, requesterId: 'bob', currentTier: 0, approvals: [] };

describe('who may approve', () => {
  it('only tier 0 approvers before escalation; escalation adds tier 1 and tier 0 keeps its right', () => {
    expect(tiersActorMayApprove(approval(), 0, alice)).toEqual([0]);
    expect(tiersActorMayApprove(approval(), 0, erin)).toEqual([]);
    expect(tiersActorMayApprove(approval(), 1, erin)).toEqual([1]);
    expect(tiersActorMayApprove(approval(), 1, alice)).toEqual([0]);
    expect(pendingApproverKeys(approval(), 0)).toEqual(['user:alice']);
    expect(pendingApproverKeys(approval(), 1)).toEqual(['group:sec-leads', 'user:alice']);
  });

  it('refuses the requester unless the flow allows self-approval', () => {
    const selfFlow = (allow: boolean) =>
      flow({
        approval: approval({
          allowSelfApproval: allow,
          tiers: [{ approvers: [{ kind: 'group', id: 'engineering' }], threshold: { kind: 'any' } }],
        }),
      });
    expect(checkApprove(selfFlow(false), pending, bob)).toEqual({
      ok: false,
      refusal: REFUSAL.forbidden,
      reason: 'the requester may not approve their own request under this flow',
    });
    expect(checkApprove(selfFlow(true), pending, bob)).toEqual({ ok: true, value: 0 });
  });

  it('refuses strangers, a second approval by the same person, and any approval once decided', () => {
    expect(checkApprove(flow(), pending, erin)).toMatchObject({ ok: false, refusal: REFUSAL.forbidden });
    expect(checkApprove(flow(), { ...pending, approvals: [record(alice)] }, alice)).toMatchObject({
      ok: false,
      refusal: REFUSAL.conflict,
    });
    expect(checkApprove(flow(), { ...pending, status: 'ACTIVE' }, alice)).toMatchObject({
      ok: false,
      refusal: REFUSAL.conflict,
    });
    expect(checkApprove(flow(), { ...pending, currentTier: 1 }, erin)).toEqual({ ok: true, value: 1 });
  });

  it('approving a pending extension follows the same rules with its own approvals', () => {
    const active = {
      ...pending,
      status: 'ACTIVE' as const,
      approvals: [record(alice)],
      pendingExtension: { requestedBy: 'bob', at: 'x', addedMs: HOUR, approvals: [] },
    };
    expect(checkApprove(flow(), active, alice)).toEqual({ ok: true, value: 0 });
  });

  it('reject: approvers only, never the requester, not after approving', () => {
    expect(checkReject(flow(), pending, alice)).toEqual({ ok: true, value: undefined });
    expect(checkReject(flow(), pending, bob)).toMatchObject({ refusal: REFUSAL.forbidden });
    expect(checkReject(flow(), { ...pending, approvals: [record(alice)] }, alice)).toMatchObject({
      refusal: REFUSAL.conflict,
    });
  });
});

describe('thresholds', () => {
  const users = (...ids: string[]) => ids.map((id) => ({ kind: 'user' as const, id }));

  it('any-of: one approval', () => {
    expect(thresholdMet(approval(), 0, [])).toBe(false);
    expect(thresholdMet(approval(), 0, [record(alice)])).toBe(true);
  });

  it('N of M: two of three, distinct people', () => {
    const spec = approval({
      tiers: [{ approvers: users('alice', 'carol', 'dave'), threshold: { kind: 'atLeast', count: 2 } }],
    });
    expect(approvalsRequired(spec, 0)).toBe(2);
    expect(thresholdMet(spec, 0, [record(alice, spec)])).toBe(false);
    expect(thresholdMet(spec, 0, [record(alice, spec), record(alice, spec)])).toBe(false);
    expect(thresholdMet(spec, 0, [record(alice, spec), record(carol, spec)])).toBe(true);
  });

  it('all-of: one approval per listed principal, and one person cannot stand for two groups', () => {
    const spec = approval({
      tiers: [
        {
          approvers: [
            { kind: 'group', id: 'security' },
            { kind: 'group', id: 'sec-leads' },
          ],
          threshold: { kind: 'all' },
        },
      ],
    });
    expect(approvalsRequired(spec, 0)).toBe(2);
    // dave is in both groups: alone he covers only one of them.
    expect(thresholdMet(spec, 0, [record(dave, spec)])).toBe(false);
    // dave then erin: erin covers sec-leads, so dave is matched to security.
    expect(thresholdMet(spec, 0, [record(dave, spec), record(erin, spec)])).toBe(true);
    expect(thresholdMet(spec, 0, [record(alice, spec), record(carol, spec)])).toBe(false);
  });

  it('an escalated tier can decide the request on its own', () => {
    expect(thresholdMet(approval(), 0, [record(erin)])).toBe(false);
    expect(thresholdMet(approval(), 1, [record(erin)])).toBe(true);
  });

  it('automatic flows need nothing', () => {
    expect(approvalsRequired(approval({ automatic: true, tiers: [] }), 0)).toBe(0);
    expect(thresholdMet(approval({ automatic: true, tiers: [] }), 0, [])).toBe(true);
  });
});

describe('share-link expiry buckets', () => {
  it.each([
    [1, '1h'],
    [HOUR, '1h'],
    [HOUR + 1, '1d'],
    [8 * HOUR, '1d'],
    [2 * 24 * HOUR, '7d'],
    [10 * 24 * HOUR, '14d'],
    [30 * 24 * HOUR, '30d'],
  ] as const)('%d ms needs %s', (duration, bucket) => {
    expect(expiryBucketFor(duration)).toEqual({ ok: true, value: bucket });
  });

  it('refuses when the account maximum is shorter than the bucket needed, or beyond 30 days', () => {
    expect(expiryBucketFor(2 * 24 * HOUR, '1d')).toEqual({
      ok: false,
      refusal: REFUSAL.invalid,
      reason: "the account's sharing policy allows links of at most 1d; the duration needs 7d",
    });
    expect(expiryBucketFor(31 * 24 * HOUR)).toMatchObject({ ok: false, refusal: REFUSAL.invalid });
  });
});

describe('cancel, revoke and extend', () => {
  const active = {
    status: 'ACTIVE' as const,
    requesterId: 'bob',
    currentTier: 0,
    durationMs: 8 * HOUR,
    extensions: [],
    grant: {
      grantedAt: '2026-01-01T00:00:00.000Z',
      endsAt: '2026-01-01T08:00:00.000Z',
      guarantee: { mode: 'vault-group' as const, statement: '' },
    },
  };

  it('withdraw: the requester or an admin, while pending', () => {
    expect(checkCancel(pending, bob).ok).toBe(true);
    expect(checkCancel(pending, root).ok).toBe(true);
    expect(checkCancel(pending, alice)).toMatchObject({ refusal: REFUSAL.forbidden });
    expect(checkCancel({ ...pending, status: 'ACTIVE' }, bob)).toMatchObject({ refusal: REFUSAL.conflict });
  });

  it('revoke: requester, approver or admin, while active and not already ending', () => {
    for (const who of [bob, alice, root]) expect(checkRevoke(flow(), active, who).ok).toBe(true);
    expect(checkRevoke(flow(), active, erin)).toMatchObject({ refusal: REFUSAL.forbidden });
    expect(checkRevoke(flow(), { ...active, revocation: { by: 'bob', at: 'x' } }, bob)).toMatchObject({
      refusal: REFUSAL.conflict,
    });
    expect(checkRevoke(flow(), { ...active, status: 'EXPIRED' }, bob)).toMatchObject({ refusal: REFUSAL.conflict });
  });

  it('extend: requester only, within the count, the single maximum and the flow maximum', () => {
    expect(checkExtend(flow(), active, bob, 2 * HOUR)).toEqual({
      ok: true,
      value: { newEndsAt: '2026-01-01T10:00:00.000Z' },
    });
    expect(checkExtend(flow(), active, alice, HOUR)).toMatchObject({ refusal: REFUSAL.forbidden });
    expect(checkExtend(flow(), active, bob, 4 * HOUR)).toMatchObject({ refusal: REFUSAL.invalid });
    expect(checkExtend(flow({ maxDurationMs: 9 * HOUR }), active, bob, 2 * HOUR)).toMatchObject({
      refusal: REFUSAL.invalid,
    });
    const once = { ...active, extensions: [{ by: 'bob', at: 'x', addedMs: HOUR, newEndsAt: 'y' }] };
    expect(checkExtend(flow(), once, bob, HOUR)).toMatchObject({ refusal: REFUSAL.invalid });
    expect(checkExtend(flow(), active, bob, 0)).toMatchObject({ refusal: REFUSAL.invalid });
  });

  it('extend: a share link cannot be extended past its own expiry', () => {
    const link = { ...active, grant: { ...active.grant, providerExpiresAt: '2026-01-01T09:00:00.000Z' } };
    expect(checkExtend(flow(), link, bob, 2 * HOUR)).toMatchObject({ refusal: REFUSAL.invalid });
    expect(checkExtend(flow(), link, bob, HOUR).ok).toBe(true);
  });
});

describe('schedules and guarantees', () => {
  it('reminders every interval from the start, never at or after the deadline', () => {
    expect(nextReminderAt(0, HOUR, 0, 10 * HOUR)).toBe(HOUR);
    expect(nextReminderAt(0, HOUR, HOUR, 10 * HOUR)).toBe(2 * HOUR);
    expect(nextReminderAt(0, HOUR, 9 * HOUR, 10 * HOUR)).toBeUndefined();
    expect(nextReminderAt(0, undefined, 0, 10 * HOUR)).toBeUndefined();
  });

  it('escalation after escalateAfterMs from when the tier was asked, none after the last tier', () => {
    expect(nextEscalationAt(approval(), 0, 1000)).toBe(1000 + 2 * HOUR);
    expect(nextEscalationAt(approval(), 1, 1000)).toBeUndefined();
  });

  it('states each mode’s guarantee honestly', () => {
    expect(
      grantModeOf({ mode: 'share-link', vaultId: 'v', itemId: 'i', oneTimeView: true, rotateOnRevoke: true }),
    ).toBe('rotate-on-revoke');
    expect(guaranteeFor('share-link', 'T1', 'T2').statement).toBe(
      "viewable once, by the requester's e-mail, until T2; a share link cannot be withdrawn early",
    );
    expect(guaranteeFor('vault-group', 'T1').statement).toBe('1Password access removed at T1');
    expect(guaranteeFor('rotate-on-revoke', 'T1', 'T2').statement).toBe('the credential you saw stops working at T1');
  });

  it('revoke backoff doubles from one second and is capped at five minutes', () => {
    expect([1, 2, 3, 4, 5].map((n) => revokeBackoffMs(n))).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(revokeBackoffMs(100)).toBe(300_000);
  });
});
