import { condition, defineQuery, defineUpdate, proxyActivities, setHandler, sleep } from '@temporalio/workflow';

/**
 * A do-nothing workflow with the same shape as an access request's lifecycle: it waits for one
 * Update (the approval) under a long deadline timer, runs the same number of activities (which do
 * nothing), holds for the grant's duration on timers, and ends. Its throughput on a server is the
 * engine's own limit for that shape on that machine; latchkey's throughput divided by it says how
 * close latchkey runs to it. The counts come from a real latchkey history measured in the same run.
 */
export interface BaselineInput {
  /** Activities to run in all (no-ops). */
  activities: number;
  /** Timers to start in all, the approval deadline included. */
  timers: number;
  /** How long to hold, as the grant does. */
  holdMs: number;
  /** Wait for the `go` Update first, as a request waits for its approval. */
  waitForUpdate: boolean;
  /** Activities run before the Update answers (as the grant runs before approve returns). */
  activitiesBeforeAnswer: number;
}

export interface BaselineActivities {
  noop(step: number): Promise<void>;
}

export const baselineGoUpdate = defineUpdate<string>('go');
export const baselineStateQuery = defineQuery<string>('state');

const { noop } = proxyActivities<BaselineActivities>({ startToCloseTimeout: '1 minute' });

export async function baselineWorkflow(input: BaselineInput): Promise<number> {
  let state = 'waiting';
  let answered = false;
  let step = 0;
  setHandler(baselineStateQuery, () => state);
  setHandler(baselineGoUpdate, async () => {
    state = 'go';
    await condition(() => answered);
    return state;
  });

  let timersLeft = input.timers;
  let activitiesLeft = input.activities;
  if (input.waitForUpdate) {
    // One activity before the decision, as the approval-requested notification.
    if (activitiesLeft > 0) {
      await noop(step++);
      activitiesLeft--;
    }
    timersLeft--;
    await condition(() => state === 'go', '7 days');
  }
  for (let i = 0; i < input.activitiesBeforeAnswer && activitiesLeft > 1; i++) {
    await noop(step++);
    activitiesLeft--;
  }
  state = 'held';
  answered = true;
  // The hold is split over the remaining timers, so the total time held is the grant's duration.
  const segments = Math.max(1, timersLeft);
  for (let i = 0; i < segments; i++) await sleep(Math.max(1, Math.floor(input.holdMs / segments)));
  while (activitiesLeft > 0) {
    await noop(step++);
    activitiesLeft--;
  }
  state = 'done';
  return step;
}
