import { Context } from '@temporalio/activity';

/** How often a long activity tells Temporal it is alive (its heartbeat timeout is a multiple of this). */
export const HEARTBEAT_EVERY_MS = 2_000;

/**
 * Heartbeats while a 1Password call is pending, so that a worker that dies mid-call is noticed within
 * the heartbeat timeout (not the whole start-to-close timeout), and so that a cancellation reaches the
 * activity. The same details go with every beat: they are what the next attempt reads.
 */
export async function heartbeating<T>(call: () => Promise<T>, details?: unknown): Promise<T> {
  const context = Context.current();
  context.heartbeat(details);
  const timer = setInterval(() => context.heartbeat(details), HEARTBEAT_EVERY_MS);
  try {
    return await call();
  } finally {
    clearInterval(timer);
  }
}

/** The workflow id of the running activity, for logs and event ids. */
export function workflowIdOf(): string | undefined {
  try {
    return Context.current().info.workflowExecution?.workflowId;
  } catch {
    return undefined;
  }
}
