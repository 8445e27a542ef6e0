import type { ResourceCatalog } from '../../contracts/catalog';

/**
 * Test material shared by the policy specs: a valid policy that uses every kind of resource and
 * approver, and a catalog for it. Kept beside the specs because only they use it.
 */
export const VALID_POLICY = `integrations:
  - name: demo
    kind: local
    serviceAccount: latchkey-demo
    accessDetails: Use the bastion.
    owners:
      - group: security
    resourceOwner:
      tagKey: owner
  - name: cloud
    kind: onepassword
    serviceAccount: latchkey-cloud
    token: { env: OP_SERVICE_ACCOUNT_TOKEN }
    owners:
      - user: olivia
resources:
  - id: prod-db
    integration: demo
    vault: vlt_prod
    item: itm_prod_db
  - id: stripe-key
    name: Stripe (live)
    integration: demo
    vault: vlt_prod
    item: itm_stripe_key
    grant: rotate-on-revoke
    rotator: none
  - id: untagged
    integration: demo
    vault: vlt_prod
    item: itm_untagged
  - id: oncall-vault
    integration: demo
    vault: vlt_oncall
    permissions: [read_items, reveal_item_password]
    grantsWholeGroup: true
    groups:
      engineering: grp_engineering
      sre: grp_sre
  - id: legacy-vault
    integration: demo
    vault: vlt_legacy
    permissions: [read_items]
    grantsWholeGroup: true
    groups:
      engineering: grp_engineering
  - idPrefix: prod
    integration: demo
    select: { vault: vlt_prod, tags: ['env:prod'] }
  - id: cloud-db
    integration: cloud
    vault: vlt_cloud
    item: itm_cloud_db
flows:
  - name: staging-self-service
    requesters:
      - group: engineering
    resources: [untagged]
    automatic: true
    duration: { max: PT4H }
    justification: { required: false }
  - name: prod-access
    requesters:
      - group: engineering
      - user: zoe
    resources: [prod-db, stripe-key, untagged, oncall-vault, legacy-vault, prod]
    approval:
      tiers:
        - approvers: [resource-owner]
          threshold: any
          escalateAfter: PT4H
        - approvers:
            - group: security-leads
          threshold: { atLeast: 2 }
    duration: { min: PT5M, max: PT8H, default: PT1H }
    justification: { required: true, pattern: '^.{10,}$', hint: at least 10 characters }
    ticket: { required: true }
    pendingTimeout: P7D
    reminderInterval: PT12H
    extensions: { maxCount: 2, maxDuration: PT2H }
  - name: cloud-access
    requesters:
      - group: engineering
    integrations: [cloud]
    approval:
      tiers:
        - approvers: [resource-owner, { user: olivia }, { user: alice }]
          threshold: all
      allowSelfApproval: true
    duration: { max: P1D }
`;

export const CATALOG: ResourceCatalog = {
  refreshedAt: '2026-11-27T00:00:00.000Z',
  vaults: [
    { integration: 'demo', vaultId: 'vlt_prod', title: 'Production', createdByServiceAccount: false },
    { integration: 'demo', vaultId: 'vlt_oncall', title: 'On-call', createdByServiceAccount: true },
    { integration: 'demo', vaultId: 'vlt_legacy', title: 'Legacy', createdByServiceAccount: false },
  ],
  groups: [{ integration: 'demo', groupId: 'grp_engineering', title: 'Engineering', type: 'userDefined' }],
  items: [
    {
      integration: 'demo',
      vaultId: 'vlt_prod',
      itemId: 'itm_stripe_key',
      title: 'Stripe API key',
      tags: ['owner:payments', 'env:prod'],
    },
    {
      integration: 'demo',
      vaultId: 'vlt_prod',
      itemId: 'itm_prod_db',
      title: 'Production database',
      tags: ['env:prod', 'owner:dba'],
    },
    { integration: 'demo', vaultId: 'vlt_prod', itemId: 'itm_untagged', title: 'Untagged', tags: [] },
    { integration: 'demo', vaultId: 'vlt_staging', itemId: 'itm_staging', title: 'Staging', tags: ['env:prod'] },
    {
      integration: 'cloud',
      vaultId: 'vlt_cloud',
      itemId: 'itm_cloud_db',
      title: 'Cloud database',
      tags: ['owner:cloud-team'],
    },
  ],
};

/** `text` with `from` replaced by `to`; throws when `from` is absent, so an edit can never silently miss. */
export function edit(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`fixture does not contain ${JSON.stringify(from)}`);
  return text.replace(from, () => to);
}

/** 1-based line and column where `needle` first occurs in `text`. */
export function positionOf(text: string, needle: string): { line: number; column: number } {
  const offset = text.indexOf(needle);
  if (offset < 0) throw new Error(`text does not contain ${JSON.stringify(needle)}`);
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}
