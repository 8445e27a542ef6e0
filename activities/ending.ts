import { Context } from '@temporalio/activity';
import { ADMINS, type NotificationEvent, type NotificationKind } from '../contracts/notifications';
import { classifyOnePasswordError } from '../onepassword/errors';
import type { ActivityContext } from './context';
import { toEndingFailure } from './failures';
import { workflowIdOf } from './heartbeat';

/** Whether 1Password says the thing to end no longer exists (a deleted vault, group or item). */
export function isGone(error: unknown): boolean {
  return classifyOnePasswordError(error).kind === 'not-found';
}

/**
 * Runs one attempt to end access. A failure is mapped so that Temporal retries it without limit; one
 * that only a person can unblock is reported to admins at attempts 1, 2, 4, 8, ... (reported, never
 * looped silently, and never a flood however long it lasts).
 */
export async function endingAttempt<T>(
  deps: ActivityContext,
  what: { step: string; integration: string; resourceId: string },
  attempt: () => Promise<T>,
): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    const number = Context.current().info.attempt;
    const { failure, blocked, kind } = toEndingFailure(error, number);
    if (blocked && (number & (number - 1)) === 0) await reportBlocked(deps, what, kind, number);
    throw failure;
  }
}

function reportBlocked(
  deps: ActivityContext,
  what: { step: string; integration: string; resourceId: string },
  kind: string,
  attempt: number,
): Promise<void> {
  return alertAdmins(deps, what, 'revoke-blocked', `blocked:${attempt}`, 'ending access is blocked', {
    cause: kind,
    attempt,
    retryingEveryMinutes: 15,
  });
}

/**
 * Tells admins of a step's problem, at attempts 1, 2, 4, 8, ... of its activity (never silent, never a flood),
 * and logs it. An alert that cannot be delivered is logged, never thrown: the step goes on.
 */
export async function alertAdmins(
  deps: ActivityContext,
  what: { step: string; integration: string; resourceId: string },
  kind: NotificationKind,
  event: string,
  message: string,
  details: NonNullable<NotificationEvent['details']>,
): Promise<void> {
  deps.logger.error({ workflowId: workflowIdOf(), step: what.step, ...details }, message);
  try {
    await deps.notifier.notify({
      kind,
      eventId: `${what.step}:${event}`,
      requestId: workflowIdOf() ?? what.step,
      resourceId: what.resourceId,
      integration: what.integration,
      recipients: [ADMINS],
      at: deps.clock().toISOString(),
      details,
    });
  } catch (error) {
    deps.logger.warn({ step: what.step, error: String(error) }, `alert not delivered: ${message}`);
  }
}

/**
 * Tells admins that a vault, group or item vanished from 1Password while access to it was being ended. A channel
 * that fails does not fail the end of access: the log keeps what was not delivered.
 */
export async function reportGone(
  deps: ActivityContext,
  what: { step: string; integration: string; resourceId: string },
): Promise<void> {
  try {
    await deps.notifier.notify({
      kind: 'resource-gone',
      eventId: `${what.step}:gone`,
      requestId: workflowIdOf() ?? what.step,
      resourceId: what.resourceId,
      integration: what.integration,
      recipients: [ADMINS],
      at: deps.clock().toISOString(),
    });
  } catch (error) {
    deps.logger.warn({ step: what.step, error: String(error) }, 'alert not delivered: resource gone');
  }
}
