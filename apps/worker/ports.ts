import type { LatchkeyConfig } from '../../config/config';
import { readSecret } from '../../config/secrets';
import { LocalOnePassword } from '../../onepassword/local/local-onepassword';
import { OnePasswordError, type OnePasswordPort } from '../../onepassword/port';
import { createSdkOnePasswordPorts, type SdkPortsOptions } from '../../onepassword/sdk/create-sdk-ports';
import type { OnePasswordSdkAdapter } from '../../onepassword/sdk/sdk-adapter';
import { integrationsOf, type LoadedPolicy } from '../../policy';

export interface WorkerPorts {
  /** The port of an integration; throws for an integration the policy does not define. */
  forIntegration(this: void, integration: string): OnePasswordPort;
  /** The real-1Password adapters, whose rate budgets the worker reports as metrics. */
  sdkAdapters: Map<string, OnePasswordSdkAdapter>;
}

/**
 * One 1Password port per integration of the policy: the local 1Password for kind `local`, the
 * @1password/sdk adapter for kind `onepassword`. Tokens are read from their sources only when an
 * adapter first needs its client, and never leave this process.
 */
export function createWorkerPorts(
  policy: LoadedPolicy,
  config: LatchkeyConfig,
  onUnrecognisedFailure?: SdkPortsOptions['onUnrecognisedFailure'],
): WorkerPorts {
  const integrations = integrationsOf(policy);
  const ports = new Map<string, OnePasswordPort>();

  const local = new LocalOnePassword({ stateFile: config.localOnePassword.stateFile });
  for (const integration of integrations) if (integration.kind === 'local') ports.set(integration.name, local);

  const real = integrations.filter((integration) => integration.kind === 'onepassword');
  const sdkAdapters = createSdkOnePasswordPorts({
    onUnrecognisedFailure,
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
    forIntegration(integration) {
      const port = ports.get(integration);
      if (!port) throw new Error(`no 1Password port for integration "${integration}"`);
      return port;
    },
  };
}
