import { DEMO_CONTRACT_ACCOUNT, registerOnePasswordContract } from '../../test/support/onepassword-contract';
import { OnePasswordSdkAdapter } from './sdk-adapter';
import { scriptedAdapter } from '../../test/support/scripted-sdk-adapter';

registerOnePasswordContract(`${OnePasswordSdkAdapter.name} through the SDK Client with a scripted core`, async () => {
  const { sut } = await scriptedAdapter();
  return {
    sut,
    account: DEMO_CONTRACT_ACCOUNT,
    readSecret: (vaultId, itemId) => sut.getItemSecret(vaultId, itemId),
    groupPermissions: (vaultId, groupId) => sut.groupPermissions(vaultId, groupId),
  };
});
