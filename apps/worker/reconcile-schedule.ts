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
