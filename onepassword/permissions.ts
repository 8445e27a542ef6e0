/**
 * 1Password vault permission names as latchkey's policy writes them. The real adapter maps them to
 * the SDK's bit flags; the local 1Password stores the names.
 */
export const VAULT_PERMISSIONS = [
  'read_items',
  'reveal_item_password',
  'update_item_history',
  'create_items',
  'update_items',
  'archive_items',
  'delete_items',
  'import_items',
  'export_items',
  'send_items',
  'print_items',
  'manage_vault',
  'recover_vault',
] as const;
export type VaultPermission = (typeof VAULT_PERMISSIONS)[number];

export function isVaultPermission(value: string): value is VaultPermission {
  return (VAULT_PERMISSIONS as readonly string[]).includes(value);
}
