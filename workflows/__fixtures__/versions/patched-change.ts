/**
 * The same change made safely, as the README describes: behind `patched()`, new requests take the
 * new path and requests already in flight replay their recorded path unchanged. Later, once no
 * request without the marker is open, `deprecatePatch()` and then removing the branch finish it.
 */
import { patched, sleep } from '@temporalio/workflow';
import type { AccessRequestInput, AccessRequestState } from '../../../contracts/request';
import { accessRequestWorkflow as current } from '../../access-request/workflow';

export { vaultLeaseWorkflow } from '../../vault-lease';
export { catalogWorkflow } from '../../catalog';

export async function accessRequestWorkflow(input: AccessRequestInput): Promise<AccessRequestState> {
  if (patched('pause-before-start')) await sleep('1 second');
  return current(input);
}
