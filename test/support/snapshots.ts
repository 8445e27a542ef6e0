import type { Actor, Identity } from '../../contracts/identity';
import type { AccessRequestInput } from '../../contracts/request';
import type { ApprovalTier, FlowSnapshot, GrantSpec } from '../../contracts/snapshot';

/** People of the demo account used by the workflow tests. E-mails are at the share policy's allowed domain. */
export const REQUESTER: Identity = { id: 'u-bob', email: 'bob.requester@example.com', groups: ['engineering'] };
export const people = {
  alice: { id: 'u-alice', groups: ['security'], roles: [] } as Actor,
  carol: { id: 'u-carol', groups: ['security'], roles: [] } as Actor,
  dave: { id: 'u-dave', groups: ['security'], roles: [] } as Actor,
  erin: { id: 'u-erin', groups: ['sec-leads'], roles: [] } as Actor,
  mallory: { id: 'u-mallory', groups: ['marketing'], roles: [] } as Actor,
  admin: { id: 'u-root', groups: [], roles: ['admin'] } as Actor,
  bob: { id: REQUESTER.id, groups: REQUESTER.groups, roles: [] } as Actor,
};
/** Every e-mail address the tests use, for the no-plaintext check of recorded histories. */
export const TEST_EMAILS = [REQUESTER.email, 'carol.requester@example.com'];

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export const shareLinkGrant = (rotateOnRevoke = false): GrantSpec => ({
  mode: 'share-link',
  vaultId: 'vlt_prod',
  itemId: 'itm_prod_db',
  oneTimeView: true,
  rotateOnRevoke,
});

export const vaultGroupGrant = (): GrantSpec => ({
  mode: 'vault-group',
  vaultId: 'vlt_oncall',
  groupId: 'grp_engineering',
  groupTitle: 'Engineering',
  groupType: 'userDefined',
  permissions: ['read_items', 'reveal_item_password'],
});

export const anyOf = (...ids: string[]): ApprovalTier => ({
  approvers: ids.map((id) => ({ kind: 'user' as const, id })),
  threshold: { kind: 'any' },
});

export function snapshot(overrides: Partial<FlowSnapshot> = {}): FlowSnapshot {
  return {
    policyVersion: 'sha256:0000000000000000000000000000000000000000000000000000000000000000',
    flowName: 'prod-secrets',
    integration: { name: 'demo', kind: 'local', accessDetails: 'Open the link in a private window.' },
    resource: {
      id: 'prod-db-password',
      name: 'Production database',
      type: 'item',
      vaultId: 'vlt_prod',
      itemId: 'itm_prod_db',
    },
    grant: shareLinkGrant(),
    approval: { automatic: false, tiers: [anyOf(people.alice.id)], allowSelfApproval: false },
    durationMs: 8 * HOUR,
    maxDurationMs: 24 * HOUR,
    pendingTimeoutMs: 7 * DAY,
    extensions: { maxCount: 2, maxExtensionMs: 4 * HOUR, requireApproval: false },
    ...overrides,
  };
}

let counter = 0;
export function requestInput(flow: FlowSnapshot, requester: Identity = REQUESTER): AccessRequestInput {
  counter += 1;
  const requestId = `req_${Date.now().toString(36)}${counter.toString(36).padStart(4, '0')}`;
  return {
    requestId,
    requester,
    justification: 'Investigating incident INC-1234',
    ticket: 'INC-1234',
    requestedAt: new Date().toISOString(),
    snapshot: flow,
  };
}
