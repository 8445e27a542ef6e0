import { randomBytes, randomUUID } from 'node:crypto';
import { EXPIRY_BUCKET_MS, EXPIRY_BUCKETS } from '../../domain/share-links';
import {
  ONEPASSWORD_ERROR_KINDS,
  OnePasswordError,
  type CreateItemParams,
  type CreateShareLinkParams,
  type OnePasswordPort,
} from '../../onepassword/port';

/**
 * The behaviour every OnePasswordPort adapter must show, registered as jest tests for any adapter:
 * the local 1Password, the real adapter over the SDK with a scripted core, and the real adapter
 * against a live account. Observations outside the port (group access) come from the fixture, which
 * reads them its own way.
 */
export interface ContractAccount {
  /** An item that may be shared to `allowedRecipient` and rotated. */
  item: { vaultId: string; itemId: string; title: string; tags: string[] };
  /** An id in the item's vault that names no item. */
  missingItemId: string;
  /** A vault where the service account may make and delete items (per-request logins). */
  itemsVaultId: string;
  /** A vault the service account created: group permissions may be managed there. */
  managedVaultId: string;
  /** A vault it did not create: 1Password refuses group permission changes. */
  unmanagedVaultId: string;
  groupId: string;
  allowedRecipient: string;
  /** An address the account's sharing policy does not allow. */
  refusedRecipient: string;
}

/** The demo seed's account (docs/demo-data.md), which the local 1Password and the scripted SDK core both hold. */
export const DEMO_CONTRACT_ACCOUNT: ContractAccount = {
  item: {
    vaultId: 'vlt_prod',
    itemId: 'itm_prod_db',
    title: 'Production database',
    tags: ['owner:security', 'env:prod'],
  },
  missingItemId: 'itm_missing',
  itemsVaultId: 'vlt_logins',
  managedVaultId: 'vlt_oncall',
  unmanagedVaultId: 'vlt_prod',
  groupId: 'grp_engineering',
  allowedRecipient: 'alice@example.com',
  refusedRecipient: 'mallory@elsewhere.test',
};

/** A share-link request for the demo item, with a fresh reference unless one is given. */
export function demoShareLinkParams(overrides: Partial<CreateShareLinkParams> = {}): CreateShareLinkParams {
  return {
    vaultId: 'vlt_prod',
    itemId: 'itm_prod_db',
    recipients: ['alice@example.com'],
    expiry: '1d',
    oneTimeOnly: true,
    reference: `AccessRequest:req_${randomUUID()}:grant`,
    ...overrides,
  };
}

export interface ContractFixture {
  sut: OnePasswordPort;
  account: ContractAccount;
  /** Permission names the group has on the vault now; empty when it has none. */
  groupPermissions(vaultId: string, groupId: string): Promise<string[]>;
  dispose?(): Promise<void>;
  /**
   * Makes the backend fail as it really does (the scripted core with the pinned core's messages, the
   * local 1Password with its faults) in `call` until `clearFailures`. Absent against a live account.
   */
  injectFailure?(failure: InjectedFailure, call: FailingCall): Promise<void>;
  clearFailures?(): Promise<void>;
}

/** Failures every adapter must report with the same kind, whatever its backend says. */
export const INJECTED_FAILURE_KINDS = {
  'token-revoked': 'auth',
  outage: 'unavailable',
  'rate-limited': 'rate-limited',
} as const;
export type InjectedFailure = keyof typeof INJECTED_FAILURE_KINDS;

/** The calls made to fail: a read, and each write that makes, changes or deletes an item. */
export const FAILING_CALLS = ['getItem', 'setItemSecret', 'createItem', 'deleteItem'] as const;
export type FailingCall = (typeof FAILING_CALLS)[number];

const FAILURE_CASES = Object.entries(INJECTED_FAILURE_KINDS).flatMap(([failure, kind]) =>
  FAILING_CALLS.map((call) => [failure as InjectedFailure, call, kind] as const),
);

async function rejection(promise: Promise<unknown>): Promise<OnePasswordError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(OnePasswordError);
    expect(ONEPASSWORD_ERROR_KINDS).toContain((error as OnePasswordError).kind);
    return error as OnePasswordError;
  }
  throw new Error('expected the call to be refused, but it succeeded');
}

/** References unique per run, so runs against a live account can be told apart. */
function key(step: string): string {
  return `contract-${randomUUID()}:${step}`;
}

function newSecret(): string {
  return randomBytes(24).toString('base64url');
}

/** A per-request database login, as latchkey makes them, with a title unique to this run. */
function loginParams(vaultId: string, password = newSecret()): CreateItemParams {
  return {
    vaultId,
    title: `latchkey contract login ${randomUUID()}`,
    category: 'Database',
    fields: [
      { id: 'username', title: 'username', type: 'text', value: 'lk_contract' },
      { id: 'password', title: 'password', type: 'concealed', value: password },
      { id: 'host', title: 'host', type: 'text', value: '127.0.0.1' },
      { id: 'port', title: 'port', type: 'text', value: '5432' },
      { id: 'database', title: 'database', type: 'text', value: 'demo' },
    ],
    tags: ['latchkey-contract'],
    reference: key('login'),
  };
}

export function registerOnePasswordContract(
  adapterName: string,
  makeFixture: () => Promise<ContractFixture>,
  { injectsFailures = true }: { injectsFailures?: boolean } = {},
): void {
  describe(`OnePasswordPort contract: ${adapterName}`, () => {
    let fixture: ContractFixture;
    let account: ContractAccount;

    beforeAll(async () => {
      fixture = await makeFixture();
      account = fixture.account;
    });

    afterAll(async () => {
      await fixture?.dispose?.();
    });

    describe('discovery', () => {
      it('lists vaults and says which ones the service account created', async () => {
        const vaults = await fixture.sut.listVaults();
        expect(vaults).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ id: account.managedVaultId, createdByServiceAccount: true }),
            expect.objectContaining({ id: account.unmanagedVaultId, createdByServiceAccount: false }),
          ]),
        );
      });

      it('lists the items of a vault with their tags and versions', async () => {
        const items = await fixture.sut.listItems(account.item.vaultId);
        const listed = items.find((item) => item.id === account.item.itemId);
        expect(listed).toMatchObject({ vaultId: account.item.vaultId, title: account.item.title });
        expect(listed!.tags).toEqual(expect.arrayContaining(account.item.tags));
        expect(listed!.version).toBeGreaterThanOrEqual(1);
      });

      it('reads one item as it is listed', async () => {
        const item = await fixture.sut.getItem(account.item.vaultId, account.item.itemId);
        expect(item).toMatchObject({
          id: account.item.itemId,
          vaultId: account.item.vaultId,
          title: account.item.title,
        });
        expect(item.tags).toEqual(expect.arrayContaining(account.item.tags));
        expect(typeof item.hasFiles).toBe('boolean');
      });

      it('refuses an unknown item as not-found', async () => {
        const error = await rejection(fixture.sut.getItem(account.item.vaultId, account.missingItemId));
        expect(error.kind).toBe('not-found');
      });
    });

    describe('share links', () => {
      it('reads a sharing policy made of real expiry buckets', async () => {
        const policy = await fixture.sut.getSharePolicy(account.item.vaultId, account.item.itemId);
        expect(EXPIRY_BUCKETS).toContain(policy.maxExpiry);
        expect(EXPIRY_BUCKETS).toContain(policy.defaultExpiry);
        expect(typeof policy.filesAllowed).toBe('boolean');
      });

      it('creates a one-view link to the recipient that expires at the end of its bucket', async () => {
        const before = Date.now();
        const link = await fixture.sut.createShareLink({
          vaultId: account.item.vaultId,
          itemId: account.item.itemId,
          recipients: [account.allowedRecipient],
          expiry: '1h',
          oneTimeOnly: true,
          reference: key('share'),
        });
        const after = Date.now();
        expect(link.url).toMatch(/^https:\/\//);
        const expiresAt = Date.parse(link.expiresAt);
        expect(expiresAt).toBeGreaterThanOrEqual(before + EXPIRY_BUCKET_MS['1h'] - 1_000);
        expect(expiresAt).toBeLessThanOrEqual(after + EXPIRY_BUCKET_MS['1h'] + 1_000);
      });

      it('makes a second link when asked twice, as 1Password has no idempotency key', async () => {
        const params = {
          vaultId: account.item.vaultId,
          itemId: account.item.itemId,
          recipients: [account.allowedRecipient],
          expiry: '1d' as const,
          oneTimeOnly: true,
          reference: key('share'),
        };
        const first = await fixture.sut.createShareLink(params);
        const again = await fixture.sut.createShareLink(params);
        expect(again.url).not.toEqual(first.url);
      });

      it('refuses a recipient the sharing policy does not allow, without naming the recipient', async () => {
        const error = await rejection(
          fixture.sut.createShareLink({
            vaultId: account.item.vaultId,
            itemId: account.item.itemId,
            recipients: [account.refusedRecipient],
            expiry: '1h',
            oneTimeOnly: true,
            reference: key('share'),
          }),
        );
        expect(error.kind).toBe('policy-refused');
        expect(error.message).not.toContain(account.refusedRecipient);
        expect(error.message).not.toContain(account.refusedRecipient.split('@')[0]);
      });

      it('refuses a link to an unknown item as not-found', async () => {
        const error = await rejection(
          fixture.sut.createShareLink({
            vaultId: account.item.vaultId,
            itemId: account.missingItemId,
            recipients: [account.allowedRecipient],
            expiry: '1h',
            oneTimeOnly: true,
            reference: key('share'),
          }),
        );
        expect(error.kind).toBe('not-found');
      });
    });

    describe('vault group permissions', () => {
      it('grants, grants again without change, and revokes on a vault the service account created', async () => {
        const grant = {
          vaultId: account.managedVaultId,
          groupId: account.groupId,
          permissions: ['read_items', 'reveal_item_password'],
        };
        await fixture.sut.grantGroupPermissions(grant);
        expect((await fixture.groupPermissions(grant.vaultId, grant.groupId)).sort()).toEqual(
          ['read_items', 'reveal_item_password'].sort(),
        );
        await fixture.sut.grantGroupPermissions(grant);
        expect((await fixture.groupPermissions(grant.vaultId, grant.groupId)).sort()).toEqual(
          ['read_items', 'reveal_item_password'].sort(),
        );
        await fixture.sut.revokeGroupPermissions({ vaultId: grant.vaultId, groupId: grant.groupId });
        expect(await fixture.groupPermissions(grant.vaultId, grant.groupId)).toEqual([]);
      });

      it('names a group and its kind, and refuses an unknown group as not-found', async () => {
        const group = await fixture.sut.describeGroup(account.groupId);
        expect(group).toMatchObject({ id: account.groupId, title: expect.any(String), type: expect.any(String) });
        expect(group.title.length).toBeGreaterThan(0);
        expect((await rejection(fixture.sut.describeGroup('grp_missing_for_contract'))).kind).toBe('not-found');
      });

      it('lists the groups holding permissions on a vault, as the reconciler reads them', async () => {
        const grant = { vaultId: account.managedVaultId, groupId: account.groupId, permissions: ['read_items'] };
        await fixture.sut.grantGroupPermissions(grant);
        expect(await fixture.sut.listGroupPermissions(grant.vaultId)).toContainEqual({
          groupId: grant.groupId,
          permissions: ['read_items'],
        });
        await fixture.sut.revokeGroupPermissions({ vaultId: grant.vaultId, groupId: grant.groupId });
        const after = await fixture.sut.listGroupPermissions(grant.vaultId);
        expect(after.map((entry) => entry.groupId)).not.toContain(grant.groupId);
      });

      it('succeeds in revoking permissions that are not granted', async () => {
        await fixture.sut.revokeGroupPermissions({ vaultId: account.managedVaultId, groupId: account.groupId });
        await fixture.sut.revokeGroupPermissions({ vaultId: account.managedVaultId, groupId: account.groupId });
        expect(await fixture.groupPermissions(account.managedVaultId, account.groupId)).toEqual([]);
      });

      it('refuses group permissions on a vault the service account did not create as forbidden', async () => {
        const error = await rejection(
          fixture.sut.grantGroupPermissions({
            vaultId: account.unmanagedVaultId,
            groupId: account.groupId,
            permissions: ['read_items'],
          }),
        );
        expect(error.kind).toBe('forbidden');
        expect(await fixture.groupPermissions(account.unmanagedVaultId, account.groupId)).toEqual([]);
      });
    });

    // A live account cannot be made to fail on demand; its failures are the classifier's tests.
    if (injectsFailures) {
      describe('failures', () => {
        /** Each call ready to be made twice: refused, then once the failure is over. */
        const prepare: Record<FailingCall, () => Promise<() => Promise<unknown>>> = {
          getItem: () => Promise.resolve(() => fixture.sut.getItem(account.item.vaultId, account.item.itemId)),
          setItemSecret: () => {
            const { vaultId, itemId } = account.item;
            const params = { vaultId, itemId, secret: newSecret(), reference: key('set') };
            return Promise.resolve(() => fixture.sut.setItemSecret(params));
          },
          createItem: () =>
            Promise.resolve(async () => {
              const item = await fixture.sut.createItem(loginParams(account.itemsVaultId));
              await fixture.sut.deleteItem(item.vaultId, item.id);
            }),
          deleteItem: async () => {
            const item = await fixture.sut.createItem(loginParams(account.itemsVaultId));
            return () => fixture.sut.deleteItem(item.vaultId, item.id);
          },
        };

        it.each(FAILURE_CASES)(
          'reports %s in %s as %s, and works again once it is over',
          async (failure, call, kind) => {
            if (!fixture.injectFailure || !fixture.clearFailures) {
              throw new Error(`${adapterName} cannot inject failures; register it with { injectsFailures: false }`);
            }
            const attempt = await prepare[call]();
            await fixture.injectFailure(failure, call);
            expect((await rejection(attempt())).kind).toBe(kind);
            await fixture.clearFailures();
            await attempt();
          },
        );
      });
    }

    describe('item secrets', () => {
      it('gives the item a new secret and version on every rotation, as 1Password has no idempotency key', async () => {
        const { vaultId, itemId } = account.item;
        const secretBefore = await fixture.sut.getItemSecret(vaultId, itemId);
        const versionBefore = (await fixture.sut.getItem(vaultId, itemId)).version;
        const reference = key('rotate');

        const rotated = await fixture.sut.rotateItemSecret({ vaultId, itemId, reference });
        const secretAfter = await fixture.sut.getItemSecret(vaultId, itemId);
        expect(rotated).toEqual({ vaultId, itemId, version: versionBefore + 1 });
        expect(secretAfter).not.toBe(secretBefore);
        expect(secretAfter.length).toBeGreaterThanOrEqual(20);

        const again = await fixture.sut.rotateItemSecret({ vaultId, itemId, reference });
        expect(again).toEqual({ vaultId, itemId, version: versionBefore + 2 });
        expect(await fixture.sut.getItemSecret(vaultId, itemId)).not.toBe(secretAfter);
      });

      it('sets a given secret, and sets it again without a new version (a retried attempt)', async () => {
        const { vaultId, itemId } = account.item;
        const versionBefore = (await fixture.sut.getItem(vaultId, itemId)).version;
        const secret = newSecret();

        const set = await fixture.sut.setItemSecret({ vaultId, itemId, secret, reference: key('set') });
        expect(set).toEqual({ vaultId, itemId, version: versionBefore + 1 });
        expect(await fixture.sut.getItemSecret(vaultId, itemId)).toBe(secret);

        expect(await fixture.sut.setItemSecret({ vaultId, itemId, secret, reference: key('set') })).toEqual(set);
        expect((await fixture.sut.getItem(vaultId, itemId)).version).toBe(versionBefore + 1);
      });

      it('sets a different secret as a new version', async () => {
        const { vaultId, itemId } = account.item;
        const first = await fixture.sut.setItemSecret({ vaultId, itemId, secret: newSecret(), reference: key('set') });
        const secret = newSecret();
        const second = await fixture.sut.setItemSecret({ vaultId, itemId, secret, reference: key('set') });
        expect(second).toEqual({ vaultId, itemId, version: first.version + 1 });
        expect(await fixture.sut.getItemSecret(vaultId, itemId)).toBe(secret);
      });

      it('refuses the secret of an unknown item as not-found', async () => {
        const { vaultId } = account.item;
        const params = { vaultId, itemId: account.missingItemId, secret: newSecret(), reference: key('set') };
        expect((await rejection(fixture.sut.getItemSecret(vaultId, account.missingItemId))).kind).toBe('not-found');
        expect((await rejection(fixture.sut.setItemSecret(params))).kind).toBe('not-found');
      });
    });

    describe('items', () => {
      it('creates a database login that is found by id and in its vault, with its password as its secret', async () => {
        const password = newSecret();
        const params = loginParams(account.itemsVaultId, password);
        const created = await fixture.sut.createItem(params);
        const expected = { id: created.id, vaultId: params.vaultId, title: params.title, category: 'Database' };
        expect(created).toMatchObject({ ...expected, version: 1, hasFiles: false });
        expect(created.tags).toEqual(params.tags);

        const read = await fixture.sut.getItem(params.vaultId, created.id);
        expect(read).toMatchObject(expected);
        expect(read.tags).toEqual(params.tags);
        expect((await fixture.sut.listItems(params.vaultId)).find((item) => item.id === created.id)).toMatchObject(
          expected,
        );
        expect(await fixture.sut.getItemSecret(params.vaultId, created.id)).toBe(password);

        await fixture.sut.deleteItem(params.vaultId, created.id);
      });

      it('deletes an item, and refuses to delete it again as not-found', async () => {
        const created = await fixture.sut.createItem(loginParams(account.itemsVaultId));
        await fixture.sut.deleteItem(created.vaultId, created.id);
        expect((await rejection(fixture.sut.getItem(created.vaultId, created.id))).kind).toBe('not-found');
        expect((await fixture.sut.listItems(created.vaultId)).map((item) => item.id)).not.toContain(created.id);
        expect((await rejection(fixture.sut.deleteItem(created.vaultId, created.id))).kind).toBe('not-found');
      });
    });
  });
}
