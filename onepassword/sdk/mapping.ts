import {
  AllowedType,
  ARCHIVE_ITEMS,
  CREATE_ITEMS,
  DELETE_ITEMS,
  EXPORT_ITEMS,
  IMPORT_ITEMS,
  type Item,
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
import { OnePasswordError, type SharePolicy } from '../port';

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

/** The secret a rotation replaces: the password, else a credential, else the first concealed field. */
export function secretFieldOf(item: Item): Item['fields'][number] | undefined {
  const concealed = item.fields.filter((field) => field.fieldType === ItemFieldType.Concealed);
  return (
    concealed.find((field) => field.id === 'password') ??
    concealed.find((field) => field.id === 'credential') ??
    concealed[0]
  );
}
