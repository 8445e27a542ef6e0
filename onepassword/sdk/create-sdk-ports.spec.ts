import { createSdkOnePasswordPorts } from './create-sdk-ports';
import { ScriptedOnePasswordCore, scriptedCreateClient } from '../../test/support/scripted-sdk-core';

describe(createSdkOnePasswordPorts.name, () => {
  it('gives each integration its own adapter and token, and one client per integration', async () => {
    const core = new ScriptedOnePasswordCore();
    const tokensAsked: string[] = [];
    const sut = createSdkOnePasswordPorts({
      integrations: [
        { name: 'alpha', plan: 'business', serviceAccountVaultIds: ['vlt_oncall'] },
        { name: 'beta', plan: 'teams', serviceAccountVaultIds: [] },
      ],
      tokenFor: (integration) => {
        tokensAsked.push(integration);
        return Promise.resolve(`ops_token_${integration}`);
      },
      createClient: await scriptedCreateClient(core),
    });
    const share = {
      vaultId: 'vlt_prod',
      itemId: 'itm_prod_db',
      recipients: ['alice@example.com'],
      oneTimeOnly: true,
    };
    await sut.get('alpha')!.createShareLink({ ...share, expiry: '1h', reference: 'a' });
    await sut.get('alpha')!.listVaults();
    await sut.get('beta')!.createShareLink({ ...share, expiry: '1h', reference: 'b' });

    expect(tokensAsked).toEqual(['alpha', 'beta']);
    expect(core.clientConfigs.map((config) => config.serviceAccountToken)).toEqual([
      'ops_token_alpha',
      'ops_token_beta',
    ]);
    expect((await sut.get('alpha')!.listVaults()).find((vault) => vault.id === 'vlt_oncall')).toMatchObject({
      createdByServiceAccount: true,
    });
    expect((await sut.get('beta')!.listVaults()).find((vault) => vault.id === 'vlt_oncall')).toMatchObject({
      createdByServiceAccount: false,
    });
    // Each budget counts against its plan's limits.
    expect((await sut.get('alpha')!.budget()).limits.writesPerHour).toBe(1_000);
    expect((await sut.get('beta')!.budget()).limits.writesPerHour).toBe(100);
  });
});
