import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createSdkOnePasswordPorts } from './create-sdk-ports';
import { ScriptedOnePasswordCore, scriptedCreateClient } from '../../test/support/scripted-sdk-core';

describe(createSdkOnePasswordPorts.name, () => {
  it('gives each integration its own adapter, ledger and token, and one client per integration', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'latchkey-sdk-ports-'));
    const core = new ScriptedOnePasswordCore();
    const tokensAsked: string[] = [];
    try {
      const sut = createSdkOnePasswordPorts({
        integrations: [
          { name: 'alpha', serviceAccountVaultIds: ['vlt_oncall'] },
          { name: 'beta', serviceAccountVaultIds: [] },
        ],
        tokenFor: (integration) => {
          tokensAsked.push(integration);
          return Promise.resolve(`ops_token_${integration}`);
        },
        ledgerDir: dir,
        ledgerKey: randomBytes(32),
        createClient: await scriptedCreateClient(core),
      });
      const share = {
        vaultId: 'vlt_prod',
        itemId: 'itm_prod_db',
        recipients: ['alice@example.com'],
        oneTimeOnly: true,
      };
      await sut.get('alpha')!.createShareLink({ ...share, expiry: '1h', idempotencyKey: 'a' });
      await sut.get('alpha')!.listVaults();
      await sut.get('beta')!.createShareLink({ ...share, expiry: '1h', idempotencyKey: 'b' });

      expect(tokensAsked).toEqual(['alpha', 'beta']);
      expect(core.clientConfigs.map((config) => config.serviceAccountToken)).toEqual([
        'ops_token_alpha',
        'ops_token_beta',
      ]);
      expect((await readdir(dir)).filter((name) => name.endsWith('.json')).sort()).toEqual([
        'share-ledger.alpha.json',
        'share-ledger.beta.json',
      ]);
      expect((await sut.get('beta')!.listVaults()).find((vault) => vault.id === 'vlt_oncall')).toMatchObject({
        createdByServiceAccount: false,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
