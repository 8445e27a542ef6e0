import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import {
  AllowedRecipientType,
  AllowedType,
  type Client,
  GroupType,
  type Item,
  ItemCategory,
  type ItemCreateParams,
  ItemFieldType,
  type ItemShareAccountPolicy,
  ItemShareDuration,
  type ItemShareParams,
  throwError,
} from '@1password/sdk';
import type { SdkClientConfiguration } from '../../onepassword/sdk/client-registry';

/**
 * A scripted SDK core for tests: the object the SDK's own `Client` calls with every invocation
 * (`{ invocation: { clientId, parameters: { name, parameters } } }`, JSON), answering from a tiny
 * in-memory account. Errors leave through the SDK's own `throwError`, as the real WASM core's do.
 * It records every invocation so tests can assert what the SDK sent and count requests.
 */
export interface SdkInvocation {
  clientId?: number;
  name: string;
  parameters: Record<string, unknown>;
}

export interface ScriptedVault {
  id: string;
  title: string;
  createdByServiceAccount: boolean;
  access: Array<{ groupId: string; permissions: number }>;
}

export interface ScriptedShare {
  url: string;
  vaultId: string;
  itemId: string;
  itemVersion: number;
  params: ItemShareParams;
}

export interface ScriptedAccount {
  vaults: ScriptedVault[];
  /** Items as the SDK's JSON carries them (dates as ISO strings). */
  items: Array<Omit<Item, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string }>;
  groups: Array<{ id: string; title: string; groupType: GroupType }>;
  policy: ItemShareAccountPolicy;
  /** What the account's sharing policy checks in `validateRecipients`. */
  allowedRecipientDomains: string[];
  shares: ScriptedShare[];
}

const DURATION_ORDER: ItemShareDuration[] = [
  ItemShareDuration.OneHour,
  ItemShareDuration.OneDay,
  ItemShareDuration.SevenDays,
  ItemShareDuration.FourteenDays,
  ItemShareDuration.ThirtyDays,
];

function secret(): string {
  return randomBytes(18).toString('base64url');
}

export function demoScriptedAccount(): ScriptedAccount {
  const at = new Date('2026-01-01T00:00:00.000Z').toISOString();
  const item = (
    id: string,
    vaultId: string,
    title: string,
    category: ItemCategory,
    tags: string[],
    concealed: string[],
  ): ScriptedAccount['items'][number] => ({
    id,
    vaultId,
    title,
    category,
    tags,
    fields: [
      { id: 'username', title: 'username', fieldType: ItemFieldType.Text, value: 'svc' },
      ...concealed.map((fieldId) => ({
        id: fieldId,
        title: fieldId,
        fieldType: ItemFieldType.Concealed,
        value: secret(),
      })),
    ],
    sections: [],
    notes: '',
    websites: [],
    version: 1,
    files: [],
    createdAt: at,
    updatedAt: at,
  });
  return {
    vaults: [
      { id: 'vlt_prod', title: 'Production', createdByServiceAccount: false, access: [] },
      { id: 'vlt_staging', title: 'Staging', createdByServiceAccount: false, access: [] },
      { id: 'vlt_oncall', title: 'On-call runbooks', createdByServiceAccount: true, access: [] },
      { id: 'vlt_logins', title: 'latchkey database logins', createdByServiceAccount: true, access: [] },
    ],
    items: [
      item(
        'itm_prod_db',
        'vlt_prod',
        'Production database',
        ItemCategory.Database,
        ['owner:security', 'env:prod'],
        ['password'],
      ),
      item(
        'itm_stripe_key',
        'vlt_prod',
        'Stripe API key',
        ItemCategory.ApiCredentials,
        ['owner:payments', 'env:prod'],
        ['credential'],
      ),
      item(
        'itm_reporting_db',
        'vlt_prod',
        'Reporting database',
        ItemCategory.Database,
        ['owner:security'],
        ['password'],
      ),
      item('itm_staging_db', 'vlt_staging', 'Staging database', ItemCategory.Database, ['env:staging'], ['password']),
      item('itm_runbook', 'vlt_oncall', 'Runbook', ItemCategory.SecureNote, ['env:prod'], []),
    ],
    groups: [
      { id: 'grp_engineering', title: 'Engineering', groupType: GroupType.UserDefined },
      { id: 'grp_security', title: 'Security', groupType: GroupType.UserDefined },
      { id: 'grp_team', title: 'Team Members', groupType: GroupType.TeamMembers },
    ],
    policy: {
      maxExpiry: ItemShareDuration.ThirtyDays,
      defaultExpiry: ItemShareDuration.SevenDays,
      allowedTypes: [AllowedType.Authenticated],
      allowedRecipientTypes: [AllowedRecipientType.Email],
      files: { allowed: false, maxSize: 0 },
    },
    allowedRecipientDomains: ['example.com'],
    shares: [],
  };
}

/**
 * Fails the way the real core does: a JSON `{name, message}` decoded by the SDK's own `throwError`.
 * Messages are chains of the pinned core's phrases (onepassword/sdk/core-messages/core-messages.json);
 * the SDK keeps the name only for its typed errors, so `Internal` stands for any other.
 */
function fail(message: string, name = 'Internal'): never {
  return throwError(JSON.stringify({ name, message }));
}

/** The core's answers to what latchkey's calls can meet, composed from its own phrases. */
export const CORE_FAILURES = {
  itemNotFound: "item couldn't be found",
  vaultNotFound: "vault couldn't be found",
  itemOutdated: 'The submitted item is not up to date. Refetch the item and retry the request.',
  filesNotShareable: 'cannot share items with files. Consult your 1Password admin to review account policies.',
  expiryTooLong: 'bad input passed by the user: share expiry',
  groupNotFound: 'error getting group: resource not found',
  groupAlreadyHasAccess:
    'error updating group vault permissions: a conflict occurred on the server. this usually happens due to a race condition in requests',
  notVaultManager:
    "error updating group vault permissions: you don't have the right permissions to access this resource",
  groupHasNoAccess: 'error revoking group vault permissions: resource not found',
  notAuthenticated: 'authentication error: you are not authenticated',
  tokenRevoked: 'authentication error: bad service account token, please rotate it: ',
  sessionExpired: 'session seems expired even after retrying',
  rateLimited: 'rate limit exceeded',
  /** The core checks a new item's fields and lists what is wrong after this. */
  invalidItem: 'invalid user input: encountered the following errors: ',
  badGateway: 'unexpected status code in response: 502 Bad Gateway',
} as const;

type StoredItem = ScriptedAccount['items'][number];

/** An item as the core serialises it: absent optional fields are `null`, not missing. */
function coreItem(item: StoredItem): unknown {
  return {
    ...item,
    document: item.document ?? null,
    fields: item.fields.map((field) => ({
      ...field,
      sectionId: field.sectionId ?? null,
      details: field.details ?? null,
    })),
  };
}

/**
 * Fields a category's template holds outside any section, as far as latchkey relies on them (the SDK
 * documents usernames and passwords as built in); the core wants every other field in a section.
 */
const BUILT_IN_FIELDS: Partial<Record<ItemCategory, string[]>> = {
  [ItemCategory.Login]: ['username', 'password'],
  [ItemCategory.Database]: ['username', 'password'],
  [ItemCategory.Password]: ['password'],
};

/** The core's own checks of a new item's fields and sections, with its phrases (the first one is reported). */
function itemCreateProblems(params: ItemCreateParams): string[] {
  const fields = params.fields ?? [];
  const sections = new Set((params.sections ?? []).map((section) => section.id));
  const builtIn = BUILT_IN_FIELDS[params.category] ?? [];
  const problems = fields.flatMap((field) => {
    if (field.sectionId === undefined || field.sectionId === null) {
      return builtIn.includes(field.id) ? [] : [`custom field with id '${field.id}' must be part of a section`];
    }
    return sections.has(field.sectionId)
      ? []
      : [`field ${field.id} was linked to section id '${field.sectionId}', but no section with this id exists`];
  });
  if (new Set(fields.map((field) => field.id)).size !== fields.length) {
    problems.push('item contained duplicate field ids. Make sure every id is unique.');
  }
  return problems;
}

/** A new id as 1Password makes them: 26 lowercase base-32 characters. */
function itemId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return Array.from(randomBytes(26), (byte) => alphabet[byte % 32]).join('');
}

function corePolicy(policy: ItemShareAccountPolicy): unknown {
  const { files } = policy;
  return {
    ...policy,
    maxViews: policy.maxViews ?? null,
    files: {
      ...files,
      allowedTypes: files.allowedTypes ?? null,
      allowedRecipientTypes: files.allowedRecipientTypes ?? null,
      maxExpiry: files.maxExpiry ?? null,
      defaultExpiry: files.defaultExpiry ?? null,
      maxViews: files.maxViews ?? null,
    },
  };
}

export class ScriptedOnePasswordCore {
  readonly invocations: SdkInvocation[] = [];
  readonly clientConfigs: Array<Record<string, unknown>> = [];
  private readonly hooks: Array<{ operation: string; run: (account: ScriptedAccount) => void }> = [];
  private readonly failures: Array<{ operation: string; message: string; name: string }> = [];

  constructor(readonly account: ScriptedAccount = demoScriptedAccount()) {}

  /** Runs `run` just before the next invocation of `operation` (e.g. someone else edits the item). */
  beforeNext(operation: string, run: (account: ScriptedAccount) => void): void {
    this.hooks.push({ operation, run });
  }

  /** The next invocation of `operation` fails as the core would: `message` (see CORE_FAILURES), `name`. */
  failNext(operation: string, message: string, name = 'Internal'): void {
    this.failures.push({ operation, message, name });
  }

  /** Invocation names in order, e.g. to count reads and writes. */
  operations(): string[] {
    return this.invocations.map((invocation) => invocation.name);
  }

  // ----- The SDK's Core interface -----

  initClient(config: string): Promise<string> {
    this.clientConfigs.push(JSON.parse(config) as Record<string, unknown>);
    return Promise.resolve(String(this.clientConfigs.length));
  }

  initClientOidc(): Promise<string> {
    return Promise.reject(new Error('the scripted core supports service-account tokens only'));
  }

  invoke(config: string): Promise<string> {
    // Thrown errors become rejections, as the real core's do.
    return new Promise((resolve) => resolve(this.answer(config)));
  }

  releaseClient(): void {}

  private answer(config: string): string {
    const { invocation } = JSON.parse(config) as {
      invocation: { clientId?: number; parameters: { name: string; parameters: Record<string, unknown> } };
    };
    const { name, parameters } = invocation.parameters;
    this.invocations.push({ clientId: invocation.clientId, name, parameters });
    const hook = this.hooks.findIndex((candidate) => candidate.operation === name);
    if (hook >= 0) this.hooks.splice(hook, 1)[0].run(this.account);
    const failure = this.failures.findIndex((candidate) => candidate.operation === name);
    if (failure >= 0) {
      const { message, name: errorName } = this.failures.splice(failure, 1)[0];
      fail(message, errorName);
    }
    const result = this.dispatch(name, parameters);
    return result === undefined ? '' : JSON.stringify(result);
  }

  // ----- The account -----

  private dispatch(name: string, p: Record<string, unknown>): unknown {
    switch (name) {
      case 'VaultsList':
        return this.account.vaults.map((vault) => this.vaultOverview(vault));
      case 'VaultsGet': {
        const vault = this.vault(p.vault_id as string);
        const withAccess = (p.vault_params as { accessors?: boolean } | undefined)?.accessors === true;
        return {
          ...this.vaultOverview(vault),
          access: withAccess
            ? vault.access.map((entry) => ({
                vaultUuid: vault.id,
                accessorType: 'group',
                accessorUuid: entry.groupId,
                permissions: entry.permissions,
              }))
            : null,
        };
      }
      case 'ItemsList': {
        this.vault(p.vault_id as string);
        return this.account.items
          .filter((item) => item.vaultId === p.vault_id)
          .map(({ id, title, category, vaultId, websites, tags, createdAt, updatedAt }) => ({
            id,
            title,
            category,
            vaultId,
            websites,
            tags,
            createdAt,
            updatedAt,
            state: 'active',
          }));
      }
      case 'ItemsGetAll':
        return {
          individualResponses: (p.item_ids as string[]).map((id) => {
            const item = this.account.items.find(
              (candidate) => candidate.id === id && candidate.vaultId === p.vault_id,
            );
            return item ? { content: coreItem(item), error: null } : { content: null, error: { type: 'itemNotFound' } };
          }),
        };
      case 'ItemsGet':
        return coreItem(this.item(p.vault_id as string, p.item_id as string));
      case 'ItemsPut': {
        const incoming = p.item as ScriptedAccount['items'][number];
        const stored = this.item(incoming.vaultId, incoming.id);
        if (stored.version !== incoming.version) fail(CORE_FAILURES.itemOutdated);
        const updated = { ...incoming, version: stored.version + 1, updatedAt: new Date().toISOString() };
        this.account.items[this.account.items.indexOf(stored)] = updated;
        return coreItem(updated);
      }
      case 'ItemsCreate': {
        const params = p.params as ItemCreateParams;
        this.vault(params.vaultId);
        const problems = itemCreateProblems(params);
        if (problems.length > 0) fail(CORE_FAILURES.invalidItem + problems[0]);
        const at = new Date().toISOString();
        const created: StoredItem = {
          id: itemId(),
          vaultId: params.vaultId,
          title: params.title,
          category: params.category,
          fields: params.fields ?? [],
          sections: params.sections ?? [],
          notes: params.notes ?? '',
          tags: params.tags ?? [],
          websites: params.websites ?? [],
          version: 1,
          files: [],
          createdAt: at,
          updatedAt: at,
        };
        this.account.items.push(created);
        return coreItem(created);
      }
      case 'ItemsDelete': {
        const stored = this.item(p.vault_id as string, p.item_id as string);
        this.account.items.splice(this.account.items.indexOf(stored), 1);
        return undefined;
      }
      case 'ItemsSharesGetAccountPolicy':
        this.item(p.vault_id as string, p.item_id as string);
        return corePolicy(this.account.policy);
      case 'ItemsSharesValidateRecipients':
        return (p.recipients as string[])
          .map((email) => {
            const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
            // A recipient the policy refuses is left out of the answer; the adapter compares the lists.
            return this.account.allowedRecipientDomains.includes(domain)
              ? [{ type: 'Email', parameters: { email } }]
              : [];
          })
          .flat();
      case 'ItemsSharesCreate': {
        const item = p.item as Item;
        const params = p.params as ItemShareParams;
        const stored = this.item(item.vaultId, item.id);
        const policy = this.account.policy;
        if (DURATION_ORDER.indexOf(params.expireAfter!) > DURATION_ORDER.indexOf(policy.maxExpiry)) {
          fail(CORE_FAILURES.expiryTooLong);
        }
        if ((stored.files.length > 0 || stored.document != null) && !policy.files.allowed) {
          fail(CORE_FAILURES.filesNotShareable);
        }
        const url = `https://share.1password.com/s#${randomBytes(24).toString('base64url')}`;
        this.account.shares.push({
          url,
          vaultId: stored.vaultId,
          itemId: stored.id,
          itemVersion: stored.version,
          params,
        });
        return url;
      }
      case 'VaultsGrantGroupPermissions': {
        const vault = this.managedVault(p.vault_id as string);
        for (const grant of p.group_permissions_list as Array<{ groupId: string; permissions: number }>) {
          this.group(grant.groupId);
          if (vault.access.some((entry) => entry.groupId === grant.groupId)) {
            fail(CORE_FAILURES.groupAlreadyHasAccess);
          }
          vault.access.push({ groupId: grant.groupId, permissions: grant.permissions });
        }
        return undefined;
      }
      case 'VaultsUpdateGroupPermissions': {
        for (const grant of p.group_permissions_list as Array<{
          vaultId: string;
          groupId: string;
          permissions: number;
        }>) {
          const vault = this.managedVault(grant.vaultId);
          const entry = vault.access.find((candidate) => candidate.groupId === grant.groupId);
          if (!entry) fail(CORE_FAILURES.groupHasNoAccess);
          entry.permissions = grant.permissions;
        }
        return undefined;
      }
      case 'VaultsRevokeGroupPermissions': {
        const vault = this.managedVault(p.vault_id as string);
        this.group(p.group_id as string);
        if (!vault.access.some((entry) => entry.groupId === p.group_id)) fail(CORE_FAILURES.groupHasNoAccess);
        vault.access = vault.access.filter((entry) => entry.groupId !== p.group_id);
        return undefined;
      }
      case 'GroupsGet': {
        const group = this.group(p.group_id as string);
        return { ...group, description: '', state: 'active', vaultAccess: null };
      }
      default:
        return fail(`the scripted core does not support ${name}`);
    }
  }

  private vaultOverview(vault: ScriptedVault): Record<string, unknown> {
    return {
      id: vault.id,
      title: vault.title,
      description: '',
      vaultType: 'userCreated',
      activeItemCount: this.account.items.filter((item) => item.vaultId === vault.id).length,
      contentVersion: 1,
      attributeVersion: 1,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    };
  }

  private vault(vaultId: string): ScriptedVault {
    return this.account.vaults.find((vault) => vault.id === vaultId) ?? fail(CORE_FAILURES.vaultNotFound);
  }

  private managedVault(vaultId: string): ScriptedVault {
    const vault = this.vault(vaultId);
    if (!vault.createdByServiceAccount) {
      fail(CORE_FAILURES.notVaultManager);
    }
    return vault;
  }

  private item(vaultId: string, itemId: string): ScriptedAccount['items'][number] {
    this.vault(vaultId);
    return (
      this.account.items.find((item) => item.id === itemId && item.vaultId === vaultId) ??
      fail(CORE_FAILURES.itemNotFound)
    );
  }

  private group(groupId: string): ScriptedAccount['groups'][number] {
    return this.account.groups.find((group) => group.id === groupId) ?? fail(CORE_FAILURES.groupNotFound);
  }
}

interface SdkInternals {
  createClientWithCore(config: SdkClientConfiguration, core: unknown): Promise<Client>;
  SharedCore: new () => { setInner(core: unknown): void };
}

/**
 * The SDK's own client-building path with the scripted core in place of the WASM core: the SDK
 * wraps a core in `SharedCore` (JSON in, JSON out) and `createClientWithCore` builds the `Client`.
 * Neither is exported by the package, so they are loaded from its files.
 */
export async function scriptedCreateClient(
  core: ScriptedOnePasswordCore,
): Promise<(config: SdkClientConfiguration) => Promise<Client>> {
  const dist = path.dirname(require.resolve('@1password/sdk'));
  const builder = (await import(path.join(dist, 'client_builder.js'))) as Pick<SdkInternals, 'createClientWithCore'>;
  const coreModule = (await import(path.join(dist, 'core.js'))) as Pick<SdkInternals, 'SharedCore'>;
  return (config) => {
    const shared = new coreModule.SharedCore();
    shared.setInner(core);
    return builder.createClientWithCore(config, shared);
  };
}
