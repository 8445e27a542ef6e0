import type { Logger } from 'pino';
import { Pool } from 'pg';
import type { LatchkeyConfig } from '../../config/config';
import { readSecret } from '../../config/secrets';
import { LocalOnePassword } from '../../onepassword/local/local-onepassword';
import { OnePasswordError, type OnePasswordPort } from '../../onepassword/port';
import { createSdkOnePasswordPorts, type SdkPortsOptions } from '../../onepassword/sdk/create-sdk-ports';
import { PostgresRateLedger } from '../../onepassword/sdk/postgres-rate-ledger';
import type { OnePasswordSdkAdapter } from '../../onepassword/sdk/sdk-adapter';
import { integrationsOf, type LoadedPolicy } from '../../policy';

export interface WorkerPorts {
  /** The port of an integration; throws for an integration the policy does not define. */
  forIntegration(this: void, integration: string): OnePasswordPort;
  /** The real-1Password adapters, whose rate budgets the worker reports as metrics. */
  sdkAdapters: Map<string, OnePasswordSdkAdapter>;
  /**
   * New grants of this integration fail at once with `reason` (its start check found it cannot work),
   * for as long as it still cannot list its vaults. Ending access is never refused: it goes on trying
   * until 1Password accepts it.
   */
  refuseGrants(this: void, integration: string, reason: string): void;
  /** Closes the shared rate ledger's connections, if any. */
  close(this: void): Promise<void>;
}

/**
 * One 1Password port per integration of the policy: the local 1Password for kind `local`, the
 * @1password/sdk adapter for kind `onepassword`. Tokens are read from their sources only when an
 * adapter first needs its client, and never leave this process.
 */
export function createWorkerPorts(
  policy: LoadedPolicy,
  config: LatchkeyConfig,
  {
    logger,
    onUnrecognisedFailure,
  }: { logger?: Logger; onUnrecognisedFailure?: SdkPortsOptions['onUnrecognisedFailure'] } = {},
): WorkerPorts {
  const integrations = integrationsOf(policy);
  const ports = new Map<string, OnePasswordPort>();

  const local = new LocalOnePassword({ stateFile: config.localOnePassword.stateFile });
  for (const integration of integrations) if (integration.kind === 'local') ports.set(integration.name, local);

  const real = integrations.filter((integration) => integration.kind === 'onepassword');
  const ledgerPool = real.length > 0 ? rateLedgerPool(config) : undefined;
  const sdkAdapters = createSdkOnePasswordPorts({
    onUnrecognisedFailure,
    ledgerFor:
      ledgerPool &&
      ((name) =>
        new PostgresRateLedger({
          pool: ledgerPool,
          budget: name,
          onFallback: (failing, error) =>
            failing
              ? logger?.warn(
                  { integration: name, err: error },
                  'the shared rate ledger cannot be reached: counting 1Password requests in this worker until it can',
                )
              : logger?.info({ integration: name }, 'the shared rate ledger answers again'),
        })),
    integrations: real.map((integration) => ({
      name: integration.name,
      plan: integration.plan,
      // Vault-group resources live in vaults the service account created; the policy names them.
      serviceAccountVaultIds: [
        ...new Set(
          policy.resources
            .filter((resource) => resource.type === 'vault' && resource.integration === integration.name)
            .map((resource) => resource.vaultId),
        ),
      ],
    })),
    tokenFor: (name) => {
      const source = real.find((integration) => integration.name === name)?.token;
      try {
        if (!source) throw new Error('the policy names no token source');
        return Promise.resolve(readSecret(source));
      } catch (error) {
        // Retryable: fixing the token file (or the environment, with a restart) lets the work go on.
        const why = error instanceof Error ? error.message : String(error);
        return Promise.reject(new OnePasswordError('auth', `no service-account token for "${name}": ${why}`));
      }
    },
  });
  for (const [name, adapter] of sdkAdapters) ports.set(name, adapter);

  return {
    sdkAdapters,
    close: async () => {
      await ledgerPool?.end();
    },
    forIntegration(integration) {
      const port = ports.get(integration);
      if (!port) throw new Error(`no 1Password port for integration "${integration}"`);
      return port;
    },
    refuseGrants(integration, reason) {
      const port = ports.get(integration);
      if (port)
        ports.set(
          integration,
          refusingGrants(port, reason, () => ports.set(integration, port)),
        );
    },
  };
}

/** The connections to the database where the workers count 1Password requests together, when one is set. */
function rateLedgerPool(config: LatchkeyConfig): Pool | undefined {
  const file = config.worker.rateBudgetDatabaseUrlFile;
  if (!file) return undefined;
  // Short time-outs: a budget check that hangs would hold up 1Password calls; a failing one falls back.
  return new Pool({
    connectionString: readSecret({ file }),
    max: 4,
    connectionTimeoutMillis: 5_000,
    query_timeout: 5_000,
    idleTimeoutMillis: 30_000,
  });
}

/**
 * The port with its two grant calls refused (non-retryable: the request fails with the reason) while the
 * integration still cannot list its vaults; once it can again, `recovered` puts the port back.
 */
function refusingGrants(port: OnePasswordPort, reason: string, recovered: () => void): OnePasswordPort {
  const unlessRecovered =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const usable = await port.listVaults().then(
        () => true,
        () => false,
      );
      if (!usable) throw new OnePasswordError('forbidden', reason);
      recovered();
      return call(...args);
    };
  return {
    listVaults: () => port.listVaults(),
    listItems: (vaultId) => port.listItems(vaultId),
    getItem: (vaultId, itemId) => port.getItem(vaultId, itemId),
    findItemId: (vaultId, title) => port.findItemId(vaultId, title),
    getSharePolicy: (vaultId, itemId) => port.getSharePolicy(vaultId, itemId),
    createShareLink: unlessRecovered((params) => port.createShareLink(params)),
    grantGroupPermissions: unlessRecovered((params) => port.grantGroupPermissions(params)),
    revokeGroupPermissions: (params) => port.revokeGroupPermissions(params),
    describeGroup: (groupId) => port.describeGroup(groupId),
    listGroupPermissions: (vaultId) => port.listGroupPermissions(vaultId),
    rotateItemSecret: (params) => port.rotateItemSecret(params),
    getItemSecret: (vaultId, itemId) => port.getItemSecret(vaultId, itemId),
    setItemSecret: (params) => port.setItemSecret(params),
    // A login's item is part of a grant; deleting one is part of an end, never refused.
    createItem: unlessRecovered((params) => port.createItem(params)),
    deleteItem: (vaultId, itemId) => port.deleteItem(vaultId, itemId),
  };
}
