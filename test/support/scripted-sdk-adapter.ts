import { SdkClientRegistry, serviceAccountClientFactory } from '../../onepassword/sdk/client-registry';
import { RateBudget, type RateBudgetOptions } from '../../onepassword/sdk/rate-budget';
import { OnePasswordSdkAdapter, type OnePasswordSdkAdapterOptions } from '../../onepassword/sdk/sdk-adapter';
import { ScriptedOnePasswordCore, scriptedCreateClient } from './scripted-sdk-core';

/** The real adapter and its SDK client, wired to a scripted core. */
export interface ScriptedAdapterSetup {
  sut: OnePasswordSdkAdapter;
  core: ScriptedOnePasswordCore;
  /** The adapter's clients, for calling the SDK directly (what the adapter would never send). */
  clients: SdkClientRegistry;
}

export async function scriptedAdapter(
  options: Partial<OnePasswordSdkAdapterOptions> & { budgetOptions?: RateBudgetOptions } = {},
): Promise<ScriptedAdapterSetup> {
  const core = new ScriptedOnePasswordCore();
  const clients = new SdkClientRegistry(
    serviceAccountClientFactory(() => Promise.resolve('ops_scripted_token'), await scriptedCreateClient(core)),
  );
  const sut = new OnePasswordSdkAdapter({
    integration: 'demo',
    clients,
    serviceAccountVaultIds: ['vlt_oncall', 'vlt_logins'],
    budget: new RateBudget(options.budgetOptions),
    ...options,
  });
  return { sut, core, clients };
}
