import type { ResourceCatalog } from '../contracts/catalog';

/**
 * The catalog of the local 1Password's demo seed (docs/demo-data.md), written out by hand so that
 * `latchkey policy explain` works without a running worker. It is a stand-in: once the worker's
 * catalog workflow is wired in, explain reads the discovered catalog instead.
 */
export function demoCatalog(refreshedAt: string = new Date().toISOString()): ResourceCatalog {
  const integration = 'demo';
  return {
    refreshedAt,
    vaults: [
      { integration, vaultId: 'vlt_prod', title: 'Production', createdByServiceAccount: false },
      { integration, vaultId: 'vlt_staging', title: 'Staging', createdByServiceAccount: false },
      { integration, vaultId: 'vlt_oncall', title: 'On-call runbooks', createdByServiceAccount: true },
      { integration, vaultId: 'vlt_logins', title: 'latchkey database logins', createdByServiceAccount: true },
    ],
    items: [
      {
        integration,
        vaultId: 'vlt_prod',
        itemId: 'itm_prod_db',
        title: 'Production database',
        tags: ['owner:security', 'env:prod'],
      },
      {
        integration,
        vaultId: 'vlt_prod',
        itemId: 'itm_stripe_key',
        title: 'Stripe API key',
        tags: ['owner:payments', 'env:prod'],
      },
      {
        integration,
        vaultId: 'vlt_prod',
        itemId: 'itm_reporting_db',
        title: 'Reporting database',
        tags: ['owner:security'],
      },
      {
        integration,
        vaultId: 'vlt_staging',
        itemId: 'itm_staging_db',
        title: 'Staging database',
        tags: ['env:staging'],
      },
      { integration, vaultId: 'vlt_oncall', itemId: 'itm_runbook', title: 'Runbook', tags: ['env:prod'] },
    ],
  };
}
