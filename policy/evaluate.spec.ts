import type { Identity } from '../contracts/identity';
import type { FlowSnapshot } from '../contracts/snapshot';
import {
  type AccessRequestDraft,
  evaluateRequest,
  integrationsOf,
  type Refusal,
  requestableResources,
} from './evaluate';
import { CATALOG, edit, VALID_POLICY } from '../test/support/policy-fixtures';
import { parsePolicy } from './load';

const POLICY = parsePolicy(VALID_POLICY, '/etc/latchkey/policy.yaml');
const ALICE: Identity = { id: 'alice', email: 'alice@example.com', groups: ['engineering'] };
const GOOD: Omit<AccessRequestDraft, 'resourceId'> = {
  duration: 'PT2H',
  justification: 'INC-42: restore the orders table',
  ticket: 'INC-42',
};

function allowed(draft: AccessRequestDraft, identity: Identity = ALICE, policy = POLICY): FlowSnapshot {
  const sut = evaluateRequest(policy, CATALOG, identity, draft);
  if (!sut.ok) throw new Error(`refused: ${JSON.stringify(sut.refusal)}`);
  return sut.snapshot;
}

function refused(draft: AccessRequestDraft, identity: Identity = ALICE, policy = POLICY): Refusal {
  const sut = evaluateRequest(policy, CATALOG, identity, draft);
  if (sut.ok) throw new Error(`allowed by flow ${sut.snapshot.flowName}`);
  return sut.refusal;
}

describe(evaluateRequest.name, () => {
  it('resolves the whole snapshot for an item with an owner tag', () => {
    expect(allowed({ resourceId: 'prod-db', ...GOOD })).toEqual({
      policyVersion: POLICY.version,
      flowName: 'prod-access',
      integration: { name: 'demo', kind: 'local', accessDetails: 'Use the bastion.' },
      resource: {
        id: 'prod-db',
        name: 'Production database',
        type: 'item',
        vaultId: 'vlt_prod',
        itemId: 'itm_prod_db',
        owner: { kind: 'group', id: 'dba' },
      },
      grant: {
        mode: 'share-link',
        vaultId: 'vlt_prod',
        itemId: 'itm_prod_db',
        oneTimeView: true,
        rotateOnRevoke: false,
      },
      approval: {
        automatic: false,
        allowSelfApproval: false,
        tiers: [
          { approvers: [{ kind: 'group', id: 'dba' }], threshold: { kind: 'any' }, escalateAfterMs: 4 * 3_600_000 },
          { approvers: [{ kind: 'group', id: 'security-leads' }], threshold: { kind: 'atLeast', count: 2 } },
        ],
      },
      durationMs: 2 * 3_600_000,
      maxDurationMs: 8 * 3_600_000,
      pendingTimeoutMs: 7 * 86_400_000,
      reminderIntervalMs: 12 * 3_600_000,
      revokeAlertAfterMs: 15 * 60_000,
      notify: { warnBeforeEndMs: 15 * 60_000, channels: ['email', 'slack', 'webhook'] },
      extensions: { maxCount: 2, maxExtensionMs: 2 * 3_600_000, requireApproval: true },
    } satisfies FlowSnapshot);
  });

  it('pins the version of the policy text it evaluated', () => {
    const changed = parsePolicy(`# edited\n${VALID_POLICY}`, 'p.yaml');
    expect(allowed({ resourceId: 'prod-db', ...GOOD }, ALICE, changed).policyVersion).toBe(changed.version);
    expect(changed.version).not.toBe(POLICY.version);
  });

  describe('resource owner', () => {
    it('falls back to the integration owners when the item has no owner tag', () => {
      const snapshot = allowed({ resourceId: 'untagged', ...GOOD }, { ...ALICE, id: 'zoe', groups: [] });
      expect(snapshot.resource.owner).toBeUndefined();
      expect(snapshot.approval.tiers[0].approvers).toEqual([{ kind: 'group', id: 'security' }]);
    });

    it('falls back to the integration owners when the integration has no owner rule', () => {
      const policy = parsePolicy(edit(VALID_POLICY, '    resourceOwner:\n      tagKey: owner\n', ''), 'p.yaml');
      const snapshot = allowed({ resourceId: 'prod-db', ...GOOD }, ALICE, policy);
      expect(snapshot.resource.owner).toBeUndefined();
      expect(snapshot.approval.tiers[0].approvers).toEqual([{ kind: 'group', id: 'security' }]);
    });

    it('falls back to the integration owners for an item the catalog has not discovered', () => {
      const catalog = { ...CATALOG, items: CATALOG.items.filter((item) => item.itemId !== 'itm_prod_db') };
      const sut = evaluateRequest(POLICY, catalog, ALICE, { resourceId: 'prod-db', ...GOOD });
      expect(sut.ok && sut.snapshot.approval.tiers[0].approvers).toEqual([{ kind: 'group', id: 'security' }]);
      expect(sut.ok && sut.snapshot.resource.name).toBe('prod-db');
    });

    it('reads the tag key the integration names, ignoring other tags and an empty value', () => {
      const policy = parsePolicy(edit(VALID_POLICY, 'tagKey: owner', 'tagKey: team'), 'p.yaml');
      const catalog = {
        ...CATALOG,
        items: CATALOG.items.map((item) =>
          item.itemId === 'itm_prod_db'
            ? { ...item, tags: ['owner:dba', 'team:', 'team:platform', 'team:other'] }
            : item,
        ),
      };
      const sut = evaluateRequest(policy, catalog, ALICE, { resourceId: 'prod-db', ...GOOD });
      expect(sut.ok && sut.snapshot.resource.owner).toEqual({ kind: 'group', id: 'platform' });
    });

    it('merges the owner with other approvers of the tier without duplicates', () => {
      // cloud has no owner rule: resource-owner falls back to olivia, whom the tier also names.
      expect(allowed({ resourceId: 'cloud-db', ...GOOD }).approval.tiers[0].approvers).toEqual([
        { kind: 'user', id: 'olivia' },
        { kind: 'user', id: 'alice' },
      ]);
      const withRule = parsePolicy(
        edit(
          VALID_POLICY,
          '      - user: olivia\nresources:',
          '      - user: olivia\n    resourceOwner: { tagKey: owner }\nresources:',
        ),
        'p.yaml',
      );
      expect(allowed({ resourceId: 'cloud-db', ...GOOD }, ALICE, withRule).approval.tiers[0].approvers).toEqual([
        { kind: 'group', id: 'cloud-team' },
        { kind: 'user', id: 'olivia' },
        { kind: 'user', id: 'alice' },
      ]);
    });
  });

  describe('flow choice', () => {
    it('takes the first flow in file order that offers the resource to the requester', () => {
      // `untagged` is offered by staging-self-service (engineering) and by prod-access (engineering, zoe).
      expect(allowed({ resourceId: 'untagged', duration: 'PT1H' }).flowName).toBe('staging-self-service');
      expect(allowed({ resourceId: 'untagged', ...GOOD }, { ...ALICE, id: 'zoe', groups: [] }).flowName).toBe(
        'prod-access',
      );
    });

    it('offers every resource of an integration named by a flow', () => {
      expect(allowed({ resourceId: 'cloud-db', ...GOOD }).flowName).toBe('cloud-access');
    });
  });

  describe('automatic flows', () => {
    it('grant without approval: no tiers', () => {
      const snapshot = allowed({ resourceId: 'untagged', duration: 'PT30M' });
      expect(snapshot.approval).toEqual({ automatic: true, tiers: [], allowSelfApproval: false });
      expect(snapshot.extensions).toEqual({ maxCount: 0, maxExtensionMs: 0, requireApproval: false });
    });
  });

  describe('selectors', () => {
    it('expand into <idPrefix>-<itemId> for items of the vault carrying every tag', () => {
      const ids = requestableResources(POLICY, CATALOG, ALICE).map((resource) => resource.id);
      expect(ids).toEqual(expect.arrayContaining(['prod-itm_prod_db', 'prod-itm_stripe_key']));
      expect(ids).not.toContain('prod-itm_untagged');
      expect(ids).not.toContain('prod-itm_staging');
    });

    it('yield requestable items with the catalog title and the owner from their tags', () => {
      const snapshot = allowed({ resourceId: 'prod-itm_stripe_key', ...GOOD });
      expect(snapshot.resource).toEqual({
        id: 'prod-itm_stripe_key',
        name: 'Stripe API key',
        type: 'item',
        vaultId: 'vlt_prod',
        itemId: 'itm_stripe_key',
        owner: { kind: 'group', id: 'payments' },
      });
      expect(snapshot.grant).toMatchObject({ mode: 'share-link', rotateOnRevoke: false });
    });

    it('select nothing that the catalog does not have', () => {
      expect(refused({ resourceId: 'prod-itm_gone', ...GOOD }).code).toBe('unknown-resource');
    });

    it('never take an id an explicit resource already has', () => {
      const explicit =
        '  - id: prod-itm-x\n    integration: demo\n    vault: vlt_prod\n    item: itm_untagged\n  - id: oncall-vault\n';
      const policy = parsePolicy(
        edit(
          edit(VALID_POLICY, '  - id: oncall-vault\n', explicit),
          'untagged, oncall-vault',
          'untagged, prod-itm-x, oncall-vault',
        ),
        'p.yaml',
      );
      const catalog = {
        ...CATALOG,
        items: [
          ...CATALOG.items,
          { integration: 'demo', vaultId: 'vlt_prod', itemId: 'itm-x', title: 'Clash', tags: ['env:prod'] },
        ],
      };
      const listed = requestableResources(policy, catalog, ALICE).filter((resource) => resource.id === 'prod-itm-x');
      expect(listed).toHaveLength(1);
      const sut = evaluateRequest(policy, catalog, ALICE, { resourceId: 'prod-itm-x', ...GOOD });
      expect(sut.ok && sut.snapshot.resource.itemId).toBe('itm_untagged');
    });
  });

  describe('grant', () => {
    it('rotates on revoke when the resource says so, and uses its written name', () => {
      const snapshot = allowed({ resourceId: 'stripe-key', ...GOOD });
      expect(snapshot.grant).toEqual({
        mode: 'share-link',
        vaultId: 'vlt_prod',
        itemId: 'itm_stripe_key',
        oneTimeView: true,
        rotateOnRevoke: true,
        rotator: { kind: 'none' },
      });
      expect(snapshot.resource.name).toBe('Stripe (live)');
    });

    it('maps the first of the requester’s groups (in token order) that the vault maps', () => {
      const sre = { ...ALICE, groups: ['sre', 'engineering'] };
      expect(allowed({ resourceId: 'oncall-vault', ...GOOD }, sre).grant).toEqual({
        mode: 'vault-group',
        vaultId: 'vlt_oncall',
        groupId: 'grp_sre',
        permissions: ['read_items', 'reveal_item_password'],
      });
      expect(
        allowed({ resourceId: 'oncall-vault', ...GOOD }, { ...ALICE, groups: ['marketing', 'engineering', 'sre'] })
          .grant,
      ).toEqual({
        mode: 'vault-group',
        vaultId: 'vlt_oncall',
        groupId: 'grp_engineering',
        groupTitle: 'Engineering',
        groupType: 'userDefined',
        permissions: ['read_items', 'reveal_item_password'],
      });
    });

    it('gives a vault the integration owners as resource owner', () => {
      const snapshot = allowed({ resourceId: 'oncall-vault', ...GOOD });
      expect(snapshot.resource).toEqual({ id: 'oncall-vault', name: 'On-call', type: 'vault', vaultId: 'vlt_oncall' });
      expect(snapshot.approval.tiers[0].approvers).toEqual([{ kind: 'group', id: 'security' }]);
    });
  });

  describe('refusals', () => {
    it('unknown-resource: no such resource', () => {
      expect(refused({ resourceId: 'nope', ...GOOD })).toEqual({
        code: 'unknown-resource',
        rule: 'resources',
        message: 'there is no requestable resource "nope"',
      });
    });

    it('not-eligible: the requester is in no flow that offers the resource', () => {
      expect(
        refused({ resourceId: 'prod-db', ...GOOD }, { id: 'mallory', email: 'm@example.com', groups: ['sales'] }),
      ).toEqual({
        code: 'not-eligible',
        rule: 'flows.prod-access.requesters',
        message: 'you are not among the requesters of flow "prod-access" for "prod-db"',
      });
    });

    it('not-eligible: no flow offers the resource at all', () => {
      const policy = parsePolicy(edit(VALID_POLICY, ', legacy-vault, prod]', ', prod]'), 'p.yaml');
      expect(refused({ resourceId: 'legacy-vault', ...GOOD }, ALICE, policy)).toEqual({
        code: 'not-eligible',
        rule: 'resources.legacy-vault',
        message: 'no access flow offers "legacy-vault"',
      });
    });

    it.each(['2h', 'P1M', 'PT', 'PT0S'])('duration-invalid: %s', (duration) => {
      expect(refused({ resourceId: 'prod-db', ...GOOD, duration })).toMatchObject({
        code: 'duration-invalid',
        rule: 'flows.prod-access.duration',
      });
    });

    it('duration-too-long: over the flow maximum', () => {
      expect(refused({ resourceId: 'prod-db', ...GOOD, duration: 'PT8H1M' })).toEqual({
        code: 'duration-too-long',
        rule: 'flows.prod-access.duration.max',
        message: 'PT8H1M is longer than the longest access this flow allows, PT8H',
      });
      expect(allowed({ resourceId: 'prod-db', ...GOOD, duration: 'PT8H' }).durationMs).toBe(8 * 3_600_000);
    });

    it('duration-too-short: under the flow minimum', () => {
      expect(refused({ resourceId: 'prod-db', ...GOOD, duration: 'PT4M' })).toEqual({
        code: 'duration-too-short',
        rule: 'flows.prod-access.duration.min',
        message: 'PT4M is shorter than the shortest access this flow allows, PT5M',
      });
      expect(allowed({ resourceId: 'prod-db', ...GOOD, duration: 'PT5M' }).durationMs).toBe(5 * 60_000);
    });

    it('uses the flow default when no duration is asked', () => {
      expect(allowed({ resourceId: 'prod-db', justification: GOOD.justification, ticket: 'T-1' }).durationMs).toBe(
        3_600_000,
      );
    });

    it.each([undefined, '', '   '])('justification-required: %j', (justification) => {
      expect(refused({ resourceId: 'prod-db', ...GOOD, justification })).toEqual({
        code: 'justification-required',
        rule: 'flows.prod-access.justification.required',
        message: 'a justification is required',
      });
    });

    it('justification-mismatch: does not match the pattern, and the hint says why', () => {
      expect(refused({ resourceId: 'prod-db', ...GOOD, justification: 'because' })).toEqual({
        code: 'justification-mismatch',
        rule: 'flows.prod-access.justification.pattern',
        message: 'the justification does not have the required form: at least 10 characters',
      });
    });

    it.each([undefined, ' '])('ticket-required: %j', (ticket) => {
      expect(refused({ resourceId: 'prod-db', ...GOOD, ticket })).toEqual({
        code: 'ticket-required',
        rule: 'flows.prod-access.ticket.required',
        message: 'a ticket reference is required',
      });
    });

    it('grant-mode-unavailable: none of the requester’s groups is mapped', () => {
      expect(refused({ resourceId: 'oncall-vault', ...GOOD }, { ...ALICE, id: 'zoe', groups: ['marketing'] })).toEqual({
        code: 'grant-mode-unavailable',
        rule: 'resources.oncall-vault.groups',
        message: 'none of your groups is mapped to a 1Password group for "oncall-vault"',
      });
    });

    it('grant-mode-unavailable: the vault was not created by the service account', () => {
      expect(refused({ resourceId: 'legacy-vault', ...GOOD })).toMatchObject({
        code: 'grant-mode-unavailable',
        rule: 'resources.legacy-vault',
      });
    });
  });

  describe('self-approval and no-approvers', () => {
    const onlyUsers = (approvers: string, threshold: string, self = false) =>
      parsePolicy(
        edit(
          edit(
            VALID_POLICY,
            '        - approvers: [resource-owner]\n          threshold: any\n          escalateAfter: PT4H\n        - approvers:\n            - group: security-leads\n          threshold: { atLeast: 2 }\n',
            `        - approvers: ${approvers}\n          threshold: ${threshold}\n`,
          ),
          '    duration: { min: PT5M',
          `${self ? '      allowSelfApproval: true\n' : ''}    duration: { min: PT5M`,
        ),
        'p.yaml',
      );

    it('keeps the requester in the approver list (the workflow refuses their approval)', () => {
      const snapshot = allowed(
        { resourceId: 'prod-db', ...GOOD },
        ALICE,
        onlyUsers('[{ user: alice }, { user: bob }]', 'any'),
      );
      expect(snapshot.approval.tiers[0].approvers).toEqual([
        { kind: 'user', id: 'alice' },
        { kind: 'user', id: 'bob' },
      ]);
      expect(snapshot.approval.allowSelfApproval).toBe(false);
    });

    it('no-approvers: only the requester could approve', () => {
      expect(refused({ resourceId: 'prod-db', ...GOOD }, ALICE, onlyUsers('[{ user: alice }]', 'any'))).toEqual({
        code: 'no-approvers',
        rule: 'flows.prod-access.approval.tiers',
        message: 'nobody but you could approve this request, and this flow does not allow self-approval',
      });
    });

    it('allows the requester as the only approver when the flow allows self-approval', () => {
      const snapshot = allowed({ resourceId: 'prod-db', ...GOOD }, ALICE, onlyUsers('[{ user: alice }]', 'any', true));
      expect(snapshot.approval.allowSelfApproval).toBe(true);
    });

    it('no-approvers: N of M cannot be reached without the requester', () => {
      const policy = onlyUsers('[{ user: alice }, { user: bob }]', '{ atLeast: 2 }');
      expect(refused({ resourceId: 'prod-db', ...GOOD }, ALICE, policy).code).toBe('no-approvers');
      expect(
        allowed({ resourceId: 'prod-db', ...GOOD }, { ...ALICE, id: 'zoe' }, policy).approval.tiers[0].threshold,
      ).toEqual({ kind: 'atLeast', count: 2 });
    });

    it('N of M counts a group as possibly many approvers', () => {
      const policy = onlyUsers('[{ user: alice }, { group: security }]', '{ atLeast: 2 }');
      expect(allowed({ resourceId: 'prod-db', ...GOOD }, ALICE, policy).approval.tiers[0].approvers).toHaveLength(2);
    });

    it('no-approvers: "all" names the requester', () => {
      expect(
        refused({ resourceId: 'prod-db', ...GOOD }, ALICE, onlyUsers('[{ user: alice }, { group: security }]', 'all'))
          .code,
      ).toBe('no-approvers');
      expect(
        allowed({ resourceId: 'prod-db', ...GOOD }, ALICE, onlyUsers('[{ user: bob }, { group: security }]', 'all'))
          .approval.tiers[0].threshold,
      ).toEqual({ kind: 'all' });
    });

    it('a group the requester belongs to still has other members who may approve', () => {
      const security = { ...ALICE, groups: ['engineering', 'security'] };
      expect(
        allowed({ resourceId: 'prod-db', ...GOOD }, security, onlyUsers('[{ group: security }]', 'any')).flowName,
      ).toBe('prod-access');
    });

    it('is satisfied by any tier: a later tier can approve when the first cannot', () => {
      const policy = parsePolicy(
        edit(VALID_POLICY, 'approvers: [resource-owner]', 'approvers: [{ user: alice }]'),
        'p.yaml',
      );
      expect(allowed({ resourceId: 'prod-db', ...GOOD }, ALICE, policy).approval.tiers).toHaveLength(2);
    });

    it('no-approvers: the resource owner resolves to nobody', () => {
      const policy = parsePolicy(edit(VALID_POLICY, '    owners:\n      - group: security\n', ''), 'p.yaml');
      const withTierOne = evaluateRequest(policy, CATALOG, ALICE, { resourceId: 'untagged', ...GOOD });
      // Tier 1 (security-leads) can still approve.
      expect(withTierOne.ok).toBe(true);
      const single = parsePolicy(
        edit(
          edit(VALID_POLICY, '    owners:\n      - group: security\n', ''),
          '          escalateAfter: PT4H\n        - approvers:\n            - group: security-leads\n          threshold: { atLeast: 2 }\n',
          '',
        ),
        'p.yaml',
      );
      expect(refused({ resourceId: 'untagged', ...GOOD }, { ...ALICE, id: 'zoe', groups: [] }, single).code).toBe(
        'no-approvers',
      );
    });
  });
});

describe(requestableResources.name, () => {
  it('lists what the requester may ask for, with the deciding flow and its resolved approvers', () => {
    const sut = requestableResources(POLICY, CATALOG, ALICE);
    expect(sut.map((resource) => resource.id)).toEqual([
      'prod-db',
      'stripe-key',
      'untagged',
      'oncall-vault',
      'legacy-vault',
      'prod-itm_prod_db',
      'prod-itm_stripe_key',
      'cloud-db',
    ]);
    expect(sut[0]).toEqual({
      id: 'prod-db',
      name: 'Production database',
      type: 'item',
      integration: 'demo',
      grantMode: 'share-link',
      flow: {
        name: 'prod-access',
        automatic: false,
        maxDuration: 'PT8H',
        defaultDuration: 'PT1H',
        justificationRequired: true,
        ticketRequired: true,
        approvers: [[{ kind: 'group', id: 'dba' }], [{ kind: 'group', id: 'security-leads' }]],
      },
      accessDetails: 'Use the bastion.',
    });
    expect(sut.find((resource) => resource.id === 'untagged')?.flow).toMatchObject({
      name: 'staging-self-service',
      automatic: true,
      approvers: [],
    });
    expect(sut.find((resource) => resource.id === 'oncall-vault')).toMatchObject({
      type: 'vault',
      grantMode: 'vault-group',
      // Whom a grant reaches: named where the catalog has described the group.
      reaches: [
        { identityGroup: 'engineering', groupId: 'grp_engineering', title: 'Engineering', type: 'userDefined' },
        { identityGroup: 'sre', groupId: 'grp_sre' },
      ],
    });
    expect(sut.find((resource) => resource.id === 'prod-db')).not.toHaveProperty('reaches');
    expect(sut.find((resource) => resource.id === 'stripe-key')).toMatchObject({ grantMode: 'rotate-on-revoke' });
    expect(sut.find((resource) => resource.id === 'cloud-db')).not.toHaveProperty('accessDetails');
  });

  it('lists only what a flow offers to this requester', () => {
    const zoe = { id: 'zoe', email: 'zoe@example.com', groups: [] };
    expect(requestableResources(POLICY, CATALOG, zoe).map((resource) => resource.id)).toEqual([
      'prod-db',
      'stripe-key',
      'untagged',
      'oncall-vault',
      'legacy-vault',
      'prod-itm_prod_db',
      'prod-itm_stripe_key',
    ]);
    expect(requestableResources(POLICY, CATALOG, { id: 'mallory', email: 'm@example.com', groups: ['sales'] })).toEqual(
      [],
    );
  });
});

describe(integrationsOf.name, () => {
  it('gives each integration with its token source, never a token', () => {
    expect(integrationsOf(POLICY)).toEqual([
      { name: 'demo', kind: 'local', plan: 'business', serviceAccount: 'latchkey-demo', reconcile: 'repair' },
      {
        name: 'cloud',
        kind: 'onepassword',
        plan: 'business',
        serviceAccount: 'latchkey-cloud',
        token: { env: 'OP_SERVICE_ACCOUNT_TOKEN' },
        reconcile: 'repair',
      },
    ]);
  });

  it('resolves a token file against the policy file’s folder', () => {
    const policy = parsePolicy(
      edit(VALID_POLICY, '{ env: OP_SERVICE_ACCOUNT_TOKEN }', '{ file: ./op.token }'),
      '/srv/latchkey/policy.yaml',
    );
    expect(integrationsOf(policy)[1].token).toEqual({ file: '/srv/latchkey/op.token' });
  });
});

describe(`${evaluateRequest.name}: break-glass`, () => {
  /** cloud-access offers break-glass: an hour at most, ratified by the owner (the cloud integration's: olivia) or alice. */
  const BREAK_GLASS_POLICY = parsePolicy(
    edit(
      VALID_POLICY,
      '    duration: { max: P1D }\n',
      [
        '    duration: { max: P1D }',
        '    breakGlass:',
        '      maxDuration: PT1H',
        '      ratifyWithin: PT30M',
        '      ratifiers: [resource-owner, { user: alice }]',
        '      onNotRatified: end-and-rotate',
        '',
      ].join('\n'),
    ),
    '/etc/latchkey/policy.yaml',
  );
  const draft = { resourceId: 'cloud-db', justification: 'INC-42: database down at 3am', breakGlass: true };

  it('pins the ratifiers, resolved, and the outcome without ratification; duration defaults within its maximum', () => {
    const sut = allowed(draft, ALICE, BREAK_GLASS_POLICY);
    expect(sut.breakGlass).toEqual({
      ratifyWithinMs: 1_800_000,
      ratifiers: [
        { kind: 'user', id: 'olivia' },
        { kind: 'user', id: 'alice' },
      ],
      onNotRatified: 'end-and-rotate',
    });
    expect(sut.durationMs).toBe(3_600_000);
    // An ordinary request on the same flow carries no break-glass, and keeps the flow's own maximum.
    expect(
      allowed({ ...draft, breakGlass: false, duration: 'PT8H' }, ALICE, BREAK_GLASS_POLICY).breakGlass,
    ).toBeUndefined();
  });

  it('refuses it where the flow offers none, beyond its own maximum, or without a justification', () => {
    expect(refused({ ...GOOD, resourceId: 'prod-db', breakGlass: true })).toEqual({
      code: 'break-glass-unavailable',
      rule: 'flows.prod-access.breakGlass',
      message: 'flow "prod-access" offers no break-glass access',
    });
    expect(refused({ ...draft, duration: 'PT2H' }, ALICE, BREAK_GLASS_POLICY)).toMatchObject({
      code: 'duration-too-long',
      rule: 'flows.cloud-access.breakGlass.maxDuration',
    });
    expect(refused({ ...draft, justification: ' ' }, ALICE, BREAK_GLASS_POLICY)).toMatchObject({
      code: 'justification-required',
      rule: 'flows.cloud-access.breakGlass',
    });
  });

  it('refuses it when nobody but the requester could ratify it', () => {
    const onlyAlice = parsePolicy(
      edit(
        VALID_POLICY,
        '    duration: { max: P1D }\n',
        '    duration: { max: P1D }\n    breakGlass:\n      maxDuration: PT1H\n      ratifyWithin: PT30M\n      ratifiers: [{ user: alice }]\n',
      ),
      '/etc/latchkey/policy.yaml',
    );
    expect(refused(draft, ALICE, onlyAlice)).toMatchObject({
      code: 'no-approvers',
      rule: 'flows.cloud-access.breakGlass.ratifiers',
    });
  });
});
