import { type Client, ScheduleAlreadyRunning, type ScheduleOptions } from '@temporalio/client';
import { RECONCILE_SCHEDULE_ID, RECONCILE_WORKFLOW_ID } from '../../contracts/reconcile';
import { reconcileWorkflow } from '../../workflows/reconcile';

/**
 * The Temporal Schedule that runs the reconciler every `everyMs`, made by the first worker and brought
 * up to date by later ones (every worker of a deployment has the same configuration). Without an
 * interval the schedule is deleted: reconciling is switched off.
 */
export async function ensureReconcileSchedule(
  client: Client,
  settings: { taskQueue: string; everyMs?: number },
): Promise<void> {
  const handle = client.schedule.getHandle(RECONCILE_SCHEDULE_ID);
  if (!settings.everyMs) {
    await handle.delete().catch(() => undefined);
    return;
  }
  const options: ScheduleOptions = {
    scheduleId: RECONCILE_SCHEDULE_ID,
    spec: { intervals: [{ every: settings.everyMs }] },
    action: {
      type: 'startWorkflow',
      workflowType: reconcileWorkflow,
      workflowId: RECONCILE_WORKFLOW_ID,
      taskQueue: settings.taskQueue,
      args: [{ dryRun: false }],
      staticSummary: 'Reconcile: 1Password permissions against active grants',
    },
    // A pass that takes longer than the interval is never run twice at once.
    policies: { overlap: 'SKIP', catchupWindow: settings.everyMs },
  };
  try {
    await client.schedule.create(options);
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await handle.update((previous) => ({
      ...previous,
      spec: options.spec,
      action: options.action,
      policies: options.policies,
    }));
  }
}

export interface KeepTryingOptions {
  /** Told of each failed attempt; the next comes after a back-off (2 s, doubling, at most a minute). */
  onFailure: (error: unknown, attempt: number) => void;
  /** Whether the worker is shutting down: then it stops trying. */
  stopped: () => boolean;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Brings the schedule up to date without holding up the worker: a Temporal server that is still starting
 * answers schedule calls last (its own per-namespace worker runs them), and a worker that waited for it, or
 * exited on it, would serve no request meanwhile. Tries until it succeeds or the worker stops.
 */
export async function keepTryingReconcileSchedule(
  ensure: () => Promise<void>,
  { onFailure, stopped, sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)) }: KeepTryingOptions,
): Promise<void> {
  for (let attempt = 1; !stopped(); attempt++) {
    try {
      return await ensure();
    } catch (error) {
      if (stopped()) return;
      onFailure(error, attempt);
      await sleep(Math.min(60_000, 2_000 * 2 ** (attempt - 1)));
    }
  }
}
