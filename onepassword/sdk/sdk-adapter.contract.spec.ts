import {
  DEMO_CONTRACT_ACCOUNT,
  type FailingCall,
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
  const failures: Record<InjectedFailure, (invocation: string) => void> = {
    'token-revoked': (invocation) => core.failNext(invocation, CORE_FAILURES.tokenRevoked, 'Auth'),
    outage: (invocation) => core.failNext(invocation, CORE_FAILURES.badGateway),
    'rate-limited': (invocation) => core.failNext(invocation, CORE_FAILURES.rateLimited, 'RateLimitExceeded'),
  };
  // The invocation that fails: for setItemSecret the write, after its read went through.
  const invocations: Record<FailingCall, string> = {
    getItem: 'ItemsGet',
    setItemSecret: 'ItemsPut',
    createItem: 'ItemsCreate',
    deleteItem: 'ItemsDelete',
  };
  return {
    sut,
    // Each failure answers the next call only, as a passing outage would.
    injectFailure: (failure, call) => Promise.resolve(failures[failure](invocations[call])),
    clearFailures: () => {
      now += 3_600_000;
      return Promise.resolve();
    },
    account: DEMO_CONTRACT_ACCOUNT,
    groupPermissions: (vaultId, groupId) => sut.groupPermissions(vaultId, groupId),
  };
});
