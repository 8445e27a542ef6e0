import { REFUSAL } from '../contracts/messages';
import { alice, bob, dave, erin, flow, HOUR, pending, record, root, approval } from '../test/support/domain-fixtures';
import { pendingApproverKeys, tiersActorMayApprove } from './approval';
import {
  awaitsRatification,
  checkApprove,
  checkCancel,
  checkExtend,
  checkReject,
  checkRevoke,
  decisionTarget,
} from './request-rules';

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

  const renewing = { renewsLink: true, nowMs: Date.parse('2026-01-01T01:00:00.000Z') };

  it('extend: requester only, within the count, the single maximum and the flow maximum', () => {
    expect(checkExtend(flow(), active, bob, 2 * HOUR, renewing)).toEqual({
      ok: true,
      value: { newEndsAt: '2026-01-01T10:00:00.000Z' },
    });
    expect(checkExtend(flow(), active, alice, HOUR, renewing)).toMatchObject({ refusal: REFUSAL.forbidden });
    expect(checkExtend(flow(), active, bob, 4 * HOUR, renewing)).toMatchObject({ refusal: REFUSAL.invalid });
    expect(checkExtend(flow({ maxDurationMs: 9 * HOUR }), active, bob, 2 * HOUR, renewing)).toMatchObject({
      refusal: REFUSAL.invalid,
    });
    const once = { ...active, extensions: [{ by: 'bob', at: 'x', addedMs: HOUR, newEndsAt: 'y' }] };
    expect(checkExtend(flow(), once, bob, HOUR, renewing)).toMatchObject({ refusal: REFUSAL.invalid });
    expect(checkExtend(flow(), active, bob, 0, renewing)).toMatchObject({ refusal: REFUSAL.invalid });
  });

  const link = { ...active, grant: { ...active.grant, providerExpiresAt: '2026-01-01T09:00:00.000Z' } };

  it('extend: an end past the expiry of the share link is accepted (a new link will cover it)', () => {
    expect(checkExtend(flow(), link, bob, 2 * HOUR, renewing)).toEqual({
      ok: true,
      value: { newEndsAt: '2026-01-01T10:00:00.000Z' },
    });
    expect(checkExtend(flow(), link, bob, HOUR, renewing).ok).toBe(true);
  });

  it('extend: refused when the new link would have to last more than 30 days', () => {
    const long = flow({
      maxDurationMs: 40 * 24 * HOUR,
      extensions: { maxCount: 1, maxExtensionMs: 31 * 24 * HOUR, requireApproval: false },
    });
    expect(checkExtend(long, link, bob, 30 * 24 * HOUR - 7 * HOUR, renewing).ok).toBe(true);
    expect(checkExtend(long, link, bob, 30 * 24 * HOUR - 7 * HOUR + 1, renewing)).toMatchObject({
      refusal: REFUSAL.invalid,
      reason: expect.stringContaining('at most 30 days'),
    });
  });

  it('extend: a request started before the patch still refuses an end past the expiry of the link', () => {
    const beforePatch = { ...renewing, renewsLink: false };
    expect(checkExtend(flow(), link, bob, 2 * HOUR, beforePatch)).toMatchObject({ refusal: REFUSAL.invalid });
    expect(checkExtend(flow(), link, bob, HOUR, beforePatch).ok).toBe(true);
  });

  it('extend and decide: nothing while the new link of an extension is being made', () => {
    const making = {
      ...link,
      approvals: [record(alice)],
      pendingExtension: { requestedBy: 'bob', at: 'x', addedMs: 2 * HOUR, approvals: [], makingLinkSince: 'y' },
    };
    expect(checkExtend(flow(), making, bob, HOUR, renewing)).toMatchObject({ refusal: REFUSAL.conflict });
    expect(checkApprove(flow(), making, alice)).toMatchObject({ refusal: REFUSAL.conflict });
    expect(checkReject(flow(), making, alice)).toMatchObject({ refusal: REFUSAL.conflict });
  });
});

describe('break-glass ratification', () => {
  /** A break-glass grant that erin (sec-leads) may ratify; alice approves the flow's requests, but not this. */
  const breakGlassFlow = flow({
    breakGlass: { ratifyWithinMs: HOUR / 2, ratifiers: [{ kind: 'group', id: 'sec-leads' }], onNotRatified: 'end' },
    approval: approval({ allowSelfApproval: true }),
  });
  const awaiting = {
    status: 'ACTIVE' as const,
    requesterId: 'bob',
    currentTier: 0,
    approvals: [],
    durationMs: HOUR,
    extensions: [],
    breakGlass: { ratifyBy: '2026-01-01T00:30:00.000Z' },
    grant: {
      grantedAt: '2026-01-01T00:00:00.000Z',
      endsAt: '2026-01-01T01:00:00.000Z',
      guarantee: { mode: 'share-link' as const, statement: '' },
    },
  };
  const ratified = { ...awaiting, breakGlass: { ...awaiting.breakGlass, ratification: { by: 'erin', at: 'x' } } };

  it('approve and reject decide the ratification, and only a ratifier who is not the requester may', () => {
    expect(decisionTarget(awaiting)).toBe('ratification');
    expect(checkApprove(breakGlassFlow, awaiting, erin)).toEqual({ ok: true, value: 0 });
    expect(checkReject(breakGlassFlow, awaiting, erin)).toEqual({ ok: true, value: undefined });
    // Self-approval in the flow does not extend to ratifying one's own break-glass.
    expect(checkApprove(breakGlassFlow, awaiting, bob)).toMatchObject({
      refusal: REFUSAL.forbidden,
      reason: 'the requester may not ratify their own break-glass access',
    });
    expect(checkApprove(breakGlassFlow, awaiting, alice)).toMatchObject({ refusal: REFUSAL.forbidden });
  });

  it('waits for nothing once ratified or refused, or once access ends', () => {
    expect(decisionTarget(ratified)).toBeUndefined();
    expect(checkApprove(breakGlassFlow, ratified, dave)).toMatchObject({ refusal: REFUSAL.conflict });
    const refused = { ...awaiting, breakGlass: { ...awaiting.breakGlass, refusal: { by: 'erin', at: 'x' } } };
    expect(awaitsRatification(refused)).toBe(false);
    expect(awaitsRatification({ ...awaiting, status: 'ENDING' })).toBe(false);
    expect(awaitsRatification({ ...awaiting, status: 'APPROVED' })).toBe(true);
  });

  it('lets a ratifier revoke, and the requester extend only once ratified', () => {
    expect(checkRevoke(breakGlassFlow, awaiting, erin).ok).toBe(true);
    const renewing = { renewsLink: true, nowMs: Date.parse('2026-01-01T00:10:00.000Z') };
    expect(checkExtend(breakGlassFlow, awaiting, bob, HOUR, renewing)).toMatchObject({
      refusal: REFUSAL.conflict,
      reason: 'break-glass access can be extended only once it has been ratified',
    });
    expect(checkExtend(breakGlassFlow, ratified, bob, HOUR, renewing).ok).toBe(true);
  });
});
