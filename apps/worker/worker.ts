import type { DataConverter } from '@temporalio/common';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { createActivities } from '../../activities';

export interface LatchkeyWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  dataConverter: DataConverter;
  activities: ReturnType<typeof createActivities>;
  /** A prebuilt workflow bundle (production image, tests that start many workers); default: bundle `workflows/`. */
  workflowBundle?: WorkerOptions['workflowBundle'];
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
    ...(opts.workflowBundle
      ? { workflowBundle: opts.workflowBundle }
      : { workflowsPath: require.resolve('../../workflows') }),
    ...opts.tuning,
  });
}
