import { Context } from '@temporalio/activity';
import type { NotificationEvent, NotificationReceipt } from '../contracts/notifications';
import type { DeliveryProgress } from '../notify/notifier';
import { catalogActivities } from './catalog';
import { commandActivities } from './commands';
import type { ActivityContext, ActivityDeps } from './context';
import { databaseLoginActivities } from './database-logins';
import { eligibilityActivities } from './eligibility';
import { workflowIdOf } from './heartbeat';
import { reconcileActivities } from './reconcile';
import { rotationActivities } from './rotation';
import { shareLinkActivities } from './share-links';
import { vaultPermissionActivities } from './vault-permissions';

export * from './types';
export type { ActivityDeps, ActivityLogger, TargetPorts } from './context';

/**
 * The activities, made by a factory that receives their dependencies. Each is one external effect,
 * idempotent and keyed by workflow id + step, with every port failure mapped by one classifier.
 */
export function createActivities(deps: ActivityDeps) {
  const context: ActivityContext = {
    ...deps,
    clock: deps.now ?? (() => new Date()),
    log: (msg, fields) => deps.logger.info({ workflowId: workflowIdOf(), ...fields }, msg),
  };
  return {
    /**
     * Sends a notification once: what an attempt delivered goes into its heartbeat details, and the next
     * attempt (after a channel failed) sends only the rest.
     */
    async notify(event: NotificationEvent): Promise<NotificationReceipt[]> {
      const context = Context.current();
      const receipts = await deps.notifier.notify(event, {
        progress: context.info.heartbeatDetails as DeliveryProgress | undefined,
        onProgress: (progress) => context.heartbeat(progress),
      });
      return receipts ?? [];
    },
    ...commandActivities(context),
    ...shareLinkActivities(context),
    ...vaultPermissionActivities(context),
    ...rotationActivities(context),
    ...databaseLoginActivities(context),
    ...catalogActivities(context),
    ...reconcileActivities(context),
    ...eligibilityActivities(context),
  };
}

export type LatchkeyActivities = ReturnType<typeof createActivities>;
