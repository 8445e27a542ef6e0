import { demoShareLinkParams } from '../../test/support/onepassword-contract';
import { ItemCategory, ItemFieldType, ItemShareDuration, READ_ITEMS, REVEAL_ITEM_PASSWORD } from '@1password/sdk';
import { classifyOnePasswordError } from '../errors';
import { OnePasswordError } from '../port';
import { latchkeyVersion } from './client-registry';
import { OnePasswordSdkAdapter } from './sdk-adapter';
import { scriptedAdapter, type ScriptedAdapterSetup } from '../../test/support/scripted-sdk-adapter';
import { CORE_FAILURES } from '../../test/support/scripted-sdk-core';

const READS = new Set([
  'VaultsList',
  'VaultsGet',
  'ItemsList',
  'ItemsGet',
  'ItemsGetAll',
  'ItemsSharesGetAccountPolicy',
  'ItemsSharesValidateRecipients',
]);
const WRITES = new Set([
  'ItemsSharesCreate',
  'ItemsPut',
  'ItemsCreate',
  'ItemsDelete',
  'VaultsGrantGroupPermissions',
  'VaultsUpdateGroupPermissions',
  'VaultsRevokeGroupPermissions',
]);

function cost(operations: string[]): { reads: number; writes: number } {
  for (const operation of operations) {
    if (!READS.has(operation) && !WRITES.has(operation)) throw new Error(`unclassified operation ${operation}`);
  }
  return {
    reads: operations.filter((operation) => READS.has(operation)).length,
    writes: operations.filter((operation) => WRITES.has(operation)).length,
  };
}

async function refusal(promise: Promise<unknown>): Promise<OnePasswordError> {
  const error: unknown = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(OnePasswordError);
  return error as OnePasswordError;
}

describe(OnePasswordSdkAdapter.name, () => {
  let setup: ScriptedAdapterSetup;
  const share = demoShareLinkParams;

  beforeEach(async () => {
    setup = await scriptedAdapter();
  });

  describe('SDK client', () => {
    it('creates one client per integration, once, named latchkey with the package version', async () => {
      await Promise.all([setup.sut.listVaults(), setup.sut.getItem('vlt_prod', 'itm_prod_db')]);
      await setup.sut.getItem('vlt_prod', 'itm_stripe_key');
      expect(setup.core.clientConfigs).toHaveLength(1);
      expect(setup.core.clientConfigs[0]).toMatchObject({
        integrationName: 'latchkey',
        integrationVersion: latchkeyVersion(),
        serviceAccountToken: 'ops_scripted_token',
      });
    });

    it('authenticates again after 1Password says the session expired', async () => {
      setup.core.failNext('ItemsGet', CORE_FAILURES.sessionExpired);
      expect((await refusal(setup.sut.getItem('vlt_prod', 'itm_prod_db'))).kind).toBe('auth');
      await setup.sut.getItem('vlt_prod', 'itm_prod_db');
      expect(setup.core.clientConfigs).toHaveLength(2);
    });
  });

  describe('failures the classifier does not know', () => {
    it('retries them as unavailable and reports each kind once, by class and fingerprint, never by text', async () => {
      const reports: unknown[] = [];
      const { sut, core } = await scriptedAdapter({ onUnrecognisedFailure: (failure) => reports.push(failure) });
      core.failNext('ItemsGet', 'a message from a future core about "Payroll db"');
      core.failNext('ItemsGet', 'a message from a future core about "Payroll db"');
      expect((await refusal(sut.getItem('vlt_prod', 'itm_prod_db'))).kind).toBe('unavailable');
      expect((await refusal(sut.getItem('vlt_prod', 'itm_prod_db'))).kind).toBe('unavailable');
      expect(reports).toEqual([{ integration: 'demo', errorClass: 'Error', fingerprint: expect.any(String) }]);
      expect(JSON.stringify(reports)).not.toContain('Payroll');
    });
  });

  describe('share-link grant', () => {
    it('reads the item and policy, validates the recipient, then creates a one-view link in the covering bucket', async () => {
      await setup.sut.createShareLink(share({ expiry: '1d' }));

      expect(setup.core.operations()).toEqual([
        'ItemsGet',
        'ItemsSharesGetAccountPolicy',
        'ItemsSharesValidateRecipients',
        'ItemsSharesCreate',
      ]);
      const [get, policy, validate, create] = setup.core.invocations;
      expect(get.parameters).toEqual({ vault_id: 'vlt_prod', item_id: 'itm_prod_db' });
      expect(policy.parameters).toEqual({ vault_id: 'vlt_prod', item_id: 'itm_prod_db' });
      expect(validate.parameters).toMatchObject({ recipients: ['alice@example.com'] });
      expect(create.parameters.params).toEqual({
        recipients: [{ type: 'Email', parameters: { email: 'alice@example.com' } }],
        expireAfter: ItemShareDuration.OneDay,
        oneTimeOnly: true,
      });
      expect(create.parameters.item).toMatchObject({ id: 'itm_prod_db', vaultId: 'vlt_prod', version: 1 });
      expect(cost(setup.core.operations())).toEqual({ reads: 3, writes: 1 });
    });

    it('costs 3 reads and 1 write as the grant activity makes it (policy first, then the link)', async () => {
      await setup.sut.getSharePolicy('vlt_prod', 'itm_prod_db');
      await setup.sut.createShareLink(share());
      expect(setup.core.operations()).toEqual([
        'ItemsSharesGetAccountPolicy',
        'ItemsGet',
        'ItemsSharesValidateRecipients',
        'ItemsSharesCreate',
      ]);
      expect(cost(setup.core.operations())).toEqual({ reads: 3, writes: 1 });
    });

    it('costs 2 reads and 1 write once the sharing policy is cached', async () => {
      await setup.sut.createShareLink(share());
      const before = setup.core.invocations.length;
      await setup.sut.createShareLink(share());
      const second = setup.core.operations().slice(before);
      expect(second).toEqual(['ItemsGet', 'ItemsSharesValidateRecipients', 'ItemsSharesCreate']);
      expect(cost(second)).toEqual({ reads: 2, writes: 1 });
    });

    it("makes a new link on every call, as 1Password does: idempotency across attempts is the activity's", async () => {
      const params = share();
      const first = await setup.sut.createShareLink(params);
      const again = await setup.sut.createShareLink(params);
      expect(again.url).not.toEqual(first.url);
      expect(setup.core.operations().filter((operation) => operation === 'ItemsSharesCreate')).toHaveLength(2);
    });

    it('refuses a duration above the policy maximum before creating anything', async () => {
      setup.core.account.policy.maxExpiry = ItemShareDuration.SevenDays;
      const error = await refusal(setup.sut.createShareLink(share({ expiry: '14d' })));
      expect(error.kind).toBe('policy-refused');
      expect(error.message).toContain('at most 7d');
      expect(setup.core.operations()).not.toContain('ItemsSharesCreate');
    });

    it('refuses an item with files when the policy does not share files', async () => {
      setup.core.account.items[0].files = [
        { attributes: { name: 'dump.sql', id: 'f1', size: 10 }, sectionId: 's', fieldId: 'f' },
      ];
      expect((await refusal(setup.sut.createShareLink(share()))).kind).toBe('policy-refused');
      expect(setup.core.operations()).not.toContain('ItemsSharesCreate');
    });

    it('refuses a recipient 1Password does not validate, without naming them', async () => {
      const error = await refusal(setup.sut.createShareLink(share({ recipients: ['mallory@elsewhere.test'] })));
      expect(error.kind).toBe('policy-refused');
      expect(error.message).not.toContain('mallory');
      expect(setup.core.operations()).not.toContain('ItemsSharesCreate');
    });
  });

  describe('vault-group grant', () => {
    const grant = {
      vaultId: 'vlt_oncall',
      groupId: 'grp_engineering',
      permissions: ['read_items', 'reveal_item_password'],
    };

    it('grants and revokes with one write each and no reads', async () => {
      await setup.sut.grantGroupPermissions(grant);
      await setup.sut.revokeGroupPermissions({ vaultId: grant.vaultId, groupId: grant.groupId });

      expect(setup.core.invocations.map(({ name, parameters }) => ({ name, parameters }))).toEqual([
        {
          name: 'VaultsGrantGroupPermissions',
          parameters: {
            vault_id: 'vlt_oncall',
            group_permissions_list: [{ groupId: 'grp_engineering', permissions: READ_ITEMS | REVEAL_ITEM_PASSWORD }],
          },
        },
        { name: 'VaultsRevokeGroupPermissions', parameters: { vault_id: 'vlt_oncall', group_id: 'grp_engineering' } },
      ]);
      expect(cost(setup.core.operations())).toEqual({ reads: 0, writes: 2 });
    });

    it('sets the permissions when the group already has access', async () => {
      await setup.sut.grantGroupPermissions({ ...grant, permissions: ['read_items'] });
      await setup.sut.grantGroupPermissions(grant);
      expect(setup.core.operations()).toEqual([
        'VaultsGrantGroupPermissions',
        'VaultsGrantGroupPermissions',
        'VaultsUpdateGroupPermissions',
      ]);
      expect(setup.core.account.vaults[2].access).toEqual([
        { groupId: 'grp_engineering', permissions: READ_ITEMS | REVEAL_ITEM_PASSWORD },
      ]);
    });

    it('refuses a vault the service account did not create without calling 1Password', async () => {
      const error = await refusal(setup.sut.grantGroupPermissions({ ...grant, vaultId: 'vlt_prod' }));
      expect(error.kind).toBe('forbidden');
      expect(setup.core.invocations).toEqual([]);
    });

    it('explains a refusal by 1Password itself (vault listed by mistake, or a plan without the feature)', async () => {
      const misconfigured = await scriptedAdapter({ serviceAccountVaultIds: ['vlt_oncall', 'vlt_prod'] });
      const error = await refusal(misconfigured.sut.grantGroupPermissions({ ...grant, vaultId: 'vlt_prod' }));
      expect(error.kind).toBe('forbidden');
      expect(error.message).toContain('only vaults they created');
      expect(misconfigured.core.operations()).toEqual(['VaultsGrantGroupPermissions']);
    });

    it('refuses unknown permission names before any call', async () => {
      expect((await refusal(setup.sut.grantGroupPermissions({ ...grant, permissions: ['root'] }))).kind).toBe(
        'invalid-argument',
      );
      expect(setup.core.invocations).toEqual([]);
    });

    it('treats revoking absent access as done after checking the vault', async () => {
      await setup.sut.revokeGroupPermissions({ vaultId: 'vlt_oncall', groupId: 'grp_engineering' });
      expect(setup.core.operations()).toEqual(['VaultsRevokeGroupPermissions', 'VaultsGet']);
      expect(setup.core.invocations[1].parameters).toEqual({
        vault_id: 'vlt_oncall',
        vault_params: { accessors: true },
      });
    });
  });

  describe('rotation', () => {
    it('writes a generated password back to the item it read', async () => {
      const before = await setup.sut.getItemSecret('vlt_prod', 'itm_prod_db');
      const start = setup.core.invocations.length;
      const result = await setup.sut.rotateItemSecret({
        vaultId: 'vlt_prod',
        itemId: 'itm_prod_db',
        reference: 'k',
      });
      expect(setup.core.operations().slice(start)).toEqual(['ItemsGet', 'ItemsPut']);
      const put = setup.core.invocations[start + 1].parameters.item as {
        version: number;
        fields: Array<{ id: string; value: string }>;
      };
      expect(put.version).toBe(1);
      const written = put.fields.find((field) => field.id === 'password')!.value;
      expect(written).not.toBe(before);
      expect(written).toHaveLength(32);
      expect(result).toEqual({ vaultId: 'vlt_prod', itemId: 'itm_prod_db', version: 2 });
    });

    it('reads again and retries when someone changed the item in between', async () => {
      setup.core.beforeNext('ItemsPut', (account) => {
        account.items[0].version += 1;
      });
      const result = await setup.sut.rotateItemSecret({
        vaultId: 'vlt_prod',
        itemId: 'itm_prod_db',
        reference: 'k',
      });
      expect(setup.core.operations()).toEqual(['ItemsGet', 'ItemsPut', 'ItemsGet', 'ItemsPut']);
      expect(result.version).toBe(3);
    });

    it('gives up with a retryable conflict after the configured number of re-reads', async () => {
      const stubborn = await scriptedAdapter({ maxConflictRetries: 1 });
      for (let n = 0; n < 2; n++) {
        stubborn.core.beforeNext('ItemsPut', (account) => {
          account.items[0].version += 1;
        });
      }
      const error = await refusal(
        stubborn.sut.rotateItemSecret({ vaultId: 'vlt_prod', itemId: 'itm_prod_db', reference: 'k' }),
      );
      expect(error.kind).toBe('conflict');
      expect(stubborn.core.operations()).toEqual(['ItemsGet', 'ItemsPut', 'ItemsGet', 'ItemsPut']);
    });
  });

  describe('setting a secret', () => {
    const item = { vaultId: 'vlt_prod', itemId: 'itm_prod_db' };

    it('writes nothing when the item already holds the secret: one read, no write', async () => {
      const secret = await setup.sut.getItemSecret(item.vaultId, item.itemId);
      const start = setup.core.invocations.length;
      const result = await setup.sut.setItemSecret({ ...item, secret, reference: 'k' });
      expect(result).toEqual({ ...item, version: 1 });
      expect(cost(setup.core.operations().slice(start))).toEqual({ reads: 1, writes: 0 });
    });

    it('reads again after someone else changed the item, and writes nothing if they wrote the same secret', async () => {
      const secret = 'x'.repeat(32);
      setup.core.beforeNext('ItemsPut', (account) => {
        account.items[0].version += 1;
        account.items[0].fields.find((field) => field.id === 'password')!.value = secret;
      });
      const result = await setup.sut.setItemSecret({ ...item, secret, reference: 'k' });
      expect(setup.core.operations()).toEqual(['ItemsGet', 'ItemsPut', 'ItemsGet']);
      expect(result).toEqual({ ...item, version: 2 });
    });
  });

  describe('items', () => {
    const login = {
      vaultId: 'vlt_logins',
      title: 'AccessRequest:req_1 login',
      category: 'Database' as const,
      fields: [
        { id: 'username', title: 'username', type: 'text' as const, value: 'lk_req_1' },
        { id: 'password', title: 'password', type: 'concealed' as const, value: 'a-secret-for-req-1' },
        { id: 'host', title: 'host', type: 'text' as const, value: '127.0.0.1' },
      ],
      tags: ['latchkey'],
      reference: 'AccessRequest:req_1:login',
    };

    it('creates a Database item with one write: username and password built in, other fields in a section', async () => {
      const created = await setup.sut.createItem(login);
      expect(setup.core.invocations).toEqual([
        expect.objectContaining({
          name: 'ItemsCreate',
          parameters: {
            params: {
              category: 'Database',
              vaultId: 'vlt_logins',
              title: 'AccessRequest:req_1 login',
              fields: [
                { id: 'username', title: 'username', value: 'lk_req_1', fieldType: 'Text' },
                { id: 'password', title: 'password', value: 'a-secret-for-req-1', fieldType: 'Concealed' },
                { id: 'host', title: 'host', value: '127.0.0.1', fieldType: 'Text', sectionId: 'details' },
              ],
              sections: [{ id: 'details', title: 'details' }],
              tags: ['latchkey'],
            },
          },
        }),
      ]);
      expect(created).toMatchObject({ vaultId: 'vlt_logins', category: 'Database', version: 1, hasFiles: false });
      expect(created.id).toMatch(/^[a-z2-7]{26}$/);
      expect(await setup.sut.budget()).toMatchObject({ readsLastHour: 0, writesLastHour: 1 });
    });

    it("is held to the core's rule: a field outside any section must be one of the category's own", async () => {
      const client = await setup.clients.get('demo');
      const error: unknown = await client.items
        .create({
          category: ItemCategory.Database,
          vaultId: 'vlt_logins',
          title: 't',
          fields: [{ id: 'host', title: 'host', value: 'h', fieldType: ItemFieldType.Text }],
        })
        .then(
          () => undefined,
          (thrown: unknown) => thrown,
        );
      expect((error as Error).message).toBe(
        "invalid user input: encountered the following errors: custom field with id 'host' must be part of a section",
      );
      expect(classifyOnePasswordError(error).kind).toBe('invalid-argument');
    });

    it('lists a created item and no longer a deleted one, though lists are cached', async () => {
      expect(await setup.sut.listItems('vlt_logins')).toEqual([]);
      const created = await setup.sut.createItem(login);
      expect((await setup.sut.listItems('vlt_logins')).map((listed) => listed.id)).toEqual([created.id]);
      await setup.sut.deleteItem('vlt_logins', created.id);
      expect(await setup.sut.listItems('vlt_logins')).toEqual([]);
    });

    it('deletes with one write, and reports a missing item as not-found', async () => {
      await setup.sut.deleteItem('vlt_prod', 'itm_reporting_db');
      expect(setup.core.invocations).toEqual([
        expect.objectContaining({
          name: 'ItemsDelete',
          parameters: { vault_id: 'vlt_prod', item_id: 'itm_reporting_db' },
        }),
      ]);
      expect((await refusal(setup.sut.deleteItem('vlt_prod', 'itm_reporting_db'))).kind).toBe('not-found');
      expect(cost(setup.core.operations())).toEqual({ reads: 0, writes: 2 });
    });
  });

  describe('discovery', () => {
    it('caches vaults and items until refreshed', async () => {
      await setup.sut.listVaults();
      await setup.sut.listVaults();
      await setup.sut.listItems('vlt_prod');
      await setup.sut.listItems('vlt_prod');
      expect(setup.core.operations()).toEqual(['VaultsList', 'ItemsList', 'ItemsGetAll']);
      setup.sut.refreshDiscovery();
      await setup.sut.listVaults();
      expect(setup.core.operations()).toEqual(['VaultsList', 'ItemsList', 'ItemsGetAll', 'VaultsList']);
    });

    it('lists only active items, with versions and attachments from the batched read', async () => {
      const items = await setup.sut.listItems('vlt_prod');
      expect(setup.core.invocations[0].parameters).toEqual({
        vault_id: 'vlt_prod',
        filters: [{ type: 'ByState', content: { active: true, archived: false } }],
      });
      expect(items.map((item) => [item.id, item.version, item.hasFiles])).toEqual([
        ['itm_prod_db', 1, false],
        ['itm_stripe_key', 1, false],
        ['itm_reporting_db', 1, false],
      ]);
    });
  });

  describe('rate limits', () => {
    it('counts reads and writes in the budget', async () => {
      await setup.sut.createShareLink(share());
      expect(await setup.sut.budget()).toMatchObject({ readsLastHour: 3, writesLastHour: 1, requestsLastDay: 4 });
    });

    it('stops sending after 1Password answers rate-limited, until its hourly window resets', async () => {
      let now = 1_000_000;
      const limited = await scriptedAdapter({ now: () => now, budgetOptions: { now: () => now } });
      await limited.sut.getItem('vlt_prod', 'itm_prod_db');
      now += 45 * 60_000;
      limited.core.failNext('ItemsGet', CORE_FAILURES.rateLimited, 'RateLimitExceeded');
      const error = await refusal(limited.sut.getItem('vlt_prod', 'itm_prod_db'));
      // The window began with the first request, 45 minutes ago: it resets in 15.
      expect(error).toMatchObject({ kind: 'rate-limited', retryAfterMs: 15 * 60_000 });
      expect((await limited.sut.budget()).rateLimitedBy1Password).toBe(1);
      expect((await refusal(limited.sut.getItem('vlt_prod', 'itm_prod_db'))).kind).toBe('rate-limited');
      now += 15 * 60_000;
      await limited.sut.getItem('vlt_prod', 'itm_prod_db');
    });
  });
});
