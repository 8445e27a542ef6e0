import * as fs from 'node:fs';
import type { DataConverter } from '@temporalio/common';
import {
  bundleWorkflowCode,
  type BundleOptions,
  type NativeConnection,
  Worker,
  type WorkerOptions,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { createActivities } from '../../activities';
import type { WorkerTrust } from '../../contracts/command';
import { WORKER_TRUST_GLOBAL } from '../../workflows/worker-trust';

export interface LatchkeyWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  dataConverter: DataConverter;
  activities: ReturnType<typeof createActivities>;
  /**
   * What the workflows trust (the worker's configuration): the API keys whose signed commands they accept and
   * the key of internal messages, written into the workflow bundle, where the validators and handlers read
   * them. The activities must be made with the same.
   */
  trust: WorkerTrust;
  /** A prebuilt workflow bundle (production image, tests that start many workers); default: bundle `workflows/`. */
  workflowBundle?: { code: string; sourceMap?: string } | { codePath: string; sourceMapPath?: string };
  /** Lifecycle knobs for tests and operators; everything else is fixed here. */
  tuning?: Pick<WorkerOptions, 'identity' | 'shutdownGraceTime' | 'shutdownForceTime' | 'maxCachedWorkflows'>;
}

/**
 * The latchkey worker: every workflow of `workflows/` and the given activities, with the payload
 * codec. The worker app, the dev runner, the integration tests and the benchmarks all build it here.
 */
export async function createLatchkeyWorker(opts: LatchkeyWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    dataConverter: opts.dataConverter,
    activities: opts.activities,
    // A heartbeat's details are what the next attempt reads (a rotation made, the notifications sent). The
    // SDK holds all but the first of an attempt's heartbeats for up to 80 % of the heartbeat timeout (24 s for
    // grants); a worker that died meanwhile would take them along. One second at most. (Share links, which
    // cannot afford even that, record theirs through the client: activities/heartbeat.ts.)
    maxHeartbeatThrottleInterval: '1 second',
    workflowBundle: withWorkerTrust(opts.workflowBundle ?? (await bundleLatchkeyWorkflows()), opts.trust),
    ...opts.tuning,
  });
}

/**
 * Modules the sandbox loads once and shares between workflows, instead of once per workflow: pure code that keeps
 * no state of a workflow's own. Ed25519's first verification builds a table of the curve's base point (about 40 ms
 * in the sandbox); loaded per workflow, every approval built it again. Named by our own modules: webpack drops a
 * bare import of a package that declares itself free of side effects, as noble's do.
 */
const SHARED_WORKFLOW_MODULES = [
  require.resolve('../../trust/command'),
  // Its cache of decoded trusted keys is shared too: see sharedKeyEd25519.
  require.resolve('../../trust/ed25519'),
  require.resolve('../../trust/internal-message'),
];

/**
 * Bundles latchkey's workflows ahead of time (the production image, tests that start many workers).
 * The failure converter goes into the bundle: inside the sandbox it is what keeps failure messages
 * encoded in history.
 */
export function bundleLatchkeyWorkflows(
  options: Pick<BundleOptions, 'logger'> & { workflowsPath?: string } = {},
): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    ...options,
    workflowsPath: options.workflowsPath ?? require.resolve('../../workflows'),
    failureConverterPath: require.resolve('../../codec/failure-converter'),
    preloadModules: SHARED_WORKFLOW_MODULES,
  });
}

/**
 * The bundle with what the worker trusts set before any workflow code runs: the only way configuration
 * reaches the validators, since nothing a Temporal client sends may. The sandbox freezes the global.
 */
export function withWorkerTrust(
  bundle: NonNullable<LatchkeyWorkerOptions['workflowBundle']>,
  trust: WorkerTrust,
): { code: string } {
  const code = 'code' in bundle ? bundle.code : fs.readFileSync(bundle.codePath, 'utf8');
  const prelude = `globalThis[${JSON.stringify(WORKER_TRUST_GLOBAL)}] = ${JSON.stringify(trust)};`;
  // On the bundle's first line, so that the source map's lines still match.
  return { code: prelude + code };
}
