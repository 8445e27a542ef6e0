import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PolicyError, type PolicyIssue } from './errors';
import { edit, positionOf, VALID_POLICY } from '../test/support/policy-fixtures';
import { loadPolicyFile, parsePolicy } from './load';

const FILE = 'config/policy.yaml';

function issuesOf(text: string): PolicyIssue[] {
  try {
    parsePolicy(text, FILE);
  } catch (error) {
    if (error instanceof PolicyError) return error.issues;
    throw error;
  }
  throw new Error('the policy was accepted');
}

/**
 * Asserts that `text` is refused with exactly one issue, at the line (and column) where `needle`
 * starts, for key `key`, with a message matching `message`; and that PolicyError's message says the
 * same in `file:line:col key: message` form.
 */
function expectOneIssue(text: string, needle: string, key: string, message: RegExp): PolicyIssue {
  const issues = issuesOf(text);
  expect(issues).toHaveLength(1);
  const [issue] = issues;
  const { line, column } = positionOf(text, needle);
  expect(issue).toMatchObject({ file: FILE, line, column, path: key });
  expect(issue.message).toMatch(message);
  expect(() => parsePolicy(text, FILE)).toThrow(`${FILE}:${line}:${column} ${key}: ${issue.message}`);
  return issue;
}

describe(parsePolicy.name, () => {
  describe('a valid policy', () => {
    it('is read into typed integrations, resources and flows with every default applied', () => {
      const sut = parsePolicy(VALID_POLICY, FILE);

      expect(sut.file).toBe(FILE);
      expect(sut.integrations[0]).toEqual({
        name: 'demo',
        kind: 'local',
        plan: 'business',
        serviceAccount: 'latchkey-demo',
        accessDetails: 'Use the bastion.',
        reconcile: 'repair',
        owners: [{ kind: 'group', id: 'security' }],
        resourceOwner: { tagKey: 'owner' },
      });
      expect(sut.resources.map((resource) => resource.type)).toEqual([
        'item',
        'item',
        'item',
        'vault',
        'vault',
        'selection',
        'item',
      ]);
      expect(sut.resources[0]).toEqual({
        type: 'item',
        id: 'prod-db',
        integration: 'demo',
        vaultId: 'vlt_prod',
        itemId: 'itm_prod_db',
        grant: 'share-link',
      });
      expect(sut.resources[3]).toMatchObject({
        type: 'vault',
        grant: 'vault-group',
        groups: [
          { identityGroup: 'engineering', onePasswordGroup: 'grp_engineering' },
          { identityGroup: 'sre', onePasswordGroup: 'grp_sre' },
        ],
      });
      expect(sut.resources[5]).toEqual({
        type: 'selection',
        idPrefix: 'prod',
        integration: 'demo',
        vaultId: 'vlt_prod',
        tags: ['env:prod'],
        grant: 'share-link',
      });
      const [automatic, prod] = sut.flows;
      expect(automatic).toMatchObject({
        automatic: true,
        tiers: [],
        allowSelfApproval: false,
        duration: { minMs: 60_000, maxMs: 4 * 3_600_000, defaultMs: 3_600_000 },
        justification: { required: false },
        ticket: { required: false },
        pendingTimeoutMs: 7 * 86_400_000,
        revokeAlertAfterMs: 15 * 60_000,
        extensions: { maxCount: 0, maxExtensionMs: 0, requireApproval: false },
      });
      expect(automatic.reminderIntervalMs).toBeUndefined();
      expect(prod).toMatchObject({
        requesters: [
          { kind: 'group', id: 'engineering' },
          { kind: 'user', id: 'zoe' },
        ],
        tiers: [
          { approvers: [{ kind: 'resource-owner' }], threshold: { kind: 'any' }, escalateAfterMs: 4 * 3_600_000 },
          { approvers: [{ kind: 'group', id: 'security-leads' }], threshold: { kind: 'atLeast', count: 2 } },
        ],
        duration: { minMs: 5 * 60_000, maxMs: 8 * 3_600_000, defaultMs: 3_600_000 },
        justification: { required: true, pattern: '^.{10,}$', hint: 'at least 10 characters' },
        ticket: { required: true },
        reminderIntervalMs: 12 * 3_600_000,
        extensions: { maxCount: 2, maxExtensionMs: 2 * 3_600_000, requireApproval: true },
      });
      expect(sut.flows[2]).toMatchObject({ integrations: ['cloud'], resources: [], allowSelfApproval: true });
    });

    it('defaults the duration to PT1H, or to the maximum when that is shorter', () => {
      const short = parsePolicy(edit(VALID_POLICY, 'duration: { max: PT4H }', 'duration: { max: PT30M }'), FILE);
      expect(short.flows[0].duration.defaultMs).toBe(30 * 60_000);
      expect(parsePolicy(VALID_POLICY, FILE).flows[0].duration.defaultMs).toBe(3_600_000);
    });

    it('resolves a token file against the folder of the policy file', () => {
      const text = edit(VALID_POLICY, 'token: { env: OP_SERVICE_ACCOUNT_TOKEN }', 'token: { file: secrets/op-token }');
      const sut = parsePolicy(text, '/etc/latchkey/policy.yaml');
      expect(sut.integrations[1].token).toEqual({ file: '/etc/latchkey/secrets/op-token' });
    });
  });

  describe('limits', () => {
    it('allows 20 open requests per requester unless the policy says otherwise', () => {
      expect(parsePolicy(VALID_POLICY, FILE).limits).toEqual({ openRequestsPerRequester: 20 });
      const sut = parsePolicy(`${VALID_POLICY}\nlimits:\n  openRequestsPerRequester: 3\n`, FILE);
      expect(sut.limits.openRequestsPerRequester).toBe(3);
    });

    it('refuses a limit below one, naming the line', () => {
      const text = `${VALID_POLICY}\nlimits:\n  openRequestsPerRequester: 0\n`;
      expect(issuesOf(text)).toEqual([
        expect.objectContaining({ path: 'limits.openRequestsPerRequester', message: expect.stringMatching(/>= 1/) }),
      ]);
    });
  });

  describe('break-glass', () => {
    const BREAK_GLASS = ['    breakGlass:', '      maxDuration: PT1H', '      ratifyWithin: PT30M'];
    /** The cloud-access flow (the last) with these break-glass lines. */
    const cloudAccess = (...lines: string[]) =>
      edit(VALID_POLICY, '    duration: { max: P1D }\n', `    duration: { max: P1D }\n${lines.join('\n')}\n`);

    it('is read with its defaults: end when not ratified, no per-person limit', () => {
      const flows = parsePolicy(
        cloudAccess(...BREAK_GLASS, '      ratifiers: [{ group: security }, resource-owner]'),
        FILE,
      ).flows;
      expect(flows[2].breakGlass).toEqual({
        maxDurationMs: 3_600_000,
        ratifyWithinMs: 1_800_000,
        ratifiers: [{ kind: 'group', id: 'security' }, { kind: 'resource-owner' }],
        onNotRatified: 'end',
      });
      const limited = parsePolicy(
        cloudAccess(
          ...BREAK_GLASS,
          '      ratifiers: [{ group: security }]',
          '      onNotRatified: end-and-rotate',
          '      perPersonLimit: { count: 2, per: P30D }',
        ),
        FILE,
      );
      expect(limited.flows[2].breakGlass).toMatchObject({
        onNotRatified: 'end-and-rotate',
        perPersonLimit: { count: 2, perMs: 30 * 86_400_000 },
      });
    });

    it('refuses a ratification window longer than the access, and access longer than the flow allows', () => {
      expectOneIssue(
        cloudAccess(
          '    breakGlass:',
          '      maxDuration: PT1H',
          '      ratifyWithin: PT2H',
          '      ratifiers: [{ group: security }]',
        ),
        'ratifyWithin: PT2H',
        'flows[2].breakGlass.ratifyWithin',
        /longer than maxDuration PT1H: nothing to ratify/,
      );
      expectOneIssue(
        cloudAccess(
          '    breakGlass:',
          '      maxDuration: P2D',
          '      ratifyWithin: PT1H',
          '      ratifiers: [{ group: security }]',
        ),
        'maxDuration: P2D',
        'flows[2].breakGlass.maxDuration',
        /longer than the flow's duration.max P1D/,
      );
    });

    it('refuses end-and-rotate on a flow that offers what has no secret to rotate (a vault)', () => {
      const text = edit(
        VALID_POLICY,
        '    extensions: { maxCount: 2, maxDuration: PT2H }\n',
        [
          '    extensions: { maxCount: 2, maxDuration: PT2H }',
          ...BREAK_GLASS,
          '      ratifiers: [{ group: security }]',
          '      onNotRatified: end-and-rotate',
          '',
        ].join('\n'),
      );
      expectOneIssue(
        text,
        'onNotRatified: end-and-rotate',
        'flows[1].breakGlass.onNotRatified',
        /end-and-rotate needs items, but the flow offers "oncall-vault" \(vault\), "legacy-vault" \(vault\)/,
      );
    });

    it('refuses break-glass on an automatic flow, which needs no approver', () => {
      const text = edit(
        VALID_POLICY,
        '    justification: { required: false }\n',
        ['    justification: { required: false }', ...BREAK_GLASS, '      ratifiers: [{ group: security }]', ''].join(
          '\n',
        ),
      );
      expectOneIssue(text, 'breakGlass:', 'flows[0].breakGlass', /not needed in an automatic flow/);
    });
  });

  describe('version', () => {
    it('is sha256 of the exact text, the same for the same text', () => {
      const expected = `sha256:${createHash('sha256').update(VALID_POLICY, 'utf8').digest('hex')}`;
      expect(parsePolicy(VALID_POLICY, FILE).version).toBe(expected);
      expect(parsePolicy(VALID_POLICY, 'elsewhere.yaml').version).toBe(expected);
    });

    it('changes with any change of the text, even a comment', () => {
      const a = parsePolicy(VALID_POLICY, FILE).version;
      const b = parsePolicy(`# a comment\n${VALID_POLICY}`, FILE).version;
      expect(b).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(b).not.toBe(a);
    });
  });

  describe('YAML errors', () => {
    it('reports a syntax error at its line', () => {
      const text = edit(VALID_POLICY, '    resources: [untagged]', '    resources: [untagged');
      const issues = issuesOf(text);
      expect(issues.length).toBeGreaterThan(0);
      expect(issues[0].line).toBeGreaterThanOrEqual(positionOf(text, 'resources: [untagged').line);
    });

    it('refuses a key written twice in one map, at the second', () => {
      const text = edit(VALID_POLICY, '    kind: local\n', '    kind: local\n    kind: local\n');
      const issues = issuesOf(text);
      expect(issues).toEqual([
        expect.objectContaining({ line: 4, column: 5, message: expect.stringMatching(/unique/) }),
      ]);
    });

    it('refuses an empty file', () => {
      expect(issuesOf('')).toEqual([
        { file: FILE, line: 1, column: 1, path: '', message: 'must be a map (key: value)' },
      ]);
    });
  });

  describe('schema errors name the line and key', () => {
    it('an unknown key, at the key, listing the allowed ones', () => {
      const text = edit(
        VALID_POLICY,
        '    serviceAccount: latchkey-demo\n',
        '    serviceAccount: latchkey-demo\n    colour: blue\n',
      );
      expectOneIssue(
        text,
        'colour: blue',
        'integrations[0].colour',
        /^unknown key \(allowed here: name, kind, plan, serviceAccount, token/,
      );
    });

    it('an unknown top-level key', () => {
      expectOneIssue(`${VALID_POLICY}approvals: []\n`, 'approvals: []', 'approvals', /^unknown key/);
    });

    it('a value of the wrong type', () => {
      const text = edit(
        VALID_POLICY,
        '    resources: [untagged]\n    automatic: true',
        '    resources: [untagged]\n    automatic: yes please',
      );
      expectOneIssue(text, 'automatic: yes please', 'flows[0].automatic', /^must be true or false$/);
    });

    it('a list written as a single value', () => {
      const text = edit(VALID_POLICY, '    integrations: [cloud]', '    integrations: cloud');
      expectOneIssue(text, 'integrations: cloud', 'flows[2].integrations', /^must be a list$/);
    });

    it('a value outside its enum', () => {
      const text = edit(VALID_POLICY, 'kind: local', 'kind: vault');
      expectOneIssue(text, 'kind: vault', 'integrations[0].kind', /^must be one of onepassword, local$/);
    });

    it('a threshold that is not any, all or atLeast', () => {
      const text = edit(VALID_POLICY, 'threshold: any', 'threshold: most');
      expectOneIssue(
        text,
        'threshold: most',
        'flows[1].approval.tiers[0].threshold',
        /^must be one of any, all, atLeast/,
      );
    });

    it('a threshold of atLeast 0', () => {
      const text = edit(VALID_POLICY, 'threshold: { atLeast: 2 }', 'threshold: { atLeast: 0 }');
      expectOneIssue(
        text,
        'threshold: { atLeast: 0 }',
        'flows[1].approval.tiers[1].threshold',
        /^must be one of any, all, atLeast/,
      );
    });

    it('an approver that is neither a principal nor resource-owner', () => {
      const text = edit(VALID_POLICY, 'approvers: [resource-owner]', 'approvers: [owner]');
      expectOneIssue(
        text,
        'owner]',
        'flows[1].approval.tiers[0].approvers[0]',
        /^must be \{ user: ID \}, \{ group: NAME \} or resource-owner$/,
      );
    });

    it('a principal with both user and group', () => {
      const text = edit(VALID_POLICY, '      - user: zoe', '      - { user: zoe, group: ops }');
      expectOneIssue(text, '{ user: zoe', 'flows[1].requesters[1]', /^must be \{ user: ID \} or \{ group: NAME \}$/);
    });

    it('a missing required key, at its map', () => {
      const text = edit(VALID_POLICY, '    serviceAccount: latchkey-demo\n', '');
      expectOneIssue(text, 'name: demo', 'integrations[0].serviceAccount', /^is required$/);
    });

    it('an item grant mode that items cannot have', () => {
      const text = edit(VALID_POLICY, 'grant: rotate-on-revoke', 'grant: vault-group');
      expectOneIssue(text, 'grant: vault-group', 'resources[1].grant', /^must be one of share-link, rotate-on-revoke$/);
    });

    it('item keys on a selection', () => {
      const text = edit(
        VALID_POLICY,
        "    select: { vault: vlt_prod, tags: ['env:prod'] }",
        "    select: { vault: vlt_prod, tags: ['env:prod'] }\n    item: itm_x",
      );
      expectOneIssue(
        text,
        'item: itm_x',
        'resources[5].item',
        /^unknown key \(allowed here: idPrefix, integration, select, grant, rotator\)$/,
      );
    });

    it('a vault without its group mapping', () => {
      const text = edit(VALID_POLICY, '    groups:\n      engineering: grp_engineering\n      sre: grp_sre\n', '');
      expectOneIssue(text, 'id: oncall-vault', 'resources[3].groups', /^is required$/);
    });

    it.each(['P1Y', 'P6M', 'PT8X', '8 hours', 'PT'])('a duration that is not supported ISO 8601: %s', (duration) => {
      const text = edit(VALID_POLICY, 'duration: { max: PT4H }', `duration: { max: '${duration}' }`);
      expectOneIssue(
        text,
        `max: '${duration}'`,
        'flows[0].duration.max',
        /^must be an ISO 8601 duration such as PT30M.*years and months are not supported/,
      );
    });

    it.each([
      ['Demo', 'uppercase'],
      ['prod_db', 'underscore'],
      ['p', 'too short'],
      ['db-', 'trailing hyphen'],
      ['1db', 'leading digit'],
      ['a'.repeat(64), 'too long'],
    ])('a name that is not alphanumeric and user-friendly: %s (%s)', (name) => {
      const text = edit(VALID_POLICY, 'name: cloud-access', `name: ${name}`);
      expectOneIssue(
        text,
        `name: ${name}\n`,
        'flows[2].name',
        /^must be 2 to 63 characters: a lowercase letter, then lowercase letters, digits or hyphens/,
      );
    });

    it('the same name rule for resource ids and the references to them', () => {
      const text = edit(VALID_POLICY, 'id: prod-db', 'id: Prod_DB').replace(
        'resources: [prod-db,',
        'resources: [Prod_DB,',
      );
      expect(issuesOf(text).map((issue) => [issue.line, issue.path])).toEqual([
        [positionOf(text, 'id: Prod_DB').line, 'resources[0].id'],
        [positionOf(text, 'resources: [Prod_DB').line, 'flows[1].resources[0]'],
      ]);
    });
  });

  describe('tokens', () => {
    it('refuses a token written inline as the token value, without repeating it', () => {
      const text = edit(VALID_POLICY, 'token: { env: OP_SERVICE_ACCOUNT_TOKEN }', 'token: very-secret-value');
      const issue = expectOneIssue(
        text,
        'token: very-secret-value',
        'integrations[1].token',
        /a token written in the policy file is refused/,
      );
      expect(issue.message).not.toContain('very-secret-value');
    });

    it('refuses a token source with an unknown key', () => {
      const text = edit(VALID_POLICY, 'token: { env: OP_SERVICE_ACCOUNT_TOKEN }', 'token: { value: abc }');
      expectOneIssue(
        text,
        'token: { value',
        'integrations[1].token',
        /^must be \{ env: VARIABLE_NAME \} or \{ file: PATH \}/,
      );
    });

    it('refuses a 1Password service-account token found anywhere, without repeating it', () => {
      const secret = 'ops_eyJzaWduSW5BZGRyZXNzIjoibXkuMXBhc3N3b3JkLmNvbSJ9';
      const text = edit(VALID_POLICY, 'accessDetails: Use the bastion.', `accessDetails: ${secret}`);
      const issue = expectOneIssue(
        text,
        `accessDetails: ${secret}`,
        'integrations[0].accessDetails',
        /service-account token written inline/,
      );
      expect(JSON.stringify(issuesOf(text))).not.toContain(secret);
      expect(issue.message).not.toContain('ops_');
    });

    it('requires a token source for a real 1Password integration', () => {
      const text = edit(VALID_POLICY, '    token: { env: OP_SERVICE_ACCOUNT_TOKEN }\n', '');
      expectOneIssue(text, 'name: cloud', 'integrations[1].token', /^is required$/);
    });
  });

  it('refuses access details over 400 characters and accepts 400', () => {
    const long = edit(VALID_POLICY, 'accessDetails: Use the bastion.', `accessDetails: ${'x'.repeat(401)}`);
    expectOneIssue(long, 'accessDetails: x', 'integrations[0].accessDetails', /^must be at most 400 characters$/);
    expect(() =>
      parsePolicy(edit(VALID_POLICY, 'accessDetails: Use the bastion.', `accessDetails: ${'x'.repeat(400)}`), FILE),
    ).not.toThrow();
  });

  describe('1Password plans', () => {
    const TEAMS_VAULT = `integrations:
  - name: small
    kind: onepassword
    plan: teams
    serviceAccount: latchkey-small
    token: { env: OP_SERVICE_ACCOUNT_TOKEN }
resources:
  - id: ops-vault
    integration: small
    vault: vlt_ops
    permissions: [read_items]
    grantsWholeGroup: true
    groups:
      engineering: grp_engineering
flows:
  - name: ops
    requesters:
      - group: engineering
    resources: [ops-vault]
    automatic: true
    duration: { max: PT1H }
`;

    it('refuses on Teams a permission outside its broad set and a custom group, naming file, line and key of each', () => {
      const issues = issuesOf(TEAMS_VAULT);
      expect(issues).toEqual([
        {
          file: FILE,
          ...positionOf(TEAMS_VAULT, 'permissions: [read_items]'),
          path: 'resources[0].permissions',
          message: expect.stringMatching(
            /^1Password Teams grants read_items only as part of allow_viewing \(read_items, reveal_item_password, update_item_history\); add reveal_item_password, update_item_history$/,
          ),
        },
        {
          file: FILE,
          ...positionOf(TEAMS_VAULT, 'engineering: grp_engineering'),
          path: 'resources[0].groups.engineering',
          message: expect.stringMatching(/^1Password Teams has no custom groups/),
        },
      ]);
      expect(() => parsePolicy(TEAMS_VAULT, FILE)).toThrow(`${FILE}:11:5 resources[0].permissions: 1Password Teams`);
    });

    it('accepts on Teams whole permission sets and a built-in group', () => {
      const text = edit(
        edit(TEAMS_VAULT, '[read_items]', '[read_items, reveal_item_password, update_item_history]'),
        'engineering: grp_engineering',
        'engineering: { group: grp_team, type: teamMembers }',
      );
      const sut = parsePolicy(text, FILE);
      expect(sut.integrations[0].plan).toBe('teams');
      expect(sut.resources[0]).toMatchObject({
        groups: [{ identityGroup: 'engineering', onePasswordGroup: 'grp_team', groupType: 'teamMembers' }],
      });
    });

    it('refuses on Teams editing without viewing', () => {
      const editing =
        'create_items, update_items, archive_items, delete_items, import_items, export_items, send_items, print_items';
      const text = edit(
        edit(TEAMS_VAULT, '[read_items]', `[${editing}]`),
        'engineering: grp_engineering',
        'engineering: { group: grp_team, type: teamMembers }',
      );
      expectOneIssue(
        text,
        `permissions: [${editing}]`,
        'resources[0].permissions',
        /allow_editing only with allow_viewing/,
      );
    });

    it('refuses on Business a permission without the ones it depends on, and an unknown permission', () => {
      const business = edit(TEAMS_VAULT, '    plan: teams\n', '');
      expect(parsePolicy(business, FILE).integrations[0].plan).toBe('business');
      expectOneIssue(
        edit(business, '[read_items]', '[update_items]'),
        'permissions: [update_items]',
        'resources[0].permissions',
        /^update_items needs read_items, reveal_item_password granted with it \(1Password Business\)$/,
      );
      expectOneIssue(
        edit(business, '[read_items]', '[read_items, view_everything]'),
        'permissions: [read_items, view_everything]',
        'resources[0].permissions',
        /^view_everything: not a 1Password vault permission/,
      );
    });
  });

  describe('checks beyond the schema', () => {
    it('refuses a duplicate integration name, at the second', () => {
      const text = edit(VALID_POLICY, '  - name: cloud', '  - name: demo')
        .replace('integrations: [cloud]', 'integrations: [demo]')
        .replace('integration: cloud', 'integration: demo');
      expectOneIssue(
        text,
        'name: demo\n    kind: onepassword',
        'integrations[1].name',
        /^duplicate integration name "demo" \(first defined at line 2\)$/,
      );
    });

    it('refuses a duplicate resource id', () => {
      const text = edit(VALID_POLICY, 'id: untagged', 'id: stripe-key')
        .replace('stripe-key, untagged,', 'stripe-key,')
        .replace('resources: [untagged]', 'resources: [prod-db]');
      expectOneIssue(
        text,
        'id: stripe-key\n    integration: demo\n    vault: vlt_prod\n    item: itm_untagged',
        'resources[2].id',
        /^duplicate resource id or prefix "stripe-key"/,
      );
    });

    it('refuses a selection prefix equal to a resource id', () => {
      const text = edit(VALID_POLICY, 'idPrefix: prod', 'idPrefix: prod-db').replace(', prod]', ']');
      expectOneIssue(text, 'idPrefix: prod-db', 'resources[5].idPrefix', /^duplicate resource id or prefix "prod-db"/);
    });

    it('refuses a duplicate flow name', () => {
      const text = edit(VALID_POLICY, 'name: cloud-access', 'name: prod-access');
      expectOneIssue(
        text,
        'name: prod-access\n    requesters:\n      - group: engineering\n    integrations',
        'flows[2].name',
        /^duplicate flow name "prod-access"/,
      );
    });

    it('refuses a resource naming an undefined integration', () => {
      const text = edit(VALID_POLICY, '    integration: cloud\n', '    integration: clod\n');
      expectOneIssue(text, 'integration: clod', 'resources[6].integration', /^integration "clod" is not defined$/);
    });

    it('refuses a flow naming an undefined resource', () => {
      const text = edit(VALID_POLICY, 'resources: [untagged]', 'resources: [untaged]');
      expectOneIssue(text, 'untaged]', 'flows[0].resources[0]', /^resource "untaged" is not defined$/);
    });

    it('refuses a flow naming an undefined integration', () => {
      const text = edit(VALID_POLICY, 'integrations: [cloud]', 'integrations: [cloud, onprem]');
      expectOneIssue(text, 'onprem]', 'flows[2].integrations[1]', /^integration "onprem" is not defined$/);
    });

    it('refuses a flow that offers nothing', () => {
      const text = edit(VALID_POLICY, '    integrations: [cloud]\n', '');
      expectOneIssue(
        text,
        'name: cloud-access',
        'flows[2].resources',
        /^is required: a flow offers at least one resource/,
      );
    });

    it('refuses a minimum longer than the maximum', () => {
      const text = edit(
        VALID_POLICY,
        'duration: { min: PT5M, max: PT8H, default: PT1H }',
        'duration: { min: PT9H, max: PT8H }',
      );
      expectOneIssue(text, 'min: PT9H', 'flows[1].duration.min', /^PT9H is longer than max PT8H$/);
    });

    it('refuses a default outside min..max', () => {
      const text = edit(VALID_POLICY, 'default: PT1H }', 'default: PT9H }');
      expectOneIssue(text, 'default: PT9H', 'flows[1].duration.default', /^PT9H is not between min and max$/);
    });

    it('refuses a zero duration', () => {
      const text = edit(VALID_POLICY, 'escalateAfter: PT4H', 'escalateAfter: PT0S');
      expectOneIssue(
        text,
        'escalateAfter: PT0S',
        'flows[1].approval.tiers[0].escalateAfter',
        /^must be longer than zero$/,
      );
    });

    it('refuses N of M when N is more than the users named', () => {
      const text = edit(
        VALID_POLICY,
        '        - approvers:\n            - group: security-leads\n          threshold: { atLeast: 2 }',
        '        - approvers: [{ user: dave }, { user: erin }, { user: dave }]\n          threshold: { atLeast: 3 }',
      );
      expectOneIssue(
        text,
        'threshold: { atLeast: 3 }',
        'flows[1].approval.tiers[1].threshold',
        /^atLeast 3 can never be reached: the tier names only 2 users$/,
      );
    });

    it('accepts N of M when a group may hold enough people', () => {
      const text = edit(VALID_POLICY, 'threshold: { atLeast: 2 }', 'threshold: { atLeast: 5 }');
      expect(() => parsePolicy(text, FILE)).not.toThrow();
    });

    it('refuses a justification pattern that is not a regular expression', () => {
      const text = edit(VALID_POLICY, "pattern: '^.{10,}$'", "pattern: '^(.{10,}$'");
      expectOneIssue(text, "pattern: '^(", 'flows[1].justification.pattern', /^is not a valid regular expression/);
    });

    it('refuses a tier before the last without escalateAfter', () => {
      const text = edit(VALID_POLICY, '          escalateAfter: PT4H\n', '');
      expectOneIssue(
        text,
        'approvers: [resource-owner]',
        'flows[1].approval.tiers[0]',
        /^escalateAfter is required on every tier but the last/,
      );
    });

    it('refuses escalateAfter on the last tier', () => {
      const text = edit(
        VALID_POLICY,
        '          threshold: all\n',
        '          threshold: all\n          escalateAfter: PT1H\n',
      );
      expectOneIssue(
        text,
        'escalateAfter: PT1H',
        'flows[2].approval.tiers[0].escalateAfter',
        /^the last tier has no next tier/,
      );
    });

    it('refuses an escalation that comes after the request has timed out', () => {
      const text = edit(VALID_POLICY, 'escalateAfter: PT4H', 'escalateAfter: P8D');
      expectOneIssue(
        text,
        'escalateAfter: P8D',
        'flows[1].approval.tiers[0].escalateAfter',
        /only after the request times out \(pendingTimeout P7D\)/,
      );
    });

    it('refuses reminders that could never be sent', () => {
      const text = edit(VALID_POLICY, 'reminderInterval: PT12H', 'reminderInterval: P7D');
      expectOneIssue(text, 'reminderInterval: P7D', 'flows[1].reminderInterval', /^is not shorter than pendingTimeout/);
    });

    it('refuses approval in an automatic flow', () => {
      const text = edit(
        VALID_POLICY,
        '    automatic: true\n',
        '    automatic: true\n    approval: { tiers: [{ approvers: [{ group: security }] }] }\n',
      );
      expectOneIssue(text, 'approval: { tiers', 'flows[0].approval', /^is not allowed in an automatic flow/);
    });

    it('refuses a flow with neither approval nor automatic', () => {
      const text = edit(VALID_POLICY, '    automatic: true\n', '');
      expectOneIssue(
        text,
        'name: staging-self-service',
        'flows[0].approval',
        /^is required unless the flow is automatic/,
      );
    });

    it('refuses extensions without a longest extension', () => {
      const text = edit(VALID_POLICY, 'extensions: { maxCount: 2, maxDuration: PT2H }', 'extensions: { maxCount: 2 }');
      expectOneIssue(
        text,
        'extensions: { maxCount: 2 }',
        'flows[1].extensions.maxDuration',
        /^is required when maxCount is above 0$/,
      );
    });

    it('refuses an extension longer than the longest access', () => {
      const text = edit(VALID_POLICY, 'maxDuration: PT2H }', 'maxDuration: PT9H }');
      expectOneIssue(text, 'maxDuration: PT9H', 'flows[1].extensions.maxDuration', /^is longer than duration.max PT8H/);
    });

    it('refuses reminders so frequent that a request could outgrow its history budget, naming an interval that fits', () => {
      const text = edit(VALID_POLICY, 'reminderInterval: PT12H', 'reminderInterval: PT2M');
      expectOneIssue(
        text,
        'reminderInterval: PT2M',
        'flows[1].reminderInterval',
        /^sends 5,039 reminders before pendingTimeout: a request's history could reach [\d,]+ events, over latchkey's budget of 10,000; remind at most every PT\d+M, or shorten pendingTimeout$/,
      );
    });

    it('refuses re-approval of extensions in an automatic flow', () => {
      const text = edit(
        VALID_POLICY,
        '    justification: { required: false }\n',
        '    justification: { required: false }\n    extensions: { maxCount: 1, maxDuration: PT1H, requireApproval: true }\n',
      );
      expectOneIssue(
        text,
        'requireApproval: true',
        'flows[0].extensions.requireApproval',
        /no approvers to approve an extension/,
      );
    });

    it('refuses resource-owner when the integration can name nobody', () => {
      const text = edit(VALID_POLICY, '    owners:\n      - user: olivia\n', '');
      expectOneIssue(
        text,
        'approval:\n      tiers:\n        - approvers: [resource-owner, { user: olivia }',
        'flows[2].approval',
        /^resource-owner can name nobody for integration "cloud"/,
      );
    });
  });

  describe('targets and rotators', () => {
    const TARGETS = `targets:
  - name: app-db
    kind: postgres
    admin: { env: APP_DB_ADMIN_URL }
  - name: payments
    kind: command
    command: [/usr/local/bin/rotate-payments]
resources:`;
    const withTargets = (text: string) => text.replace('resources:', TARGETS);
    const stripe = 'grant: rotate-on-revoke\n    rotator: none';

    it('reads targets, a postgres rotator with its role and a command rotator, and database logins', () => {
      const text = withTargets(VALID_POLICY)
        .replace(stripe, 'grant: rotate-on-revoke\n    rotator: { target: app-db, role: stripe_app }')
        .replace(
          '  - id: untagged',
          '  - id: app-login\n    integration: demo\n    vault: vlt_logins\n    grant: database-role\n    target: app-db\n    memberOf: [app_read]\n  - id: untagged',
        );
      const sut = parsePolicy(text, FILE);
      expect(sut.targets).toEqual([
        { name: 'app-db', kind: 'postgres', admin: { env: 'APP_DB_ADMIN_URL' } },
        { name: 'payments', kind: 'command', command: ['/usr/local/bin/rotate-payments'], timeoutMs: 60_000 },
      ]);
      expect(sut.resources.find((resource) => resource.type === 'item' && resource.id === 'stripe-key')).toMatchObject({
        rotator: { kind: 'target', target: 'app-db', role: 'stripe_app', endSessions: true },
      });
      expect(sut.resources.find((resource) => resource.type === 'database-role')).toEqual({
        type: 'database-role',
        id: 'app-login',
        integration: 'demo',
        vaultId: 'vlt_logins',
        grant: 'database-role',
        target: 'app-db',
        memberOf: ['app_read'],
        connectionLimit: 2,
      });
    });

    it('refuses a rotate-on-revoke grant that says nothing of what changes the credential where it is used', () => {
      expectOneIssue(
        edit(VALID_POLICY, stripe, 'grant: rotate-on-revoke'),
        'grant: rotate-on-revoke',
        'resources[1].grant',
        /^a rotate-on-revoke grant needs a rotator .* or rotator: none to accept that only the 1Password item changes$/,
      );
    });

    it('refuses a rotator on a share-link grant, a target that is not defined, and a postgres rotator without its role', () => {
      expectOneIssue(
        edit(VALID_POLICY, 'item: itm_prod_db', 'item: itm_prod_db\n    rotator: none'),
        'rotator: none',
        'resources[0].rotator',
        /^a rotator is for rotate-on-revoke grants only$/,
      );
      expectOneIssue(
        edit(withTargets(VALID_POLICY), stripe, 'grant: rotate-on-revoke\n    rotator: { target: nowhere, role: app }'),
        'target: nowhere',
        'resources[1].rotator.target',
        /^target "nowhere" is not defined \(add it under targets:\)$/,
      );
      expectOneIssue(
        edit(withTargets(VALID_POLICY), stripe, 'grant: rotate-on-revoke\n    rotator: { target: app-db }'),
        'rotator: { target: app-db }',
        'resources[1].rotator',
        /^a postgres rotator names the role whose password the item holds: role: ROLE$/,
      );
      expectOneIssue(
        edit(
          withTargets(VALID_POLICY),
          stripe,
          'grant: rotate-on-revoke\n    rotator: { target: payments, role: app }',
        ),
        'rotator: { target: payments, role: app }',
        'resources[1].rotator',
        /^role and endSessions are for postgres targets; a command knows its own account$/,
      );
    });

    it('refuses a database login on a command target, and a duplicate target name', () => {
      const login = (target: string) =>
        `  - id: app-login\n    integration: demo\n    vault: vlt_logins\n    grant: database-role\n    target: ${target}\n    memberOf: [app_read]\n  - id: untagged`;
      expectOneIssue(
        edit(withTargets(VALID_POLICY), '  - id: untagged', login('payments')),
        'target: payments\n    memberOf',
        'resources[2].target',
        /^a database-role grant needs a postgres target; "payments" is a command$/,
      );
      expectOneIssue(
        edit(withTargets(VALID_POLICY), '  - name: payments', '  - name: app-db'),
        'name: app-db\n    kind: command',
        'targets[1].name',
        /^duplicate target name "app-db" \(first defined at line \d+\)$/,
      );
    });

    it('refuses an admin URL written in the policy: only where it comes from', () => {
      const issues = issuesOf(
        withTargets(VALID_POLICY).replace(
          'admin: { env: APP_DB_ADMIN_URL }',
          "admin: 'postgres://admin:hunter2@db:5432/app'",
        ),
      );
      expect(issues.map((issue) => issue.path)).toEqual(['targets[0].admin']);
      expect(issues[0].message).not.toContain('hunter2');
    });
  });

  it('lists every issue of a file, in file order, in one error', () => {
    const text = edit(edit(VALID_POLICY, 'kind: local', 'kind: vault'), 'threshold: any', 'threshold: most');
    const issues = issuesOf(text);
    expect(issues.map((issue) => issue.path)).toEqual(['integrations[0].kind', 'flows[1].approval.tiers[0].threshold']);
    expect(() => parsePolicy(text, FILE)).toThrow(
      /policy is invalid \(2 issues\):\n {2}config\/policy\.yaml:3:5 integrations\[0\]\.kind: .*\n {2}config\/policy\.yaml:\d+:\d+ flows\[1\]/,
    );
  });
});

describe(loadPolicyFile.name, () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-policy-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('hashes the bytes of the file: the same as parsePolicy of its text', () => {
    const file = path.join(dir, 'policy.yaml');
    fs.writeFileSync(file, VALID_POLICY);
    const sut = loadPolicyFile(file);
    expect(sut.version).toBe(parsePolicy(VALID_POLICY, 'other').version);
    expect(sut.version).toBe(`sha256:${createHash('sha256').update(fs.readFileSync(file)).digest('hex')}`);
    expect(sut.file).toBe(file);
  });

  it('names the file in the error of a broken policy', () => {
    const file = path.join(dir, 'broken.yaml');
    fs.writeFileSync(file, edit(VALID_POLICY, 'resources: [untagged]', 'resources: [missing]'));
    expect(() => loadPolicyFile(file)).toThrow(`${file}:${positionOf(VALID_POLICY, 'untagged]').line}:`);
  });

  it('refuses a file that cannot be read', () => {
    const file = path.join(dir, 'absent.yaml');
    expect(() => loadPolicyFile(file)).toThrow(`${file}:1:1 cannot read the policy file (ENOENT)`);
  });
});
