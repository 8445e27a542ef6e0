import {
  AllowedRecipientType,
  AllowedType,
  type Client,
  type Item,
  type ItemShareAccountPolicy,
  type PasswordRecipe,
  Secrets,
  VaultAccessorType,
} from '@1password/sdk';
import { classifyOnePasswordError, type UnrecognisedFailure, unrecognisedFailureOf } from '../errors';
import { EXPIRY_BUCKET_MS } from '../../domain/share-links';
import {
  type CreateItemParams,
  type CreateShareLinkParams,
  type GroupPermission,
  type GroupPermissionsParams,
  type GroupSummary,
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
import type { SdkClientRegistry } from './client-registry';
import {
  BUCKET_TO_DURATION,
  itemHasFiles,
  permissionBits,
  permissionNames,
  secretFieldOf,
  toItemCreateParams,
  toSharePolicy,
} from './mapping';
import { type BudgetSnapshot, RateBudget } from './rate-budget';
import type { RequestKind } from './rate-ledger';

export interface OnePasswordSdkAdapterOptions {
  /** The integration (one 1Password account, one service account) this adapter speaks for. */
  integration: string;
  clients: SdkClientRegistry;
  budget?: RateBudget;
  /**
   * Vaults this service account created. SDK 0.5.0 does not report a vault's creator, so the
   * policy names them; group permission changes elsewhere are refused before any call.
   */
  serviceAccountVaultIds: string[];
  /** The account's sharing policy changes rarely; reading it once per grant would waste requests. */
  policyCacheMs?: number;
  /** Vault and item lists for the catalog; `refreshDiscovery()` forces a new read. */
  discoveryCacheMs?: number;
  passwordRecipe?: PasswordRecipe;
  /** Rotation re-reads the item this many times when someone else changed it in between. */
  maxConflictRetries?: number;
  /** Told once per kind of failure the classifier does not know (the worker logs it and alerts admins). */
  onUnrecognisedFailure?: (failure: UnrecognisedFailure & { integration: string }) => void;
  now?: () => number;
}

const DEFAULT_RECIPE: PasswordRecipe = {
  type: 'Random',
  parameters: { includeDigits: true, includeSymbols: true, length: 32 },
};

interface Cached<T> {
  value: T;
  until: number;
}

/**
 * The real 1Password behind the port, over @1password/sdk. Every request goes through `request()`,
 * which spends the rate budget, uses the integration's one client and classifies failures.
 */
export class OnePasswordSdkAdapter implements OnePasswordPort {
  private readonly integration: string;
  private readonly clients: SdkClientRegistry;
  private readonly rateBudget: RateBudget;
  private readonly managedVaults: ReadonlySet<string>;
  private readonly policyCacheMs: number;
  private readonly discoveryCacheMs: number;
  private readonly recipe: PasswordRecipe;
  private readonly maxConflictRetries: number;
  private readonly now: () => number;
  private readonly policies = new Map<string, Cached<ItemShareAccountPolicy>>();
  private vaultsCache?: Cached<VaultSummary[]>;
  private readonly itemsCache = new Map<string, Cached<ItemSummary[]>>();
  private readonly onUnrecognisedFailure?: OnePasswordSdkAdapterOptions['onUnrecognisedFailure'];
  private readonly reportedFingerprints = new Set<string>();

  constructor(options: OnePasswordSdkAdapterOptions) {
    this.integration = options.integration;
    this.clients = options.clients;
    this.rateBudget = options.budget ?? new RateBudget();
    this.managedVaults = new Set(options.serviceAccountVaultIds);
    this.policyCacheMs = options.policyCacheMs ?? 5 * 60_000;
    this.discoveryCacheMs = options.discoveryCacheMs ?? 10 * 60_000;
    this.recipe = options.passwordRecipe ?? DEFAULT_RECIPE;
    this.maxConflictRetries = options.maxConflictRetries ?? 3;
    this.now = options.now ?? Date.now;
    this.onUnrecognisedFailure = options.onUnrecognisedFailure;
  }

  // ----- Discovery -----

  async listVaults(): Promise<VaultSummary[]> {
    if (this.vaultsCache && this.vaultsCache.until > this.now()) return structuredClone(this.vaultsCache.value);
    const overviews = await this.request('read', (client) => client.vaults.list());
    const vaults = overviews.map((vault) => ({
      id: vault.id,
      title: vault.title,
      createdByServiceAccount: this.managedVaults.has(vault.id),
    }));
    this.vaultsCache = { value: vaults, until: this.now() + this.discoveryCacheMs };
    return structuredClone(vaults);
  }

  async listItems(vaultId: string): Promise<ItemSummary[]> {
    const cached = this.itemsCache.get(vaultId);
    if (cached && cached.until > this.now()) return structuredClone(cached.value);
    const overviews = await this.request('read', (client) =>
      client.items.list(vaultId, { type: 'ByState', content: { active: true, archived: false } }),
    );
    // Versions and attachments are only on full items; one batched read per vault gets them.
    const items: ItemSummary[] = [];
    if (overviews.length > 0) {
      const full = await this.request('read', (client) =>
        client.items.getAll(
          vaultId,
          overviews.map((item) => item.id),
        ),
      );
      for (const response of full.individualResponses) if (response.content) items.push(summarize(response.content));
    }
    this.itemsCache.set(vaultId, { value: items, until: this.now() + this.discoveryCacheMs });
    return structuredClone(items);
  }

  /** Forget cached discovery, so the next catalog refresh reads 1Password again. */
  refreshDiscovery(): void {
    this.vaultsCache = undefined;
    this.itemsCache.clear();
  }

  async getItem(vaultId: string, itemId: string): Promise<ItemSummary> {
    return summarize(await this.readItem(vaultId, itemId));
  }

  /** One uncached read: the vault's active item overviews carry titles. */
  async findItemId(vaultId: string, title: string): Promise<string | undefined> {
    const overviews = await this.request('read', (client) =>
      client.items.list(vaultId, { type: 'ByState', content: { active: true, archived: false } }),
    );
    return overviews.find((item) => item.title === title)?.id;
  }

  async getSharePolicy(vaultId: string, itemId: string): Promise<SharePolicy> {
    return toSharePolicy(await this.accountPolicy(vaultId, itemId));
  }

  // ----- Share links -----

  /** Makes a new link on every call: 1Password has no idempotency key, and cannot list or withdraw links. */
  async createShareLink(params: CreateShareLinkParams): Promise<ShareLink> {
    const item = await this.readItem(params.vaultId, params.itemId);
    const policy = await this.accountPolicy(params.vaultId, params.itemId);
    checkShareAgainstPolicy(toSharePolicy(policy), {
      recipients: params.recipients,
      expiry: params.expiry,
      oneTimeOnly: params.oneTimeOnly,
      itemHasFiles: itemHasFiles(item),
    });
    if (
      !policy.allowedTypes.includes(AllowedType.Authenticated) ||
      !policy.allowedRecipientTypes.includes(AllowedRecipientType.Email)
    ) {
      throw new OnePasswordError(
        'policy-refused',
        'the account sharing policy does not allow links to named e-mail addresses',
      );
    }
    const recipients = await this.request('read', (client) =>
      client.items.shares.validateRecipients(policy, params.recipients),
    );
    const validated = new Set(
      recipients.flatMap((r) => (r.type === 'Email' ? [r.parameters.email.toLowerCase()] : [])),
    );
    if (params.recipients.some((email) => !validated.has(email.toLowerCase()))) {
      throw new OnePasswordError(
        'policy-refused',
        'the account sharing policy does not allow the requester as a recipient',
      );
    }

    const url = await this.request('write', (client) =>
      client.items.shares.create(item, policy, {
        recipients,
        expireAfter: BUCKET_TO_DURATION[params.expiry],
        oneTimeOnly: params.oneTimeOnly,
      }),
    );
    return { url, expiresAt: new Date(this.now() + EXPIRY_BUCKET_MS[params.expiry]).toISOString() };
  }

  // ----- Vault group permissions -----

  async grantGroupPermissions(params: GroupPermissionsParams): Promise<void> {
    this.assertManagedVault(params.vaultId);
    const permissions = permissionBits(params.permissions);
    try {
      await this.request('write', (client) =>
        client.vaults.grantGroupPermissions(params.vaultId, [{ groupId: params.groupId, permissions }]),
      );
    } catch (error) {
      // The group already has access (perhaps from an earlier attempt): set the permissions instead.
      if (!(error instanceof OnePasswordError) || error.kind !== 'conflict') throw this.explainPermissionError(error);
      await this.request('write', (client) =>
        client.vaults.updateGroupPermissions([{ vaultId: params.vaultId, groupId: params.groupId, permissions }]),
      ).catch((updateError: unknown) => {
        throw this.explainPermissionError(updateError);
      });
    }
  }

  async revokeGroupPermissions(params: { vaultId: string; groupId: string }): Promise<void> {
    this.assertManagedVault(params.vaultId);
    try {
      await this.request('write', (client) => client.vaults.revokeGroupPermissions(params.vaultId, params.groupId));
    } catch (error) {
      if (!(error instanceof OnePasswordError) || error.kind !== 'not-found') throw this.explainPermissionError(error);
      // Not-found may mean "this group has no access" (already revoked: success) or "no such vault".
      if ((await this.groupPermissions(params.vaultId, params.groupId)).length > 0) throw error;
    }
  }

  /** Permission names the group holds on the vault (empty when none). One read. */
  async groupPermissions(vaultId: string, groupId: string): Promise<string[]> {
    const entry = (await this.readGroupAccess(vaultId)).find((candidate) => candidate.groupId === groupId);
    return entry?.permissions ?? [];
  }

  async describeGroup(groupId: string): Promise<GroupSummary> {
    const group = await this.request('read', (client) => client.groups.get(groupId, { vaultPermissions: false }));
    return { id: group.id, title: group.title, type: group.groupType };
  }

  listGroupPermissions(vaultId: string): Promise<GroupPermission[]> {
    this.assertManagedVault(vaultId);
    return this.readGroupAccess(vaultId);
  }

  private async readGroupAccess(vaultId: string): Promise<GroupPermission[]> {
    const vault = await this.request('read', (client) => client.vaults.get(vaultId, { accessors: true }));
    return (vault.access ?? [])
      .filter((entry) => entry.accessorType === VaultAccessorType.Group)
      .map((entry) => ({ groupId: entry.accessorUuid, permissions: permissionNames(entry.permissions) }));
  }

  // ----- Item secrets -----

  /** Every call writes a newly generated password: 1Password has no idempotency key. */
  rotateItemSecret(params: RotateItemSecretParams): Promise<RotationResult> {
    return this.writeSecret(params, () => Secrets.generatePassword(this.recipe).password);
  }

  /** A retried attempt finds its secret already there and writes nothing, so the version stays. */
  setItemSecret(params: SetItemSecretParams): Promise<RotationResult> {
    return this.writeSecret(params, (current) => (current === params.secret ? undefined : params.secret));
  }

  /** The current value of the item's secret (its password field). One read. */
  async getItemSecret(vaultId: string, itemId: string): Promise<string> {
    return secretFieldOf(await this.readItem(vaultId, itemId)).value;
  }

  // ----- Items -----

  async createItem(params: CreateItemParams): Promise<ItemSummary> {
    try {
      return summarize(await this.request('write', (client) => client.items.create(toItemCreateParams(params))));
    } finally {
      // Even after a failure, which may have made the item: a retry looks for it by title.
      this.itemsCache.delete(params.vaultId);
    }
  }

  async deleteItem(vaultId: string, itemId: string): Promise<void> {
    try {
      await this.request('write', (client) => client.items.delete(vaultId, itemId));
    } finally {
      this.itemsCache.delete(vaultId);
    }
  }

  /** Requests counted against the service account's limits, for metrics. */
  budget(): Promise<BudgetSnapshot> {
    return this.rateBudget.snapshot();
  }

  // ----- Internals -----

  /**
   * Reads the item and puts it back with its secret set to `next(current)`, or returns its version
   * untouched when `next` gives nothing. Someone else's change in between makes it read again.
   */
  private async writeSecret(
    { vaultId, itemId }: { vaultId: string; itemId: string },
    next: (current: string) => string | undefined,
  ): Promise<RotationResult> {
    for (let attempt = 0; ; attempt++) {
      const item = await this.readItem(vaultId, itemId);
      const field = secretFieldOf(item);
      const secret = next(field.value);
      if (secret === undefined) return { itemId: item.id, vaultId: item.vaultId, version: item.version };
      field.value = secret;
      try {
        const updated = await this.request('write', (client) => client.items.put(item));
        return { itemId: updated.id, vaultId: updated.vaultId, version: updated.version };
      } catch (error) {
        if (!(error instanceof OnePasswordError) || error.kind !== 'conflict' || attempt >= this.maxConflictRetries) {
          throw error;
        }
      }
    }
  }

  private readItem(vaultId: string, itemId: string): Promise<Item> {
    return this.request('read', (client) => client.items.get(vaultId, itemId));
  }

  private async accountPolicy(vaultId: string, itemId: string): Promise<ItemShareAccountPolicy> {
    const key = `${vaultId}/${itemId}`;
    const cached = this.policies.get(key);
    if (cached && cached.until > this.now()) return cached.value;
    const policy = await this.request('read', (client) => client.items.shares.getAccountPolicy(vaultId, itemId));
    this.policies.set(key, { value: policy, until: this.now() + this.policyCacheMs });
    return policy;
  }

  private assertManagedVault(vaultId: string): void {
    if (!this.managedVaults.has(vaultId)) {
      throw new OnePasswordError(
        'forbidden',
        'a service account can manage group permissions only on vaults it created; this vault is not one of them',
      );
    }
  }

  private explainPermissionError(error: unknown): unknown {
    if (error instanceof OnePasswordError && error.kind === 'forbidden') {
      return new OnePasswordError(
        'forbidden',
        '1Password refused the group permission change: service accounts may manage only vaults they created, on Teams or Business plans, and only with the permissions the plan offers',
      );
    }
    return error;
  }

  private async request<T>(kind: RequestKind, call: (client: Client) => Promise<T>): Promise<T> {
    await this.rateBudget.acquire(kind);
    try {
      return await call(await this.clients.get(this.integration));
    } catch (error) {
      let classified = classifyOnePasswordError(error);
      if (classified.kind === 'rate-limited') {
        // The activity retries when the window resets, not after a flat minute.
        classified = new OnePasswordError('rate-limited', classified.message, await this.rateBudget.penalize());
      }
      if (classified.kind === 'auth') this.clients.evict(this.integration);
      const unrecognised = unrecognisedFailureOf(classified);
      if (unrecognised && !this.reportedFingerprints.has(unrecognised.fingerprint)) {
        this.reportedFingerprints.add(unrecognised.fingerprint);
        this.onUnrecognisedFailure?.({ ...unrecognised, integration: this.integration });
      }
      throw classified;
    }
  }
}

function summarize(item: Item): ItemSummary {
  return {
    id: item.id,
    vaultId: item.vaultId,
    title: item.title,
    category: item.category,
    tags: [...item.tags],
    version: item.version,
    hasFiles: itemHasFiles(item),
  };
}
