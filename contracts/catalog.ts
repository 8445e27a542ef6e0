import { defineQuery, defineUpdate } from '@temporalio/workflow';

/**
 * What the worker discovered in 1Password: vaults and items (with tags) of every integration.
 * Policy uses it to resolve resources selected by vault and tag and the resource-owner rule. The
 * worker keeps it in a long-running catalog workflow, so the API (which holds no 1Password token)
 * reads it with a query.
 */
export interface CatalogVault {
  integration: string;
  vaultId: string;
  title: string;
  createdByServiceAccount: boolean;
}

export interface CatalogItem {
  integration: string;
  vaultId: string;
  itemId: string;
  title: string;
  tags: string[];
}

/** A 1Password group a vault-group resource names: whom its grants reach. */
export interface CatalogGroup {
  integration: string;
  groupId: string;
  title: string;
  /** The SDK's `GroupType` (teamMembers, userDefined, ...). 1Password does not say how many members it has. */
  type: string;
}

export interface ResourceCatalog {
  refreshedAt: string;
  vaults: CatalogVault[];
  items: CatalogItem[];
  /** Absent in catalogs made before groups were described. */
  groups?: CatalogGroup[];
}

export const CATALOG_WORKFLOW_ID = 'LatchkeyCatalog';
export const catalogQuery = defineQuery<ResourceCatalog | undefined>('catalog');
/** Refresh now (on demand) instead of waiting for the schedule; returns the new catalog. */
export const refreshCatalogUpdate = defineUpdate<ResourceCatalog>('refresh');
