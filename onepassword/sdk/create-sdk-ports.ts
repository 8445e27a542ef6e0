import type { Client } from '@1password/sdk';
import * as path from 'node:path';
import { SdkClientRegistry, type SdkClientConfiguration, serviceAccountClientFactory } from './client-registry';
import { RateBudget, type RateLimits } from './rate-budget';
import { OnePasswordSdkAdapter } from './sdk-adapter';
import { ShareLinkLedger } from './share-ledger';

export interface SdkIntegrationSettings {
  name: string;
  /** Vaults the integration's service account created (vault-group resources live there). */
  serviceAccountVaultIds: string[];
  /** Defaults to Business limits. */
  limits?: RateLimits;
}

export interface SdkPortsOptions {
  integrations: SdkIntegrationSettings[];
  /** The service-account token of an integration (from its env var or file); asked once, lazily. */
  tokenFor: (integration: string) => Promise<string>;
  /** Folder for the share-link ledgers, one file per integration, on the worker host. */
  ledgerDir: string;
  /** 32 bytes that seal ledgered share links. */
  ledgerKey: Buffer;
  /** The SDK's `createClient` unless a test binds a scripted core. */
  createClient?: (config: SdkClientConfiguration) => Promise<Client>;
}

/**
 * The worker's real-1Password ports: one adapter per `onepassword` integration, all sharing one
 * client registry, so the process holds exactly one authenticated SDK client per integration.
 */
export function createSdkOnePasswordPorts(options: SdkPortsOptions): Map<string, OnePasswordSdkAdapter> {
  const clients = new SdkClientRegistry(serviceAccountClientFactory(options.tokenFor, options.createClient));
  return new Map(
    options.integrations.map((integration) => [
      integration.name,
      new OnePasswordSdkAdapter({
        integration: integration.name,
        clients,
        ledger: new ShareLinkLedger({
          file: path.join(options.ledgerDir, `share-ledger.${integration.name}.json`),
          key: options.ledgerKey,
        }),
        budget: new RateBudget({ limits: integration.limits }),
        serviceAccountVaultIds: integration.serviceAccountVaultIds,
      }),
    ]),
  );
}
