import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { LatchkeyActivities } from '../activities';
import { catalogQuery, refreshCatalogUpdate, type ResourceCatalog } from '../contracts/catalog';

const { refreshCatalog } = proxyActivities<LatchkeyActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes', maximumAttempts: 5 },
});

export interface CatalogWorkflowInput {
  integrations: string[];
  /** How often the catalog is refreshed without being asked. */
  refreshIntervalMs: number;
  /** The last catalog, carried over continue-as-new. */
  catalog?: ResourceCatalog;
}

const REFRESHES_BEFORE_CONTINUE_AS_NEW = 100;

/**
 * Keeps the resource catalog (vaults and items of every integration) for the API, which holds no
 * 1Password token: refreshed on a schedule and on demand (Update), read by a query.
 */
export async function catalogWorkflow(input: CatalogWorkflowInput): Promise<void> {
  let catalog = input.catalog;
  let refreshRequested = false;
  let refreshing: Promise<ResourceCatalog> | undefined;

  async function refresh(): Promise<ResourceCatalog> {
    // Concurrent refresh requests share one activity.
    refreshing ??= refreshCatalog(input.integrations).finally(() => {
      refreshing = undefined;
    });
    catalog = await refreshing;
    setCurrentDetails(
      `Catalog of ${input.integrations.join(', ')}: ${catalog.vaults.length} vault(s), ${catalog.items.length} item(s), refreshed ${catalog.refreshedAt}`,
    );
    return catalog;
  }

  setHandler(catalogQuery, () => catalog);
  setHandler(refreshCatalogUpdate, async () => {
    refreshRequested = true;
    return refresh();
  });

  for (let refreshes = 0; refreshes < REFRESHES_BEFORE_CONTINUE_AS_NEW; refreshes++) {
    try {
      await refresh();
    } catch (error) {
      // Keep the last good catalog; the next round tries again.
      log.warn('catalog refresh failed', { error: String(error) });
    }
    refreshRequested = false;
    await condition(() => refreshRequested, input.refreshIntervalMs);
    if (workflowInfo().continueAsNewSuggested) break;
  }
  await condition(allHandlersFinished);
  await continueAsNew<typeof catalogWorkflow>({ ...input, catalog });
}
