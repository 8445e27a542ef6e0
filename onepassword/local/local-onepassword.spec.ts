import { demoShareLinkParams } from '../../test/support/onepassword-contract';
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type CreateItemParams, OnePasswordError } from '../port';
import { describeAccess } from './describe-access';
import { LocalOnePassword } from './local-onepassword';
import type { LocalState } from './state';

describe(LocalOnePassword.name, () => {
  let dir: string;
  let stateFile: string;
  let now: Date;
  let sut: LocalOnePassword;

  const share = demoShareLinkParams;

  async function refusal(promise: Promise<unknown>): Promise<OnePasswordError> {
    const error: unknown = await promise.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(OnePasswordError);
    return error as OnePasswordError;
  }

  const stateOnDisk = async (): Promise<LocalState> => JSON.parse(await readFile(stateFile, 'utf8')) as LocalState;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'latchkey-local-1password-'));
    stateFile = path.join(dir, 'local-1password.json');
    now = new Date('2026-11-27T10:00:00.000Z');
    sut = new LocalOnePassword({ stateFile, clock: () => now });
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  describe('the state file', () => {
    it('sees every change another writer made, though it keeps what it wrote last in memory', async () => {
      const other = new LocalOnePassword({ stateFile, clock: () => now });
      await sut.createShareLink(share());
      await other.createShareLink(share());
      // Changed by hand, as the CLI or an administrator would.
      const edited = await stateOnDisk();
      edited.sharePolicy.maxExpiry = '1d';
      await writeFile(stateFile, JSON.stringify(edited));
      expect((await sut.getSharePolicy('vlt_prod', 'itm_prod_db')).maxExpiry).toBe('1d');
      await other.createShareLink(share());
      expect((await sut.readState()).shareLinks).toHaveLength(3);
      expect((await stateOnDisk()).counters.writes.createShareLink).toBe(3);
    });
  });

  describe('seed', () => {
    it('seeds the demo account when the file does not exist', async () => {
      const vaults = await sut.listVaults();
      expect(vaults).toEqual([
        { id: 'vlt_prod', title: 'Production', createdByServiceAccount: false },
        { id: 'vlt_staging', title: 'Staging', createdByServiceAccount: false },
        { id: 'vlt_oncall', title: 'On-call runbooks', createdByServiceAccount: true },
        { id: 'vlt_logins', title: 'latchkey database logins', createdByServiceAccount: true },
      ]);
      const state = await stateOnDisk();
      expect(state.items.map((item) => [item.id, item.vaultId, item.tags])).toEqual([
        ['itm_prod_db', 'vlt_prod', ['owner:security', 'env:prod']],
        ['itm_stripe_key', 'vlt_prod', ['owner:payments', 'env:prod']],
        ['itm_reporting_db', 'vlt_prod', ['owner:security']],
        ['itm_staging_db', 'vlt_staging', ['env:staging']],
        ['itm_runbook', 'vlt_oncall', ['env:prod']],
      ]);
      expect(state.groups.map((group) => group.id)).toEqual(['grp_engineering', 'grp_security']);
      expect(state.sharePolicy).toEqual({
        maxExpiry: '30d',
        defaultExpiry: '7d',
        allowedRecipientDomains: ['example.com'],
        allowedTypes: ['authenticated'],
        oneTimeOnly: false,
        filesAllowed: false,
      });
      expect(state.integration).toBe('demo');
      expect(state.serviceAccount).toBe('latchkey-demo');
    });

    it('generates different secrets on every seed', async () => {
      const first = await sut.getItemSecret('vlt_prod', 'itm_prod_db');
      await sut.reset();
      const second = await sut.getItemSecret('vlt_prod', 'itm_prod_db');
      expect(second).not.toBe(first);
      expect(first.length).toBeGreaterThanOrEqual(20);
    });

    it('seeds a reporting database login whose password the port reads', async () => {
      const password = await sut.getItemSecret('vlt_prod', 'itm_reporting_db');
      expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
      const item = (await stateOnDisk()).items.find((candidate) => candidate.id === 'itm_reporting_db')!;
      expect(item).toMatchObject({ title: 'Reporting database', category: 'Database' });
      expect(item.fields.map(({ id, type, value }) => [id, type, value])).toEqual([
        ['username', 'text', 'reporting'],
        ['password', 'concealed', password],
        ['host', 'text', '127.0.0.1'],
        ['port', 'text', '5433'],
        ['database', 'text', 'demo'],
      ]);
      expect(await sut.listItems('vlt_logins')).toEqual([]);
    });
  });

  describe('share links', () => {
    it('records the link with recipients, expiry and views left, and lets the recipient view it once', async () => {
      const link = await sut.createShareLink(share());
      const recorded = (await stateOnDisk()).shareLinks[0];
      expect(recorded).toMatchObject({
        vaultId: 'vlt_prod',
        itemId: 'itm_prod_db',
        expiry: '1d',
        expiresAt: '2026-11-28T10:00:00.000Z',
        recipients: [{ email: 'alice@example.com', viewsLeft: 1, viewedAt: [] }],
      });
      expect(link.expiresAt).toBe('2026-11-28T10:00:00.000Z');

      const view = await sut.viewShareLink(link.url, 'Alice@example.com');
      expect(view.title).toBe('Production database');
      expect(view.fields.find((field) => field.title === 'password')!.value).toBe(
        await sut.getItemSecret('vlt_prod', 'itm_prod_db'),
      );
      expect(view.viewsLeft).toBe(0);
      expect((await refusal(sut.viewShareLink(link.url, 'alice@example.com'))).message).toBe(
        'the share link has no views left',
      );
    });

    it('refuses a view by someone who is not a recipient, and any view after expiry', async () => {
      const link = await sut.createShareLink(share({ oneTimeOnly: false }));
      expect((await refusal(sut.viewShareLink(link.url, 'bob@example.com'))).kind).toBe('forbidden');
      await sut.viewShareLink(link.url, 'alice@example.com');
      await sut.viewShareLink(link.url, 'alice@example.com');
      now = new Date('2026-11-28T10:00:00.000Z');
      expect((await refusal(sut.viewShareLink(link.url, 'alice@example.com'))).message).toBe(
        'the share link has expired',
      );
    });

    it('refuses a tampered link as not-found', async () => {
      const link = await sut.createShareLink(share());
      expect((await refusal(sut.viewShareLink(link.url + 'x', 'alice@example.com'))).kind).toBe('not-found');
    });

    it('keeps the snapshot a link was made from, even after rotation', async () => {
      const link = await sut.createShareLink(share());
      const secretAtShare = await sut.getItemSecret('vlt_prod', 'itm_prod_db');
      await sut.rotateItemSecret({ vaultId: 'vlt_prod', itemId: 'itm_prod_db', reference: 'k:rotate' });
      const view = await sut.viewShareLink(link.url, 'alice@example.com');
      expect(view.fields.find((field) => field.title === 'password')!.value).toBe(secretAtShare);
    });

    it('refuses an expiry longer than the policy maximum, with the reason', async () => {
      await sut.administer((state) => {
        state.sharePolicy.maxExpiry = '7d';
      });
      const error = await refusal(sut.createShareLink(share({ expiry: '14d' })));
      expect(error.kind).toBe('policy-refused');
      expect(error.message).toContain('at most 7d');
      expect((await stateOnDisk()).shareLinks).toEqual([]);
    });

    it('refuses items with files when the policy forbids file sharing', async () => {
      await sut.administer((state) => {
        state.items[0].files = ['dump.sql'];
      });
      expect((await refusal(sut.createShareLink(share()))).message).toContain('items with files');
    });

    it('refuses a link that is not one-time when the policy allows only one-time links', async () => {
      await sut.administer((state) => {
        state.sharePolicy.oneTimeOnly = true;
      });
      expect((await refusal(sut.createShareLink(share({ oneTimeOnly: false })))).kind).toBe('policy-refused');
      await expect(sut.createShareLink(share({ oneTimeOnly: true }))).resolves.toBeDefined();
    });

    it('refuses an unknown bucket and a malformed recipient as invalid-argument', async () => {
      expect((await refusal(sut.createShareLink(share({ expiry: '2h' as never })))).kind).toBe('invalid-argument');
      expect((await refusal(sut.createShareLink(share({ recipients: ['not-an-address'] })))).kind).toBe(
        'invalid-argument',
      );
    });

    it('makes a new link for every call, as 1Password does, and records who asked', async () => {
      const first = await sut.createShareLink(share({ reference: 'k:grant' }));
      const again = await sut.createShareLink(share({ reference: 'k:grant' }));
      expect(again.url).not.toBe(first.url);
      expect((await stateOnDisk()).shareLinks.map((link) => link.reference)).toEqual(['k:grant', 'k:grant']);
    });
  });

  describe('group permissions', () => {
    it('refuses unknown permission names and unknown groups', async () => {
      const base = { vaultId: 'vlt_oncall', groupId: 'grp_engineering' };
      expect((await refusal(sut.grantGroupPermissions({ ...base, permissions: ['read_everything'] }))).kind).toBe(
        'invalid-argument',
      );
      expect(
        (await refusal(sut.grantGroupPermissions({ ...base, groupId: 'grp_nobody', permissions: ['read_items'] })))
          .kind,
      ).toBe('not-found');
    });

    it('replaces the permissions when a group is granted different ones', async () => {
      const base = { vaultId: 'vlt_oncall', groupId: 'grp_engineering' };
      await sut.grantGroupPermissions({ ...base, permissions: ['read_items'] });
      await sut.grantGroupPermissions({ ...base, permissions: ['read_items', 'reveal_item_password'] });
      expect((await stateOnDisk()).vaults[2].groupPermissions).toEqual([
        expect.objectContaining({ groupId: 'grp_engineering', permissions: ['read_items', 'reveal_item_password'] }),
      ]);
    });
  });

  describe('rotation', () => {
    it('refuses an item with no concealed field', async () => {
      const error = await refusal(
        sut.rotateItemSecret({ vaultId: 'vlt_oncall', itemId: 'itm_runbook', reference: 'k:rotate' }),
      );
      expect(error.kind).toBe('invalid-argument');
    });

    it('rotates the credential field of an API credential', async () => {
      const before = await sut.getItemSecret('vlt_prod', 'itm_stripe_key');
      const result = await sut.rotateItemSecret({ vaultId: 'vlt_prod', itemId: 'itm_stripe_key', reference: 'k' });
      expect(result.version).toBe(2);
      expect(await sut.getItemSecret('vlt_prod', 'itm_stripe_key')).not.toBe(before);
    });
  });

  describe('item writes', () => {
    const login = (vaultId = 'vlt_logins'): CreateItemParams => ({
      vaultId,
      title: 'AccessRequest:req_1 login',
      category: 'Database',
      fields: [
        { id: 'username', title: 'username', type: 'text', value: 'lk_req_1' },
        { id: 'password', title: 'password', type: 'concealed', value: 'a-secret-for-req-1' },
      ],
      tags: ['latchkey'],
      reference: 'AccessRequest:req_1:login',
    });

    it('records a set secret as a rotation with who asked, and a repeated one not at all', async () => {
      const params = { vaultId: 'vlt_prod', itemId: 'itm_reporting_db', secret: 'x'.repeat(32) };
      now = new Date('2026-11-27T10:05:00.000Z');
      await sut.setItemSecret({ ...params, reference: 'AccessRequest:req_1:set' });
      await sut.setItemSecret({ ...params, reference: 'AccessRequest:req_1:set' });
      const state = await stateOnDisk();
      expect(state.rotations).toEqual([
        {
          reference: 'AccessRequest:req_1:set',
          vaultId: 'vlt_prod',
          itemId: 'itm_reporting_db',
          version: 2,
          at: '2026-11-27T10:05:00.000Z',
        },
      ]);
      expect(state.items.find((item) => item.id === 'itm_reporting_db')!.updatedAt).toBe('2026-11-27T10:05:00.000Z');
    });

    it('refuses to set the secret of an item with no concealed field', async () => {
      const params = { vaultId: 'vlt_oncall', itemId: 'itm_runbook', secret: 'x', reference: 'k' };
      expect((await refusal(sut.setItemSecret(params))).kind).toBe('invalid-argument');
    });

    it('creates an item with a new id, version 1 and its times, in any vault it sees', async () => {
      const created = await sut.createItem(login());
      expect(created.id).toMatch(/^itm_[0-9a-f]{16}$/);
      expect((await sut.createItem(login('vlt_prod'))).id).not.toBe(created.id);
      const stored = (await stateOnDisk()).items.find((item) => item.id === created.id);
      expect(stored).toMatchObject({
        vaultId: 'vlt_logins',
        version: 1,
        files: [],
        createdAt: now.toISOString(),
        updatedAt: now.toISOString(),
      });
    });

    it('refuses an item in a vault that does not exist, or with a field id twice', async () => {
      expect((await refusal(sut.createItem(login('vlt_nowhere')))).kind).toBe('not-found');
      const twice = login();
      twice.fields.push({ ...twice.fields[0] });
      expect((await refusal(sut.createItem(twice))).kind).toBe('invalid-argument');
      expect(await sut.listItems('vlt_logins')).toEqual([]);
    });

    it('deletes an item, while a link made from it still opens until it expires (a snapshot)', async () => {
      const link = await sut.createShareLink(share({ itemId: 'itm_reporting_db' }));
      await sut.deleteItem('vlt_prod', 'itm_reporting_db');
      expect((await refusal(sut.getItem('vlt_prod', 'itm_reporting_db'))).kind).toBe('not-found');
      const view = await sut.viewShareLink(link.url, 'alice@example.com');
      expect(view.title).toBe('Reporting database');
    });
  });

  describe('counters', () => {
    it('counts reads and writes per operation, including refused calls', async () => {
      await sut.listVaults();
      await sut.getItem('vlt_prod', 'itm_prod_db');
      await sut.getItem('vlt_prod', 'itm_prod_db');
      await sut.createShareLink(share());
      await refusal(
        sut.grantGroupPermissions({ vaultId: 'vlt_prod', groupId: 'grp_engineering', permissions: ['read_items'] }),
      );
      const item = { vaultId: 'vlt_prod', itemId: 'itm_reporting_db' };
      await sut.setItemSecret({ ...item, secret: 'x'.repeat(32), reference: 'k' });
      await sut.deleteItem(item.vaultId, item.itemId);
      await refusal(sut.deleteItem(item.vaultId, item.itemId));
      const { counters } = await stateOnDisk();
      expect(counters.reads).toEqual({ listVaults: 1, getItem: 2 });
      expect(counters.writes).toEqual({
        createShareLink: 1,
        grantGroupPermissions: 1,
        setItemSecret: 1,
        deleteItem: 2,
      });
    });
  });

  describe('fault injection', () => {
    it('fails every n-th call with a rate limit carrying retry-after', async () => {
      await sut.setFaults({ rateLimitEvery: 2, rateLimitRetryAfterMs: 5 });
      await sut.listVaults();
      const error = await refusal(sut.listVaults());
      expect(error).toMatchObject({ kind: 'rate-limited', retryAfterMs: 5 });
      await sut.listVaults();
      expect((await stateOnDisk()).counters.faulted).toEqual({ listVaults: 1 });
    });

    it('fails every n-th call and the next n calls as unavailable', async () => {
      await sut.setFaults({ failEvery: 3 });
      await sut.listVaults();
      await sut.listVaults();
      expect((await refusal(sut.listVaults())).kind).toBe('unavailable');
      await sut.setFaults({ failNextCalls: 2 });
      expect((await refusal(sut.listVaults())).kind).toBe('unavailable');
      expect((await refusal(sut.listVaults())).kind).toBe('unavailable');
      await expect(sut.listVaults()).resolves.toHaveLength(4);
    });

    it('applies faults only to the listed operations', async () => {
      await sut.setFaults({ failNextCalls: 1, failOperations: ['revokeGroupPermissions'] });
      await sut.grantGroupPermissions({
        vaultId: 'vlt_oncall',
        groupId: 'grp_engineering',
        permissions: ['read_items'],
      });
      expect(
        (await refusal(sut.revokeGroupPermissions({ vaultId: 'vlt_oncall', groupId: 'grp_engineering' }))).kind,
      ).toBe('unavailable');
      await sut.revokeGroupPermissions({ vaultId: 'vlt_oncall', groupId: 'grp_engineering' });
    });

    it('applies every n-th write, then fails it: the change is in 1Password though the caller heard a failure', async () => {
      await sut.setFaults({ applyThenFailEvery: 2 });
      const grant = { vaultId: 'vlt_oncall', groupId: 'grp_engineering', permissions: ['read_items'] };
      await sut.grantGroupPermissions(grant);
      expect((await refusal(sut.revokeGroupPermissions(grant))).kind).toBe('unavailable');
      const state = await stateOnDisk();
      expect(state.vaults.find((vault) => vault.id === 'vlt_oncall')!.groupPermissions).toEqual([]);
      expect(state.counters.appliedThenFailed).toBe(1);
      await sut.listVaults(); // reads are never applied-then-failed
    });

    it('refuses every call during an outage of a given length, and answers again after it', async () => {
      await sut.setFaults({ outageUntil: new Date(now.getTime() + 60_000).toISOString() });
      expect((await refusal(sut.listVaults())).kind).toBe('unavailable');
      now = new Date(now.getTime() + 61_000);
      await expect(sut.listVaults()).resolves.toHaveLength(4);
    });

    it('refuses every call as unauthenticated while the token is revoked', async () => {
      await sut.setFaults({ tokenRevoked: true });
      expect((await refusal(sut.listVaults())).kind).toBe('auth');
      await sut.setFaults({});
      await expect(sut.listVaults()).resolves.toHaveLength(4);
    });

    it('adds latency to every call', async () => {
      await sut.setFaults({ latencyMs: 120 });
      const started = Date.now();
      await sut.listVaults();
      expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    });

    it('takes faults written into the file by another process', async () => {
      await sut.listVaults();
      const state = await stateOnDisk();
      state.faults = { failNextCalls: 1 };
      await writeFile(stateFile, JSON.stringify(state));
      expect((await refusal(sut.listVaults())).kind).toBe('unavailable');
    });
  });

  describe('concurrency', () => {
    it('keeps every write when several instances share the file at once', async () => {
      const instances = Array.from({ length: 4 }, () => new LocalOnePassword({ stateFile, clock: () => now }));
      await Promise.all(
        Array.from({ length: 24 }, (_, n) => instances[n % 4].createShareLink(share({ reference: `k${n}` }))),
      );
      const state = await stateOnDisk();
      expect(state.shareLinks).toHaveLength(24);
      expect(state.counters.writes.createShareLink).toBe(24);
    });

    it('lets one instance only spend a one-view link when several try at once', async () => {
      const link = await sut.createShareLink(share());
      const instances = Array.from({ length: 4 }, () => new LocalOnePassword({ stateFile, clock: () => now }));
      const views = await Promise.allSettled(
        instances.map((instance) => instance.viewShareLink(link.url, 'alice@example.com')),
      );
      expect(views.filter((view) => view.status === 'fulfilled')).toHaveLength(1);
      expect((await stateOnDisk()).counters.shareViews).toBe(1);
    });

    it('recovers a lock left behind by a dead process', async () => {
      await sut.listVaults();
      await writeFile(`${stateFile}.lock`, 'dead-process');
      const old = new Date(Date.now() - 60_000);
      await utimes(`${stateFile}.lock`, old, old);
      await expect(sut.listVaults()).resolves.toHaveLength(4);
      await expect(stat(`${stateFile}.lock`)).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('gives up on a live lock as unavailable (retryable)', async () => {
      await writeFile(`${stateFile}.lock`, 'busy-process');
      const impatient = new LocalOnePassword({ stateFile, lock: { timeoutMs: 100 } });
      expect((await refusal(impatient.listVaults())).kind).toBe('unavailable');
    });
  });
});

describe(describeAccess.name, () => {
  it('lists live links with views left and group permissions, and leaves out spent or expired links', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'latchkey-local-1password-'));
    let now = new Date('2026-11-27T10:00:00.000Z');
    const local = new LocalOnePassword({ stateFile: path.join(dir, 'state.json'), clock: () => now });
    const base = { vaultId: 'vlt_prod', itemId: 'itm_prod_db', recipients: ['alice@example.com'], oneTimeOnly: true };
    const spent = await local.createShareLink({ ...base, expiry: '1d', reference: 'spent' });
    await local.viewShareLink(spent.url, 'alice@example.com');
    await local.createShareLink({ ...base, expiry: '1h', reference: 'short' });
    await local.createShareLink({ ...base, expiry: '7d', reference: 'long' });
    await local.grantGroupPermissions({
      vaultId: 'vlt_oncall',
      groupId: 'grp_engineering',
      permissions: ['read_items'],
    });
    now = new Date('2026-11-27T12:00:00.000Z');

    const sut = describeAccess(await local.readState(), now);

    expect(sut.shareLinks).toEqual([
      expect.objectContaining({
        itemId: 'itm_prod_db',
        itemTitle: 'Production database',
        expiresAt: '2026-12-04T10:00:00.000Z',
        recipients: [{ email: 'alice@example.com', viewsLeft: 1 }],
      }),
    ]);
    expect(sut.groupPermissions).toEqual([
      {
        vaultId: 'vlt_oncall',
        vaultTitle: 'On-call runbooks',
        groupId: 'grp_engineering',
        permissions: ['read_items'],
        grantedAt: '2026-11-27T10:00:00.000Z',
      },
    ]);
    await rm(dir, { recursive: true, force: true });
  });
});
