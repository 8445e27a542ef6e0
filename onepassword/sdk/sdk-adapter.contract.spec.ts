import {
  DEMO_CONTRACT_ACCOUNT,
  type InjectedFailure,
  registerOnePasswordContract,
} from '../../test/support/onepassword-contract';
import { CORE_FAILURES } from '../../test/support/scripted-sdk-core';
import { OnePasswordSdkAdapter } from './sdk-adapter';
import { scriptedAdapter } from '../../test/support/scripted-sdk-adapter';

registerOnePasswordContract(`${OnePasswordSdkAdapter.name} through the SDK Client with a scripted core`, async () => {
  // The budget's clock, moved past a rate limit's window when the failures are cleared.
  let now = Date.now();
  const { sut, core } = await scriptedAdapter({ budgetOptions: { now: () => now } });
  const failures: Record<InjectedFailure, () => void> = {
    'token-revoked': () => core.failNext('ItemsGet', CORE_FAILURES.tokenRevoked, 'Auth'),
    outage: () => core.failNext('ItemsGet', CORE_FAILURES.badGateway),
    'rate-limited': () => core.failNext('ItemsGet', CORE_FAILURES.rateLimited, 'RateLimitExceeded'),
  };
  return {
    sut,
    // Each failure answers the next call only, as a passing outage would.
    injectFailure: (failure) => Promise.resolve(failures[failure]()),
    clearFailures: () => {
      now += 3_600_000;
      return Promise.resolve();
    },
    account: DEMO_CONTRACT_ACCOUNT,
    readSecret: (vaultId, itemId) => sut.getItemSecret(vaultId, itemId),
    groupPermissions: (vaultId, groupId) => sut.groupPermissions(vaultId, groupId),
  };
});
