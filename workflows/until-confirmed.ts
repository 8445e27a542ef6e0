import { ActivityFailure, sleep } from '@temporalio/workflow';
import { revokeBackoffMs } from '../domain/schedule';

/** After this many failed attempts to end access, an alert goes out (and the attempts go on). */
export const REVOKE_ALERT_AFTER_ATTEMPTS = 3;

/**
 * Ends access: runs `attempt` (an activity proxied with one attempt per call) until 1Password confirms,
 * without limit. The loop lives in the workflow rather than in the activity's retry policy so that
 * every failed attempt is visible in the request's state and history, and the alert is raised from
 * deterministic code exactly once. Backoff doubles from 1 s up to 5 minutes. Callers run it inside
 * `CancellationScope.nonCancellable`.
 */
export async function untilConfirmed<T>(
  attempt: () => Promise<T>,
  onFailure: (failedAttempts: number, error: unknown) => Promise<void>,
): Promise<{ value: T; failedAttempts: number }> {
  for (let failedAttempts = 0; ;) {
    try {
      return { value: await attempt(), failedAttempts };
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      failedAttempts += 1;
      await onFailure(failedAttempts, error);
      await sleep(revokeBackoffMs(failedAttempts));
    }
  }
}
