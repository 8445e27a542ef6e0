import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Identity } from '../contracts/identity';
import { demoCatalog } from './demo-catalog';
import { evaluateRequest, requestableResources } from './evaluate';
import { PolicyError, formatIssue } from './errors';
import { loadPolicyFile, parsePolicy } from './load';

/** The example policy that `npm start` uses must load and must say what docs/demo-data.md says. */
describe('config/policy.yaml with the demo catalog', () => {
  const sut = loadPolicyFile(path.join(__dirname, '..', 'config', 'policy.yaml'));
  const catalog = demoCatalog('2026-11-27T00:00:00.000Z');
  const alice: Identity = { id: 'alice', email: 'alice@example.com', groups: ['engineering'] };
  const why = { justification: 'INC-7: checking a failed migration' };

  it('loads', () => {
    expect(sut.version).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(sut.integrations).toEqual([
      {
        name: 'demo',
        kind: 'local',
        plan: 'business',
        serviceAccount: 'latchkey-demo',
        accessDetails: 'Connect through the bastion: ssh bastion.example.com, then psql.',
        reconcile: 'repair',
        owners: [{ kind: 'group', id: 'security' }],
        resourceOwner: { tagKey: 'owner' },
      },
    ]);
  });

  it('lets engineering request every demo resource', () => {
    expect(requestableResources(sut, catalog, alice).map((resource) => [resource.id, resource.grantMode])).toEqual([
      ['prod-db', 'share-link'],
      ['stripe-key', 'rotate-on-revoke'],
      ['reporting-db', 'rotate-on-revoke'],
      ['reporting-login', 'database-role'],
      ['staging-db', 'share-link'],
      ['oncall-vault', 'vault-group'],
    ]);
    expect(requestableResources(sut, catalog, { id: 'erin', email: 'erin@example.com', groups: ['payments'] })).toEqual(
      [],
    );
  });

  it('alice/prod-db for PT2H: the security group (the owner tag) approves, security-leads after PT4H', () => {
    const evaluation = evaluateRequest(sut, catalog, alice, { resourceId: 'prod-db', duration: 'PT2H', ...why });
    expect(evaluation.ok).toBe(true);
    if (!evaluation.ok) return;
    const { snapshot } = evaluation;
    expect(snapshot.flowName).toBe('prod-access');
    expect(snapshot.resource.owner).toEqual({ kind: 'group', id: 'security' });
    expect(snapshot.approval.tiers).toEqual([
      { approvers: [{ kind: 'group', id: 'security' }], threshold: { kind: 'any' }, escalateAfterMs: 4 * 3_600_000 },
      { approvers: [{ kind: 'group', id: 'security-leads' }], threshold: { kind: 'any' } },
    ]);
    expect(snapshot).toMatchObject({
      durationMs: 2 * 3_600_000,
      maxDurationMs: 8 * 3_600_000,
      pendingTimeoutMs: 7 * 86_400_000,
      reminderIntervalMs: 12 * 3_600_000,
      extensions: { maxCount: 1, maxExtensionMs: 2 * 3_600_000, requireApproval: true },
      grant: {
        mode: 'share-link',
        vaultId: 'vlt_prod',
        itemId: 'itm_prod_db',
        oneTimeView: true,
        rotateOnRevoke: false,
      },
    });
  });

  it('stripe-key: security approves, the secret is rotated at the end', () => {
    const evaluation = evaluateRequest(sut, catalog, alice, { resourceId: 'stripe-key', ...why });
    expect(evaluation.ok && evaluation.snapshot.approval.tiers).toEqual([
      { approvers: [{ kind: 'group', id: 'security' }], threshold: { kind: 'any' } },
    ]);
    expect(evaluation.ok && evaluation.snapshot.grant).toMatchObject({ rotateOnRevoke: true });
  });

  it('staging-db: automatic', () => {
    const evaluation = evaluateRequest(sut, catalog, alice, { resourceId: 'staging-db', duration: 'PT1M', ...why });
    expect(evaluation.ok && evaluation.snapshot.approval).toEqual({
      automatic: true,
      tiers: [],
      allowSelfApproval: false,
    });
  });

  it('oncall-vault: engineering maps to grp_engineering with the two permissions', () => {
    const evaluation = evaluateRequest(sut, catalog, alice, { resourceId: 'oncall-vault', ...why });
    expect(evaluation.ok && evaluation.snapshot.grant).toEqual({
      mode: 'vault-group',
      vaultId: 'vlt_oncall',
      groupId: 'grp_engineering',
      permissions: ['read_items', 'reveal_item_password'],
    });
  });

  it('allows one minute up to eight hours, one hour by default', () => {
    const ask = (duration?: string) =>
      evaluateRequest(sut, catalog, alice, { resourceId: 'prod-db', ...(duration ? { duration } : {}), ...why });
    expect(ask('PT1M').ok).toBe(true);
    expect(ask('PT8H').ok).toBe(true);
    expect(ask('PT59S')).toMatchObject({ ok: false, refusal: { code: 'duration-too-short' } });
    expect(ask('PT8H1S')).toMatchObject({ ok: false, refusal: { code: 'duration-too-long' } });
    expect(ask()).toMatchObject({ ok: true, snapshot: { durationMs: 3_600_000 } });
  });

  it('requires a justification of at least 10 characters; the ticket is optional', () => {
    const ask = (justification?: string) =>
      evaluateRequest(sut, catalog, alice, {
        resourceId: 'prod-db',
        ...(justification !== undefined ? { justification } : {}),
      });
    expect(ask()).toMatchObject({ ok: false, refusal: { code: 'justification-required' } });
    expect(ask('too short')).toMatchObject({ ok: false, refusal: { code: 'justification-mismatch' } });
    expect(ask('  ten chars!  ').ok).toBe(true);
  });
});

describe('docs/policy.md', () => {
  const docs = fs.readFileSync(path.join(__dirname, '..', 'docs', 'policy.md'), 'utf8');
  const example = fs.readFileSync(path.join(__dirname, '..', 'config', 'policy.yaml'), 'utf8');

  it('shows errors that the example policy really produces', () => {
    const threshold = example.replace('threshold: any # any', 'threshold: most # any');
    const resource = example.replace('resources: [prod-db]', 'resources: [prod-dbb]');
    for (const broken of [threshold, resource]) {
      expect(broken).not.toBe(example);
      try {
        parsePolicy(broken, 'config/policy.yaml');
        throw new Error('accepted');
      } catch (error) {
        expect(error).toBeInstanceOf(PolicyError);
        expect(docs).toContain(formatIssue((error as PolicyError).issues[0]));
      }
    }
  });

  it('has a short example that is a valid policy', () => {
    const block = /## A short example\s+```yaml\n([\s\S]*?)```/.exec(docs);
    expect(block).not.toBeNull();
    expect(parsePolicy(block![1], 'example.yaml').flows[0].name).toBe('prod-access');
  });
});
