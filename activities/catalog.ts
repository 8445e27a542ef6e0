import { Context } from '@temporalio/activity';
import type { CatalogItem, CatalogVault, ResourceCatalog } from '../contracts/catalog';
import type { ActivityContext } from './context';
import { callOnePassword } from './failures';

export function catalogActivities({ onePassword, clock }: ActivityContext) {
  return {
    /** Lists vaults and items (with tags) of every integration, for policy resolution and the catalog. */
    async refreshCatalog(integrations: string[]): Promise<ResourceCatalog> {
      const vaults: CatalogVault[] = [];
      const items: CatalogItem[] = [];
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
      }
      return { refreshedAt: clock().toISOString(), vaults, items };
    },
  };
}
