import { Context } from '@temporalio/activity';
import { ADMINS } from '../contracts/notifications';
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

async function reportBlocked(
  deps: ActivityContext,
  what: { step: string; integration: string; resourceId: string },
  kind: string,
  attempt: number,
): Promise<void> {
  deps.logger.error({ workflowId: workflowIdOf(), step: what.step, kind, attempt }, 'ending access is blocked');
  try {
    await deps.notifier.notify({
      kind: 'revoke-blocked',
      eventId: `${what.step}:blocked:${attempt}`,
      requestId: workflowIdOf() ?? what.step,
      resourceId: what.resourceId,
      integration: what.integration,
      recipients: [ADMINS],
      at: deps.clock().toISOString(),
      details: { cause: kind, attempt, retryingEveryMinutes: 15 },
    });
  } catch (error) {
    deps.logger.warn({ step: what.step, error: String(error) }, 'alert about a blocked end of access not delivered');
  }
}

/** Tells admins that a vault, group or item vanished from 1Password while access to it was being ended. */
export async function reportGone(
  deps: ActivityContext,
  what: { step: string; integration: string; resourceId: string },
): Promise<void> {
  await deps.notifier.notify({
    kind: 'resource-gone',
    eventId: `${what.step}:gone`,
    requestId: workflowIdOf() ?? what.step,
    resourceId: what.resourceId,
    integration: what.integration,
    recipients: [ADMINS],
    at: deps.clock().toISOString(),
  });
}
