import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { type FileLockOptions, withFileLock, writeFileAtomic } from '../file-lock';
import { isVaultPermission } from '../../domain/vault-permissions';
import { EXPIRY_BUCKET_MS } from '../../domain/share-links';
import {
  type CreateItemParams,
  type CreateShareLinkParams,
  type GroupPermission,
  type GroupSummary,
  type GroupPermissionsParams,
  type ItemSummary,
  OnePasswordError,
  type OnePasswordPort,
  type RotateItemSecretParams,
  type RotationResult,
  type SetItemSecretParams,
  type ShareLink,
  type SharePolicy,
  type VaultSummary,
} from '../port';
import { checkShareAgainstPolicy } from '../share-rules';
import {
  generateSecret,
  LOCAL_STATE_SCHEMA_VERSION,
  type LocalFaults,
  type LocalField,
  type LocalItem,
  type LocalOperation,
  type LocalShareLink,
  type LocalState,
  LOCAL_WRITE_OPERATIONS,
  seedState,
} from './state';

export interface LocalOnePasswordOptions {
  stateFile: string;
  /** Injected so tests can move time past a link's expiry. */
  clock?: () => Date;
  lock?: FileLockOptions;
}

/** What a recipient sees when opening a share link. */
export interface ShareLinkView {
  title: string;
  fields: Array<{ title: string; value: string }>;
  viewsLeft: number | null;
}

const SHARE_URL_PREFIX = 'https://share.local-1password.invalid/s/';

export function shareLinkUrl(link: Pick<LocalShareLink, 'id' | 'token'>): string {
  return `${SHARE_URL_PREFIX}${link.id}#${link.token}`;
}

function parseShareUrl(url: string): { id: string; token: string } | undefined {
  if (!url.startsWith(SHARE_URL_PREFIX)) return undefined;
  const [id, token] = url.slice(SHARE_URL_PREFIX.length).split('#');
  return id && token ? { id, token } : undefined;
}

function isWrite(operation: LocalOperation): boolean {
  return (LOCAL_WRITE_OPERATIONS as readonly string[]).includes(operation);
}

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(8).toString('hex')}`;
}

/** The item's secret: the password, else a credential, else the first concealed field. */
function secretField(item: LocalItem): LocalField {
  const field =
    item.fields.find((candidate) => candidate.type === 'concealed' && candidate.id === 'password') ??
    item.fields.find((candidate) => candidate.type === 'concealed' && candidate.id === 'credential') ??
    item.fields.find((candidate) => candidate.type === 'concealed');
  if (!field) throw new OnePasswordError('invalid-argument', 'the item has no concealed field');
  return field;
}

/**
 * The embedded default 1Password: a JSON state file shared by every latchkey process on the machine.
 * Each call takes the file lock, reads the file again, applies itself and writes the file back
 * atomically, so the worker, the API and the CLI always agree. It refuses what the real service
 * refuses, with the same error kinds.
 */
export class LocalOnePassword implements OnePasswordPort {
  private readonly stateFile: string;
  private readonly lockFile: string;
  private readonly clock: () => Date;
  private readonly lockOptions: FileLockOptions;
  /** The state this instance wrote last, and its text: see `load`. */
  private lastSaved?: { text: string; state: LocalState };

  constructor(options: LocalOnePasswordOptions) {
    this.stateFile = options.stateFile;
    this.lockFile = `${options.stateFile}.lock`;
    this.clock = options.clock ?? (() => new Date());
    this.lockOptions = options.lock ?? {};
  }

  // ----- The port -----

  listVaults(): Promise<VaultSummary[]> {
    return this.call('listVaults', (state) =>
      state.vaults.map(({ id, title, createdByServiceAccount }) => ({ id, title, createdByServiceAccount })),
    );
  }

  listItems(vaultId: string): Promise<ItemSummary[]> {
    return this.call('listItems', (state) => {
      this.vault(state, vaultId);
      return state.items.filter((item) => item.vaultId === vaultId).map(summarize);
    });
  }

  getItem(vaultId: string, itemId: string): Promise<ItemSummary> {
    return this.call('getItem', (state) => summarize(this.item(state, vaultId, itemId)));
  }

  findItemId(vaultId: string, title: string): Promise<string | undefined> {
    return this.call('listItems', (state) => {
      this.vault(state, vaultId);
      return state.items.find((item) => item.vaultId === vaultId && item.title === title)?.id;
    });
  }

  getSharePolicy(vaultId: string, itemId: string): Promise<SharePolicy> {
    return this.call('getSharePolicy', (state) => {
      this.item(state, vaultId, itemId);
      return structuredClone(state.sharePolicy);
    });
  }

  createShareLink(params: CreateShareLinkParams): Promise<ShareLink> {
    return this.call('createShareLink', (state, now) => {
      const item = this.item(state, params.vaultId, params.itemId);
      checkShareAgainstPolicy(state.sharePolicy, {
        recipients: params.recipients,
        expiry: params.expiry,
        oneTimeOnly: params.oneTimeOnly,
        itemHasFiles: item.files.length > 0,
      });
      const link: LocalShareLink = {
        id: newId('shr'),
        token: randomBytes(24).toString('base64url'),
        vaultId: item.vaultId,
        itemId: item.id,
        itemVersion: item.version,
        snapshot: { title: item.title, fields: item.fields.map(({ title, value }) => ({ title, value })) },
        recipients: params.recipients.map((email) => ({
          email: email.toLowerCase(),
          viewsLeft: params.oneTimeOnly ? 1 : null,
          viewedAt: [],
        })),
        expiry: params.expiry,
        oneTimeOnly: params.oneTimeOnly,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + EXPIRY_BUCKET_MS[params.expiry]).toISOString(),
        reference: params.reference,
      };
      state.shareLinks.push(link);
      return { url: shareLinkUrl(link), expiresAt: link.expiresAt };
    });
  }

  grantGroupPermissions(params: GroupPermissionsParams): Promise<void> {
    return this.call('grantGroupPermissions', (state, now) => {
      const vault = this.managedVault(state, params.vaultId);
      this.group(state, params.groupId);
      const unknown = params.permissions.filter((permission) => !isVaultPermission(permission));
      if (params.permissions.length === 0 || unknown.length > 0) {
        throw new OnePasswordError('invalid-argument', 'group permissions must be known 1Password vault permissions');
      }
      const existing = vault.groupPermissions.find((entry) => entry.groupId === params.groupId);
      const permissions = [...new Set(params.permissions)].sort();
      if (!existing) {
        vault.groupPermissions.push({
          groupId: params.groupId,
          permissions,
          grantedAt: now.toISOString(),
          updatedAt: now.toISOString(),
        });
      } else if (existing.permissions.join() !== permissions.join()) {
        existing.permissions = permissions;
        existing.updatedAt = now.toISOString();
      }
    });
  }

  revokeGroupPermissions(params: { vaultId: string; groupId: string }): Promise<void> {
    return this.call('revokeGroupPermissions', (state) => {
      const vault = this.managedVault(state, params.vaultId);
      this.group(state, params.groupId);
      vault.groupPermissions = vault.groupPermissions.filter((entry) => entry.groupId !== params.groupId);
    });
  }

  /** The local account's groups are all custom (`userDefined`), as a Business account's own groups are. */
  describeGroup(groupId: string): Promise<GroupSummary> {
    return this.call('describeGroup', (state) => {
      const group = state.groups.find((candidate) => candidate.id === groupId);
      if (!group) throw new OnePasswordError('not-found', 'local 1Password: no such group');
      return { id: group.id, title: group.title, type: 'userDefined' };
    });
  }

  listGroupPermissions(vaultId: string): Promise<GroupPermission[]> {
    return this.call('listGroupPermissions', (state) =>
      this.managedVault(state, vaultId).groupPermissions.map(({ groupId, permissions }) => ({
        groupId,
        permissions: [...permissions],
      })),
    );
  }

  rotateItemSecret(params: RotateItemSecretParams): Promise<RotationResult> {
    return this.call('rotateItemSecret', (state, now) => {
      const item = this.item(state, params.vaultId, params.itemId);
      return this.writeSecret(state, now, item, secretField(item), generateSecret(), params.reference);
    });
  }

  /** The current value of the item's secret (its password field). */
  getItemSecret(vaultId: string, itemId: string): Promise<string> {
    return this.call('getItemSecret', (state) => secretField(this.item(state, vaultId, itemId)).value);
  }

  setItemSecret(params: SetItemSecretParams): Promise<RotationResult> {
    return this.call('setItemSecret', (state, now) => {
      const item = this.item(state, params.vaultId, params.itemId);
      const field = secretField(item);
      // A retried attempt finds its secret already there: no new version, no new rotation on record.
      if (field.value === params.secret) return { itemId: item.id, vaultId: item.vaultId, version: item.version };
      return this.writeSecret(state, now, item, field, params.secret, params.reference);
    });
  }

  /**
   * Like 1Password, any vault the service account can see takes new items (group permissions are what
   * only its own vaults allow), and titles need not be unique.
   */
  createItem(params: CreateItemParams): Promise<ItemSummary> {
    return this.call('createItem', (state, now) => {
      this.vault(state, params.vaultId);
      if (new Set(params.fields.map((field) => field.id)).size !== params.fields.length) {
        throw new OnePasswordError('invalid-argument', 'item field ids must be unique');
      }
      const item: LocalItem = {
        id: newId('itm'),
        vaultId: params.vaultId,
        title: params.title,
        category: params.category,
        tags: [...params.tags],
        version: 1,
        fields: params.fields.map(({ id, title, type, value }) => ({ id, title, type, value })),
        files: [],
        createdAt: now.toISOString(),
        updatedAt: now.toISOString(),
      };
      state.items.push(item);
      return summarize(item);
    });
  }

  /** Share links made from the item are snapshots, so they still open until they expire, as 1Password's do. */
  deleteItem(vaultId: string, itemId: string): Promise<void> {
    return this.call('deleteItem', (state) => {
      const item = this.item(state, vaultId, itemId);
      state.items = state.items.filter((candidate) => candidate !== item);
    });
  }

  // ----- Beyond the port: for tests, the demo and the CLI -----

  /**
   * A recipient opens a link: like 1Password, only a listed recipient, only before expiry, and a
   * one-time link only once per recipient.
   */
  viewShareLink(url: string, email: string): Promise<ShareLinkView> {
    return this.transact((state, now) => {
      const parsed = parseShareUrl(url);
      const link = parsed && state.shareLinks.find((candidate) => candidate.id === parsed.id);
      if (!parsed || !link || link.token !== parsed.token) {
        throw new OnePasswordError('not-found', 'no such share link');
      }
      if (now.getTime() >= Date.parse(link.expiresAt)) {
        throw new OnePasswordError('forbidden', 'the share link has expired');
      }
      const recipient = link.recipients.find((candidate) => candidate.email === email.toLowerCase());
      if (!recipient) throw new OnePasswordError('forbidden', 'this address is not a recipient of the share link');
      if (recipient.viewsLeft === 0) throw new OnePasswordError('forbidden', 'the share link has no views left');
      if (recipient.viewsLeft !== null) recipient.viewsLeft -= 1;
      recipient.viewedAt.push(now.toISOString());
      state.counters.shareViews += 1;
      return {
        title: link.snapshot.title,
        fields: structuredClone(link.snapshot.fields),
        viewsLeft: recipient.viewsLeft,
      };
    });
  }

  /** Switches fault injection on or off for every process using this state file. */
  setFaults(faults: LocalFaults): Promise<void> {
    return this.transact((state) => {
      state.faults = structuredClone(faults);
      state.faultCalls = 0;
    });
  }

  /** A copy of the whole state (it contains secrets: callers redact before printing). */
  readState(): Promise<LocalState> {
    return this.transact((state) => structuredClone(state));
  }

  /** Replaces the state with a fresh seed (new random secrets, no links, no grants). */
  reset(): Promise<void> {
    return withFileLock(this.lockFile, () => this.save(seedState(this.clock())), this.lockOptions);
  }

  /** Edits the account itself (policy, items), as an administrator would in the 1Password app. */
  administer(edit: (state: LocalState) => void): Promise<void> {
    return this.transact((state) => edit(state));
  }

  // ----- Internals -----

  /** One counted 1Password call, subject to injected faults. */
  private async call<T>(operation: LocalOperation, apply: (state: LocalState, now: Date) => T): Promise<T> {
    let latencyMs = 0;
    try {
      return await this.transact((state, now) => {
        latencyMs = state.faults.latencyMs ?? 0;
        this.injectFault(state, operation);
        // Counted before applying: a refused call costs a request against 1Password's limits too.
        const counters = isWrite(operation) ? state.counters.writes : state.counters.reads;
        counters[operation] = (counters[operation] ?? 0) + 1;
        const result = apply(state, now);
        this.injectFaultAfterEffect(state, operation);
        return result;
      });
    } finally {
      // Outside the lock, so slow calls in one process do not stall the others.
      if (latencyMs > 0) await sleep(latencyMs);
    }
  }

  private injectFault(state: LocalState, operation: LocalOperation): void {
    const faults = state.faults;
    if (faults.failOperations && !faults.failOperations.includes(operation)) return;
    const fail = (error: OnePasswordError): never => {
      state.counters.faulted[operation] = (state.counters.faulted[operation] ?? 0) + 1;
      throw error;
    };
    if (faults.tokenRevoked) {
      fail(new OnePasswordError('auth', 'local 1Password: the service account token was revoked'));
    }
    if (faults.outageUntil && this.clock().getTime() < Date.parse(faults.outageUntil)) {
      fail(new OnePasswordError('unavailable', 'local 1Password: injected outage'));
    }
    state.faultCalls += 1;
    if (faults.failNextCalls && faults.failNextCalls > 0) {
      faults.failNextCalls -= 1;
      fail(new OnePasswordError('unavailable', 'local 1Password: injected transient failure'));
    }
    if (faults.rateLimitEvery && state.faultCalls % faults.rateLimitEvery === 0) {
      fail(
        new OnePasswordError(
          'rate-limited',
          'local 1Password: injected rate limit',
          faults.rateLimitRetryAfterMs ?? 1_000,
        ),
      );
    }
    if (faults.failEvery && state.faultCalls % faults.failEvery === 0) {
      fail(new OnePasswordError('unavailable', 'local 1Password: injected transient failure'));
    }
  }

  /** After a write took effect: every n-th write then fails as if its answer had been lost. */
  private injectFaultAfterEffect(state: LocalState, operation: LocalOperation): void {
    const { applyThenFailEvery, failOperations } = state.faults;
    if (!applyThenFailEvery || !isWrite(operation)) return;
    if (failOperations && !failOperations.includes(operation)) return;
    state.counters.appliedWrites = (state.counters.appliedWrites ?? 0) + 1;
    if (state.counters.appliedWrites % applyThenFailEvery !== 0) return;
    state.counters.faulted[operation] = (state.counters.faulted[operation] ?? 0) + 1;
    state.counters.appliedThenFailed = (state.counters.appliedThenFailed ?? 0) + 1;
    throw new OnePasswordError('unavailable', 'local 1Password: injected failure after the change was applied');
  }

  /**
   * Lock, read the file again, apply, write back. The state is written even when `apply` throws,
   * because fault counters and refused calls are state too; `apply` validates before it mutates.
   */
  private transact<T>(apply: (state: LocalState, now: Date) => T): Promise<T> {
    return withFileLock(
      this.lockFile,
      async () => {
        const state = this.load();
        let result: T;
        try {
          result = apply(state, this.clock());
        } finally {
          await this.save(state);
        }
        return result;
      },
      this.lockOptions,
    );
  }

  private load(): LocalState {
    let text: string;
    try {
      text = fs.readFileSync(this.stateFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return seedState(this.clock());
    }
    // The file as this instance wrote it last (most calls come from the process that made the one before):
    // the state in memory is what parsing it would give. Its share links make it grow by half a KiB each.
    if (this.lastSaved?.text === text) return this.lastSaved.state;
    const state = JSON.parse(text) as LocalState;
    if (state.schemaVersion !== LOCAL_STATE_SCHEMA_VERSION) {
      throw new OnePasswordError(
        'invalid-argument',
        `the local 1Password state file has schema ${String(state.schemaVersion)}; reset it to seed schema ${LOCAL_STATE_SCHEMA_VERSION}`,
      );
    }
    return state;
  }

  private async save(state: LocalState): Promise<void> {
    const text = JSON.stringify(state) + '\n';
    this.lastSaved = undefined;
    await writeFileAtomic(this.stateFile, text);
    this.lastSaved = { text, state };
  }

  /** Writes a new secret into the item's field, as a new version, and records who asked for it. */
  private writeSecret(
    state: LocalState,
    now: Date,
    item: LocalItem,
    field: LocalField,
    secret: string,
    reference: string,
  ): RotationResult {
    field.value = secret;
    item.version += 1;
    item.updatedAt = now.toISOString();
    state.rotations.push({
      reference,
      vaultId: item.vaultId,
      itemId: item.id,
      version: item.version,
      at: item.updatedAt,
    });
    return { itemId: item.id, vaultId: item.vaultId, version: item.version };
  }

  private vault(state: LocalState, vaultId: string): LocalState['vaults'][number] {
    const vault = state.vaults.find((candidate) => candidate.id === vaultId);
    if (!vault) throw new OnePasswordError('not-found', 'vault not found');
    return vault;
  }

  private managedVault(state: LocalState, vaultId: string): LocalState['vaults'][number] {
    const vault = this.vault(state, vaultId);
    if (!vault.createdByServiceAccount) {
      throw new OnePasswordError(
        'forbidden',
        'a service account can manage group permissions only on vaults it created',
      );
    }
    return vault;
  }

  private item(state: LocalState, vaultId: string, itemId: string): LocalItem {
    this.vault(state, vaultId);
    const item = state.items.find((candidate) => candidate.id === itemId && candidate.vaultId === vaultId);
    if (!item) throw new OnePasswordError('not-found', 'item not found');
    return item;
  }

  private group(state: LocalState, groupId: string): void {
    if (!state.groups.some((group) => group.id === groupId)) throw new OnePasswordError('not-found', 'group not found');
  }
}

function summarize(item: LocalItem): ItemSummary {
  return {
    id: item.id,
    vaultId: item.vaultId,
    title: item.title,
    category: item.category,
    tags: [...item.tags],
    version: item.version,
    hasFiles: item.files.length > 0,
  };
}
