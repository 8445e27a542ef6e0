/**
 * A deliberately unsafe change, for tests and for trying `latchkey replay --workflows`: the access
 * request now waits one second before doing anything else, a new first command that recorded
 * histories do not have. Replaying them against this code must report non-determinism.
 */
import { sleep } from '@temporalio/workflow';
import type { AccessRequestInput, AccessRequestState } from '../../../contracts/request';
import { accessRequestWorkflow as current } from '../../access-request/workflow';

export { vaultLeaseWorkflow } from '../../vault-lease';
export { catalogWorkflow } from '../../catalog';

export async function accessRequestWorkflow(input: AccessRequestInput): Promise<AccessRequestState> {
  await sleep('1 second');
  return current(input);
}
