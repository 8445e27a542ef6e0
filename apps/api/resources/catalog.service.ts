import { Inject, Injectable } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { CATALOG_WORKFLOW_ID, catalogQuery, type ResourceCatalog } from '../../../contracts/catalog';
import type { LatchkeyConfig } from '../../../config/config';
import { ApiError } from '../errors/api-error';
import { API_CONFIG, TEMPORAL_CLIENT } from '../tokens';

const CATALOG_QUERY_DEADLINE_MS = 5_000;

const CATALOG_UNAVAILABLE = new ApiError(
  503,
  'catalog-unavailable',
  'The resource catalog is not available yet (is the worker running?); try again shortly.',
);

/**
 * The catalog the worker discovered in 1Password, read from its catalog workflow (the API holds no
 * 1Password token) and kept for a short while so that every request does not cost a query.
 */
@Injectable()
export class CatalogService {
  private cached?: { catalog: ResourceCatalog; until: number };
  private inFlight?: Promise<ResourceCatalog>;

  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(API_CONFIG) private readonly config: LatchkeyConfig,
  ) {}

  async get(): Promise<ResourceCatalog> {
    if (this.cached && this.cached.until > Date.now()) return this.cached.catalog;
    // Concurrent callers share one query instead of each sending their own.
    this.inFlight ??= this.load().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async load(): Promise<ResourceCatalog> {
    let catalog: ResourceCatalog | undefined;
    try {
      // A stopped worker must not hold requests open: answer 503 after a short wait.
      catalog = await this.client.connection.withDeadline(Date.now() + CATALOG_QUERY_DEADLINE_MS, () =>
        this.client.workflow.getHandle(CATALOG_WORKFLOW_ID).query(catalogQuery),
      );
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw CATALOG_UNAVAILABLE;
      throw err;
    }
    if (!catalog) throw CATALOG_UNAVAILABLE;
    this.cached = { catalog, until: Date.now() + this.config.api.catalogCacheMs };
    return catalog;
  }
}
