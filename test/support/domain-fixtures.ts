import type { Actor } from '../../contracts/identity';
import type { ApprovalRecord } from '../../contracts/request';
import type { ApprovalSpec, FlowSnapshot } from '../../contracts/snapshot';
import { matchedPrincipals } from '../../domain/approval';

/** People, approval specs and flows for the unit tests of domain/: small, with readable ids. */
export const HOUR = 3_600_000;
export const actor = (id: string, groups: string[] = [], roles: Actor['roles'] = []): Actor => ({ id, groups, roles });
export const alice = actor('alice', ['security']);
export const carol = actor('carol', ['security']);
export const dave = actor('dave', ['security', 'sec-leads']);
export const erin = actor('erin', ['sec-leads']);
export const bob = actor('bob', ['engineering']);
export const root = actor('root', [], ['admin']);

export const approval = (overrides: Partial<ApprovalSpec> = {}): ApprovalSpec => ({
  automatic: false,
  allowSelfApproval: false,
  tiers: [
    { approvers: [{ kind: 'user', id: 'alice' }], threshold: { kind: 'any' }, escalateAfterMs: 2 * HOUR },
    { approvers: [{ kind: 'group', id: 'sec-leads' }], threshold: { kind: 'any' } },
  ],
  ...overrides,
});

export const flow = (overrides: Partial<FlowSnapshot> = {}): FlowSnapshot => ({
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

export function record(who: Actor, spec: ApprovalSpec = approval()): ApprovalRecord {
  return { approverId: who.id, at: '2026-01-01T00:00:00Z', tier: 0, matchedPrincipals: matchedPrincipals(spec, who) };
}

/** A request waiting for its first decision, requested by bob. */
export const pending = { status: 'PENDING_APPROVAL' as const, requesterId: 'bob', currentTier: 0, approvals: [] };
