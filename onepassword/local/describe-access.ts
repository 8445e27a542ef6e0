import type { LocalState } from './state';

/** Who can reach a secret right now, from the local 1Password's state (read-only). */
export interface AccessReport {
  at: string;
  shareLinks: Array<{
    shareId: string;
    vaultId: string;
    itemId: string;
    itemTitle: string;
    expiresAt: string;
    recipients: Array<{ email: string; viewsLeft: number | null }>;
  }>;
  groupPermissions: Array<{
    vaultId: string;
    vaultTitle: string;
    groupId: string;
    permissions: string[];
    grantedAt: string;
  }>;
}

/** A link counts while it has not expired and some recipient can still open it. */
export function describeAccess(state: LocalState, now: Date = new Date()): AccessReport {
  const titles = new Map(state.items.map((item) => [item.id, item.title]));
  return {
    at: now.toISOString(),
    shareLinks: state.shareLinks
      .filter((link) => Date.parse(link.expiresAt) > now.getTime())
      .map((link) => ({
        shareId: link.id,
        vaultId: link.vaultId,
        itemId: link.itemId,
        itemTitle: titles.get(link.itemId) ?? link.snapshot.title,
        expiresAt: link.expiresAt,
        recipients: link.recipients
          .filter((recipient) => recipient.viewsLeft !== 0)
          .map(({ email, viewsLeft }) => ({ email, viewsLeft })),
      }))
      .filter((link) => link.recipients.length > 0),
    groupPermissions: state.vaults.flatMap((vault) =>
      vault.groupPermissions.map((entry) => ({
        vaultId: vault.id,
        vaultTitle: vault.title,
        groupId: entry.groupId,
        permissions: [...entry.permissions],
        grantedAt: entry.grantedAt,
      })),
    ),
  };
}
