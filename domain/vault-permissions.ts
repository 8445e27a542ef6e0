/**
 * 1Password vault permissions, as latchkey's policy names them, and what each 1Password plan allows.
 * The real adapter maps the names to the SDK's bit flags; the local 1Password stores the names.
 *
 * 1Password's own names differ (docs/onepassword.md has the table): `read_items` is "view items",
 * `reveal_item_password` "view and copy passwords", `update_item_history` "view item history",
 * `update_items` "edit items", `send_items` "copy and share items".
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

export const ONEPASSWORD_PLANS = ['business', 'teams'] as const;
export type OnePasswordPlan = (typeof ONEPASSWORD_PLANS)[number];

/**
 * Teams grants permissions only in three broad sets (allow_viewing, allow_editing, allow_managing),
 * and editing needs viewing. Business grants each permission alone, with the ones it depends on.
 */
export const TEAMS_PERMISSION_SETS: Record<string, { permissions: VaultPermission[]; requires: string[] }> = {
  allow_viewing: { permissions: ['read_items', 'reveal_item_password', 'update_item_history'], requires: [] },
  allow_editing: {
    permissions: [
      'create_items',
      'update_items',
      'archive_items',
      'delete_items',
      'import_items',
      'export_items',
      'send_items',
      'print_items',
    ],
    requires: ['allow_viewing'],
  },
  allow_managing: { permissions: ['manage_vault'], requires: [] },
};

/** What each Business permission needs granted beside it (1Password refuses the grant otherwise). */
export const BUSINESS_PERMISSION_REQUIRES: Record<VaultPermission, VaultPermission[]> = {
  read_items: [],
  reveal_item_password: ['read_items'],
  update_item_history: ['read_items', 'reveal_item_password'],
  create_items: ['read_items'],
  update_items: ['read_items', 'reveal_item_password'],
  archive_items: ['read_items', 'reveal_item_password', 'update_items'],
  delete_items: ['read_items', 'reveal_item_password', 'update_items'],
  import_items: ['read_items', 'create_items'],
  export_items: ['read_items', 'reveal_item_password', 'update_item_history'],
  send_items: ['read_items', 'reveal_item_password', 'update_item_history'],
  print_items: ['read_items', 'reveal_item_password', 'update_item_history'],
  manage_vault: [],
  recover_vault: [],
};

/** Why a permission set cannot be granted on the plan; empty when it can. */
export function vaultPermissionProblems(plan: OnePasswordPlan, permissions: readonly string[]): string[] {
  const unknown = permissions.filter((name) => !isVaultPermission(name));
  if (unknown.length > 0) {
    return [`${unknown.join(', ')}: not a 1Password vault permission (known: ${VAULT_PERMISSIONS.join(', ')})`];
  }
  const granted = new Set(permissions);
  if (plan === 'business') {
    return permissions.flatMap((name) => {
      const missing = BUSINESS_PERMISSION_REQUIRES[name as VaultPermission].filter((needed) => !granted.has(needed));
      return missing.length > 0 ? [`${name} needs ${missing.join(', ')} granted with it (1Password Business)`] : [];
    });
  }
  const problems: string[] = [];
  const sets = Object.entries(TEAMS_PERMISSION_SETS).filter(([, set]) =>
    set.permissions.some((name) => granted.has(name)),
  );
  for (const [setName, set] of sets) {
    const missing = set.permissions.filter((name) => !granted.has(name));
    if (missing.length > 0) {
      problems.push(
        `1Password Teams grants ${set.permissions.filter((name) => granted.has(name)).join(', ')} only as part of ${setName} (${set.permissions.join(', ')}); add ${missing.join(', ')}`,
      );
    }
    for (const needed of set.requires) {
      if (!sets.some(([name]) => name === needed)) {
        problems.push(
          `1Password Teams grants ${setName} only with ${needed} (${TEAMS_PERMISSION_SETS[needed].permissions.join(', ')})`,
        );
      }
    }
  }
  if (granted.has('recover_vault')) problems.push('recover_vault cannot be granted on 1Password Teams');
  return problems;
}

/** Built-in 1Password groups (the SDK's `GroupType`); Teams accounts have no others. */
export const BUILT_IN_GROUP_TYPES = ['owners', 'administrators', 'teamMembers'] as const;
export type OnePasswordGroupType = (typeof BUILT_IN_GROUP_TYPES)[number] | 'userDefined';
