import type { Client } from '@1password/sdk';
import { SdkClientRegistry, type SdkClientConfiguration, serviceAccountClientFactory } from './client-registry';
import type { OnePasswordPlan } from '../../domain/vault-permissions';
import { RATE_LIMITS, RateBudget } from './rate-budget';
import type { RateLedger } from './rate-ledger';
import { OnePasswordSdkAdapter, type OnePasswordSdkAdapterOptions } from './sdk-adapter';

export interface SdkIntegrationSettings {
  name: string;
  /** Vaults the integration's service account created (vault-group resources live there). */
  serviceAccountVaultIds: string[];
  /** Its rate limits are the plan's. */
  plan: OnePasswordPlan;
}

export interface SdkPortsOptions {
  integrations: SdkIntegrationSettings[];
  /** The service-account token of an integration (from its env var or file); asked once, lazily. */
  tokenFor: (integration: string) => Promise<string>;
  /** The SDK's `createClient` unless a test binds a scripted core. */
  createClient?: (config: SdkClientConfiguration) => Promise<Client>;
  onUnrecognisedFailure?: OnePasswordSdkAdapterOptions['onUnrecognisedFailure'];
  /** Where an integration's requests are counted when workers share a ledger; unset: in this process. */
  ledgerFor?: (integration: string) => RateLedger;
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
        budget: new RateBudget({
          limits: RATE_LIMITS[integration.plan],
          ledger: options.ledgerFor?.(integration.name),
        }),
        serviceAccountVaultIds: integration.serviceAccountVaultIds,
        onUnrecognisedFailure: options.onUnrecognisedFailure,
      }),
    ]),
  );
}
