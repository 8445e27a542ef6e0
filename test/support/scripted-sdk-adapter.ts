import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SdkClientRegistry, serviceAccountClientFactory } from '../../onepassword/sdk/client-registry';
import { RateBudget, type RateBudgetOptions } from '../../onepassword/sdk/rate-budget';
import { OnePasswordSdkAdapter, type OnePasswordSdkAdapterOptions } from '../../onepassword/sdk/sdk-adapter';
import { ShareLinkLedger } from '../../onepassword/sdk/share-ledger';
import { ScriptedOnePasswordCore, scriptedCreateClient } from './scripted-sdk-core';

/** The real adapter, its SDK client and ledger, wired to a scripted core in a temporary folder. */
export interface ScriptedAdapterSetup {
  sut: OnePasswordSdkAdapter;
  core: ScriptedOnePasswordCore;
  ledger: ShareLinkLedger;
  ledgerFile: string;
  dispose(): Promise<void>;
}

export async function scriptedAdapter(
  options: Partial<OnePasswordSdkAdapterOptions> & { budgetOptions?: RateBudgetOptions } = {},
): Promise<ScriptedAdapterSetup> {
  const dir = await mkdtemp(path.join(tmpdir(), 'latchkey-sdk-adapter-'));
  const core = new ScriptedOnePasswordCore();
  const clients = new SdkClientRegistry(
    serviceAccountClientFactory(() => Promise.resolve('ops_scripted_token'), await scriptedCreateClient(core)),
  );
  const ledgerFile = path.join(dir, 'share-ledger.json');
  const ledger = new ShareLinkLedger({ file: ledgerFile, key: randomBytes(32) });
  const sut = new OnePasswordSdkAdapter({
    integration: 'demo',
    clients,
    ledger,
    serviceAccountVaultIds: ['vlt_oncall'],
    budget: new RateBudget(options.budgetOptions),
    ...options,
  });
  return { sut, core, ledger, ledgerFile, dispose: () => rm(dir, { recursive: true, force: true }) };
}
