import { registerOnePasswordContract } from '../contract';
import { OnePasswordSdkAdapter } from './sdk-adapter';
import { scriptedAdapter } from './testing/scripted-adapter';

registerOnePasswordContract(`${OnePasswordSdkAdapter.name} through the SDK Client with a scripted core`, async () => {
  const { sut, dispose } = await scriptedAdapter();
  return {
    sut,
    account: {
      item: {
        vaultId: 'vlt_prod',
        itemId: 'itm_prod_db',
        title: 'Production database',
        tags: ['owner:security', 'env:prod'],
      },
      missingItemId: 'itm_missing',
      managedVaultId: 'vlt_oncall',
      unmanagedVaultId: 'vlt_prod',
      groupId: 'grp_engineering',
      allowedRecipient: 'alice@example.com',
      refusedRecipient: 'mallory@elsewhere.test',
    },
    readSecret: (vaultId, itemId) => sut.getItemSecret(vaultId, itemId),
    groupPermissions: (vaultId, groupId) => sut.groupPermissions(vaultId, groupId),
    dispose,
  };
});
