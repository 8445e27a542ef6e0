import { keepTryingReconcileSchedule } from './reconcile-schedule';

describe(keepTryingReconcileSchedule.name, () => {
  it('tries again, backing off, until the schedule is up to date, and says why each attempt failed', async () => {
    const slept: number[] = [];
    const failures: Array<[string, number]> = [];
    let calls = 0;
    await keepTryingReconcileSchedule(
      () => (++calls < 4 ? Promise.reject(new Error('Failed to describe schedule')) : Promise.resolve()),
      {
        onFailure: (error, attempt) => failures.push([(error as Error).message, attempt]),
        stopped: () => false,
        sleep: (ms) => {
          slept.push(ms);
          return Promise.resolve();
        },
      },
    );
    expect(calls).toBe(4);
    expect(slept).toEqual([2_000, 4_000, 8_000]);
    expect(failures.map(([, attempt]) => attempt)).toEqual([1, 2, 3]);
  });

  it('waits a minute at most between attempts', async () => {
    const slept: number[] = [];
    let calls = 0;
    await keepTryingReconcileSchedule(() => (++calls < 10 ? Promise.reject(new Error('down')) : Promise.resolve()), {
      onFailure: () => undefined,
      stopped: () => false,
      sleep: (ms) => {
        slept.push(ms);
        return Promise.resolve();
      },
    });
    expect(Math.max(...slept)).toBe(60_000);
  });

  it('stops trying once the worker shuts down, without reporting the failure its shutdown caused', async () => {
    let stopped = false;
    const failures: number[] = [];
    await keepTryingReconcileSchedule(
      () => {
        stopped = true;
        return Promise.reject(new Error('connection closed'));
      },
      { onFailure: (_, attempt) => failures.push(attempt), stopped: () => stopped, sleep: () => Promise.resolve() },
    );
    expect(failures).toEqual([]);
  });
});
