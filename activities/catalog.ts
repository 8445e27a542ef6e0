import { Context } from '@temporalio/activity';
import type { CatalogGroup, CatalogItem, CatalogVault, ResourceCatalog } from '../contracts/catalog';
import { classifyOnePasswordError, isRetryable } from '../onepassword/errors';
import type { GroupSummary, OnePasswordPort } from '../onepassword/port';
import type { ActivityContext } from './context';
import { callOnePassword, toActivityFailure } from './failures';

export function catalogActivities({ onePassword, clock, integrations: configured = [] }: ActivityContext) {
  return {
    /**
     * Lists vaults and items (with tags) of every integration, for policy resolution and the catalog, and
     * names the groups vault-group resources reach.
     */
    async refreshCatalog(integrations: string[]): Promise<ResourceCatalog> {
      const vaults: CatalogVault[] = [];
      const items: CatalogItem[] = [];
      const groups: CatalogGroup[] = [];
      for (const integration of integrations) {
        const port = onePassword(integration);
        for (const vault of await callOnePassword(() => port.listVaults())) {
          vaults.push({
            integration,
            vaultId: vault.id,
            title: vault.title,
            createdByServiceAccount: vault.createdByServiceAccount,
          });
          for (const item of await callOnePassword(() => port.listItems(vault.id))) {
            items.push({ integration, vaultId: vault.id, itemId: item.id, title: item.title, tags: item.tags });
          }
          Context.current().heartbeat();
        }
        for (const groupId of configured.find((candidate) => candidate.name === integration)?.groupIds ?? []) {
          const group = await describeGroup(port, groupId);
          if (group) groups.push({ integration, groupId, title: group.title, type: group.type });
        }
      }
      return { refreshedAt: clock().toISOString(), vaults, items, groups };
    },
  };
}

/** A group the policy names but 1Password refuses to describe is left out (`onepassword check` reports it). */
async function describeGroup(port: OnePasswordPort, groupId: string): Promise<GroupSummary | undefined> {
  try {
    return await port.describeGroup(groupId);
  } catch (error) {
    if (isRetryable(classifyOnePasswordError(error).kind)) throw toActivityFailure(error);
    return undefined;
  }
}
