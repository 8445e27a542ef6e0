import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  DEMO_CONTRACT_ACCOUNT,
  type InjectedFailure,
  registerOnePasswordContract,
} from '../../test/support/onepassword-contract';
import { LocalOnePassword } from './local-onepassword';
import type { LocalFaults } from './state';

const LOCAL_FAULTS: Record<InjectedFailure, LocalFaults> = {
  'token-revoked': { tokenRevoked: true },
  outage: { outageUntil: '9999-01-01T00:00:00.000Z' },
  'rate-limited': { rateLimitEvery: 1 },
};

registerOnePasswordContract(LocalOnePassword.name, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'latchkey-local-1password-'));
  const sut = new LocalOnePassword({ stateFile: path.join(dir, 'state.json') });
  return {
    sut,
    account: DEMO_CONTRACT_ACCOUNT,
    groupPermissions: async (vaultId, groupId) => {
      const state = await sut.readState();
      const vault = state.vaults.find((candidate) => candidate.id === vaultId);
      return vault?.groupPermissions.find((entry) => entry.groupId === groupId)?.permissions ?? [];
    },
    injectFailure: (failure, call) => sut.setFaults({ ...LOCAL_FAULTS[failure], failOperations: [call] }),
    clearFailures: () => sut.setFaults({}),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
});
