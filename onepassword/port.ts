/**
 * The one port through which latchkey talks to 1Password. Two adapters implement it: the local
 * 1Password (the embedded default, state on disk) and the real one over @1password/sdk. The same
 * contract tests run against both. Activities receive a port per integration; workflows never see it.
 */
import type { ExpiryBucket } from '../domain/share-links';

export interface VaultSummary {
  id: string;
  title: string;
  /** True when this service account created the vault (only then can it manage group permissions). */
  createdByServiceAccount: boolean;
}

export interface ItemSummary {
  id: string;
  vaultId: string;
  title: string;
  category: string;
  tags: string[];
  version: number;
  /** Whether the item has file attachments (file sharing may be forbidden by the account policy). */
  hasFiles: boolean;
}

/** The account's item-sharing policy, as 1Password reports it. */
export interface SharePolicy {
  /** Longest expiry the account allows. */
  maxExpiry: ExpiryBucket;
  /** Default expiry 1Password proposes. */
  defaultExpiry: ExpiryBucket;
  /** `anyone`: links may go to anyone; `restricted`: only to the allowed recipients below. */
  allowedTypes: Array<'authenticated' | 'public'>;
  /** When non-empty, recipients must be at one of these domains (`example.com`). */
  allowedRecipientDomains: string[];
  /** Whether one-time-view links are allowed/forced. */
  oneTimeOnly: boolean;
  filesAllowed: boolean;
}

export interface CreateShareLinkParams {
  vaultId: string;
  itemId: string;
  /** Recipient e-mail addresses (latchkey always sends exactly one: the requester's verified e-mail). */
  recipients: string[];
  expiry: ExpiryBucket;
  oneTimeOnly: boolean;
  /**
   * Who asks (workflow id + step), for the record only. 1Password has no such field and the real adapter
   * sends nothing of it; the local 1Password keeps it beside the link so that tests and operators can tell
   * which request made which link. Neither deduplicates: each call makes a new link, as 1Password does
   * (it can neither list nor withdraw links), so idempotency across attempts is the activity's job.
   */
  reference: string;
}

export interface ShareLink {
  /** The link is itself a secret: never log it, never put it in an error message. */
  url: string;
  expiresAt: string;
}

export interface GroupPermissionsParams {
  vaultId: string;
  groupId: string;
  /** 1Password permission names (`read_items`, `reveal_item_password`, ...). */
  permissions: string[];
}

/** A group's permissions on a vault, as 1Password holds them. */
export interface GroupPermission {
  groupId: string;
  permissions: string[];
}

/** A 1Password group, as far as the SDK describes it (it does not count members). */
export interface GroupSummary {
  id: string;
  title: string;
  /** The SDK's `GroupType`: owners, administrators, teamMembers, userDefined, recovery, ... */
  type: string;
}

export interface RotateItemSecretParams {
  vaultId: string;
  itemId: string;
  /** Who asks (workflow id + step), as for share links: recorded, never used to deduplicate. */
  reference: string;
}

export interface RotationResult {
  itemId: string;
  vaultId: string;
  /** Item version after rotation. */
  version: number;
}

export interface SetItemSecretParams {
  vaultId: string;
  itemId: string;
  /** The new value of the item's secret (its password field): never logged, never in an error message. */
  secret: string;
  /** Who asks (workflow id + step), as for share links: recorded by the local 1Password only. */
  reference: string;
}

/** A field of an item latchkey makes; `concealed` fields are secrets. */
export interface NewItemField {
  id: string;
  title: string;
  type: 'text' | 'concealed';
  value: string;
}

export interface CreateItemParams {
  vaultId: string;
  /** Unique per request (it names the request), so that a retried attempt finds the item an earlier one made. */
  title: string;
  /** 1Password's item category: `Database` for a database login. */
  category: 'Database';
  fields: NewItemField[];
  tags: string[];
  /** Who asks (workflow id + step), recorded by the local 1Password only. */
  reference: string;
}

export interface OnePasswordPort {
  listVaults(): Promise<VaultSummary[]>;
  listItems(vaultId: string): Promise<ItemSummary[]>;
  getItem(vaultId: string, itemId: string): Promise<ItemSummary>;
  /**
   * The id of the active item titled `title`, read from 1Password now (never from a cache): how a retried
   * attempt finds the item an earlier one made, on this worker or another.
   */
  findItemId(vaultId: string, title: string): Promise<string | undefined>;
  getSharePolicy(vaultId: string, itemId: string): Promise<SharePolicy>;
  createShareLink(params: CreateShareLinkParams): Promise<ShareLink>;
  /** Idempotent: granting what is already granted changes nothing. */
  grantGroupPermissions(params: GroupPermissionsParams): Promise<void>;
  /** Idempotent: revoking what is not granted succeeds. */
  revokeGroupPermissions(params: { vaultId: string; groupId: string }): Promise<void>;
  /** A group's name and kind: whom a vault-group grant reaches. */
  describeGroup(groupId: string): Promise<GroupSummary>;
  /** Every group that holds permissions on a vault, with them: what the reconciler compares with the grants. */
  listGroupPermissions(vaultId: string): Promise<GroupPermission[]>;
  /**
   * Gives the item a new secret (password field) and returns the new version. Every call rotates again
   * (1Password has no idempotency key); `reference` is recorded by the local 1Password only.
   */
  rotateItemSecret(params: RotateItemSecretParams): Promise<RotationResult>;
  /** The current value of the item's secret (its password field): what a rotation replaces. */
  getItemSecret(vaultId: string, itemId: string): Promise<string>;
  /**
   * Writes `secret` into the item's password field and returns the item's version. Idempotent: when the
   * field already holds `secret`, nothing is written and the current version is returned.
   */
  setItemSecret(params: SetItemSecretParams): Promise<RotationResult>;
  /** Makes an item (a request's own database login) in a vault the service account manages. */
  createItem(params: CreateItemParams): Promise<ItemSummary>;
  /** Deletes an item; fails with kind `not-found` when it does not exist. */
  deleteItem(vaultId: string, itemId: string): Promise<void>;
}

/**
 * Error kinds shared by both adapters, mirroring what the real SDK reports. The classifier in
 * `errors.ts` maps them to retryable or non-retryable activity failures.
 */
export const ONEPASSWORD_ERROR_KINDS = [
  'rate-limited',
  'auth',
  'not-found',
  'forbidden',
  'conflict',
  'timeout',
  'unavailable',
  'policy-refused',
  'invalid-argument',
] as const;
export type OnePasswordErrorKind = (typeof ONEPASSWORD_ERROR_KINDS)[number];

export class OnePasswordError extends Error {
  constructor(
    readonly kind: OnePasswordErrorKind,
    /** Safe to log and show: never contains a secret or a share link. */
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'OnePasswordError';
  }
}
