import {
  AllowedType,
  ARCHIVE_ITEMS,
  CREATE_ITEMS,
  DELETE_ITEMS,
  EXPORT_ITEMS,
  IMPORT_ITEMS,
  type Item,
  ItemCategory,
  type ItemCreateParams,
  ItemFieldType,
  type ItemShareAccountPolicy,
  ItemShareDuration,
  MANAGE_VAULT,
  PRINT_ITEMS,
  READ_ITEMS,
  RECOVER_VAULT,
  REVEAL_ITEM_PASSWORD,
  SEND_ITEMS,
  UPDATE_ITEM_HISTORY,
  UPDATE_ITEMS,
} from '@1password/sdk';
import { type VaultPermission, VAULT_PERMISSIONS } from '../../domain/vault-permissions';
import type { ExpiryBucket } from '../../domain/share-links';
import { type CreateItemParams, OnePasswordError, type SharePolicy } from '../port';

/** Translations between latchkey's port vocabulary and the SDK's. */

export const BUCKET_TO_DURATION: Record<ExpiryBucket, ItemShareDuration> = {
  '1h': ItemShareDuration.OneHour,
  '1d': ItemShareDuration.OneDay,
  '7d': ItemShareDuration.SevenDays,
  '14d': ItemShareDuration.FourteenDays,
  '30d': ItemShareDuration.ThirtyDays,
};

const DURATION_TO_BUCKET = Object.fromEntries(
  Object.entries(BUCKET_TO_DURATION).map(([bucket, duration]) => [duration, bucket]),
) as Record<ItemShareDuration, ExpiryBucket>;

export function bucketOf(duration: ItemShareDuration): ExpiryBucket {
  const bucket = DURATION_TO_BUCKET[duration];
  if (!bucket) throw new OnePasswordError('invalid-argument', '1Password reported an unknown share expiry');
  return bucket;
}

export const PERMISSION_BITS: Record<VaultPermission, number> = {
  read_items: READ_ITEMS,
  reveal_item_password: REVEAL_ITEM_PASSWORD,
  update_item_history: UPDATE_ITEM_HISTORY,
  create_items: CREATE_ITEMS,
  update_items: UPDATE_ITEMS,
  archive_items: ARCHIVE_ITEMS,
  delete_items: DELETE_ITEMS,
  import_items: IMPORT_ITEMS,
  export_items: EXPORT_ITEMS,
  send_items: SEND_ITEMS,
  print_items: PRINT_ITEMS,
  manage_vault: MANAGE_VAULT,
  recover_vault: RECOVER_VAULT,
};

export function permissionBits(names: string[]): number {
  let bits = 0;
  for (const name of names) {
    const bit = PERMISSION_BITS[name as VaultPermission];
    if (bit === undefined) {
      throw new OnePasswordError('invalid-argument', 'group permissions must be known 1Password vault permissions');
    }
    bits |= bit;
  }
  if (bits === 0) throw new OnePasswordError('invalid-argument', 'group permissions must not be empty');
  return bits;
}

export function permissionNames(bits: number): string[] {
  return VAULT_PERMISSIONS.filter((name) => (bits & PERMISSION_BITS[name]) !== 0);
}

/**
 * The SDK's policy does not list allowed recipient domains (1Password checks them in
 * `validateRecipients`), so the port's list stays empty and the adapter relies on that call.
 */
export function toSharePolicy(policy: ItemShareAccountPolicy): SharePolicy {
  return {
    maxExpiry: bucketOf(policy.maxExpiry),
    defaultExpiry: bucketOf(policy.defaultExpiry),
    allowedTypes: policy.allowedTypes.map((type) => (type === AllowedType.Public ? 'public' : 'authenticated')),
    allowedRecipientDomains: [],
    oneTimeOnly: policy.maxViews === 1,
    filesAllowed: policy.files.allowed,
  };
}

export function itemHasFiles(item: Item): boolean {
  return (item.files?.length ?? 0) > 0 || item.document != null;
}

/** The item's secret: the password, else a credential, else the first concealed field. */
export function secretFieldOf(item: Item): Item['fields'][number] {
  const concealed = item.fields.filter((field) => field.fieldType === ItemFieldType.Concealed);
  const field =
    concealed.find((candidate) => candidate.id === 'password') ??
    concealed.find((candidate) => candidate.id === 'credential') ??
    concealed[0];
  if (!field) throw new OnePasswordError('invalid-argument', 'the item has no concealed field');
  return field;
}

const CATEGORIES: Record<CreateItemParams['category'], ItemCategory> = { Database: ItemCategory.Database };

/**
 * The core accepts a field outside any section only when it is one of the category's built-in fields
 * (otherwise: "custom field with id '…' must be part of a section"). Username and password are built in
 * wherever latchkey makes items; every other field goes into one section of its own.
 */
const BUILT_IN_FIELD_IDS = new Set(['username', 'password']);
const DETAILS_SECTION = { id: 'details', title: 'details' };

export function toItemCreateParams(params: CreateItemParams): ItemCreateParams {
  const fields = params.fields.map(({ id, title, type, value }) => ({
    id,
    title,
    value,
    fieldType: type === 'concealed' ? ItemFieldType.Concealed : ItemFieldType.Text,
    ...(BUILT_IN_FIELD_IDS.has(id) ? {} : { sectionId: DETAILS_SECTION.id }),
  }));
  return {
    category: CATEGORIES[params.category],
    vaultId: params.vaultId,
    title: params.title,
    fields,
    sections: fields.some((field) => field.sectionId) ? [DETAILS_SECTION] : [],
    tags: [...params.tags],
  };
}
