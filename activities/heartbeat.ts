import { Context } from '@temporalio/activity';
import { ActivityCancelledError, ActivityPausedError, ActivityResetError, type Client } from '@temporalio/client';

/** How often a long activity tells Temporal it is alive (its heartbeat timeout is a multiple of this). */
export const HEARTBEAT_EVERY_MS = 2_000;

/** The longest one acknowledged beat may wait for the server's answer. */
const ACKNOWLEDGED_BEAT_DEADLINE_MS = 10_000;

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

/**
 * Heartbeat details the next attempt must be able to trust: each is written through the client and answered
 * by the server before the activity goes on. The worker's own heartbeats cannot carry such details: the SDK
 * holds all but the first beat of an attempt back (throttling) and sends none with a failure (sdk-core sends
 * no last heartbeat details), so an attempt whose call took effect and then failed would leave the next one
 * reading details from before that call. An activity that records this way sends every beat through here,
 * one at a time, so that an older beat never lands after a newer one.
 */
export class AcknowledgedHeartbeat<T> {
  private last: Promise<void> = Promise.resolve();
  private sending = false;
  /** Set once the server asked this attempt to stop: the activity was cancelled, paused or reset. */
  stopRequested = false;

  /** `details`: what the server holds already (the earlier attempt's), passed on by the keep-alive beats. */
  constructor(
    private readonly temporal: Client,
    private readonly taskToken: Uint8Array,
    private details?: T,
  ) {}

  /** Resolves once the server holds `details`; rejects when it did not answer or no longer runs this attempt. */
  record(details: T): Promise<void> {
    this.details = details;
    return this.send();
  }

  /**
   * Runs `call`, beating with the last details meanwhile. A failed beat does not stop the call: the server
   * judges liveness, and the call may already be writing.
   */
  async during<R>(call: () => Promise<R>): Promise<R> {
    const timer = setInterval(() => {
      if (!this.sending) this.send().catch(() => undefined);
    }, HEARTBEAT_EVERY_MS);
    try {
      return await call();
    } finally {
      clearInterval(timer);
    }
  }

  private send(): Promise<void> {
    const details = this.details;
    const sent = this.last
      .catch(() => undefined)
      .then(async () => {
        this.sending = true;
        try {
          await this.temporal.connection.withDeadline(Date.now() + ACKNOWLEDGED_BEAT_DEADLINE_MS, () =>
            this.temporal.activity.heartbeat(this.taskToken, details),
          );
        } catch (error) {
          const stop = [ActivityCancelledError, ActivityPausedError, ActivityResetError];
          if (stop.some((kind) => error instanceof kind)) this.stopRequested = true;
          throw error;
        } finally {
          this.sending = false;
        }
      });
    this.last = sent;
    return sent;
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
