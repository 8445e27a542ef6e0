import { DefaultLogger } from '@temporalio/worker';
import { bundleLatchkeyWorkflows, withWorkerTrust } from '../../apps/worker/worker';
import { TEST_WORKER_TRUST } from './commands';

const bundles = new Map<string, Promise<{ code: string }>>();

/**
 * The workflow bundle replay tests run, as the test workers run it: with what they trust in the sandbox, since
 * lease messages are checked again on replay. One per workflow folder (latchkey's own, or a variant of it).
 */
export function replayBundle(workflowsPath = require.resolve('../../workflows')): Promise<{ code: string }> {
  let bundle = bundles.get(workflowsPath);
  if (!bundle) {
    bundle = bundleLatchkeyWorkflows({ workflowsPath, logger: new DefaultLogger('WARN') }).then((built) =>
      withWorkerTrust(built, TEST_WORKER_TRUST),
    );
    bundles.set(workflowsPath, bundle);
  }
  return bundle;
}
