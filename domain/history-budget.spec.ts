import { HISTORY_EVENT_BUDGET, shortestReminderInterval, worstCaseHistory } from './history-budget';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

describe(worstCaseHistory.name, () => {
  const shape = {
    pendingTimeoutMs: 7 * DAY,
    approvalsPerTier: [1, 1],
    extensions: { maxCount: 1, requireApproval: true },
  };

  it('keeps a flow with daily reminders far inside the budget', () => {
    const estimate = worstCaseHistory({ ...shape, reminderIntervalMs: DAY });
    expect(estimate.reminders).toBe(6);
    expect(estimate.total).toBeLessThan(HISTORY_EVENT_BUDGET / 10);
  });

  it('puts seven days of reminders every two minutes over the budget, and says what interval fits', () => {
    const estimate = worstCaseHistory({ ...shape, reminderIntervalMs: 2 * MINUTE });
    expect(estimate.reminders).toBe(5_039);
    expect(estimate.total).toBeGreaterThan(HISTORY_EVENT_BUDGET);
    const fits = shortestReminderInterval(shape);
    expect(worstCaseHistory({ ...shape, reminderIntervalMs: fits }).total).toBeLessThanOrEqual(HISTORY_EVENT_BUDGET);
    expect(fits % MINUTE).toBe(0);
    expect(worstCaseHistory({ ...shape, reminderIntervalMs: fits - 2 * MINUTE }).total).toBeGreaterThan(
      HISTORY_EVENT_BUDGET,
    );
  });

  it('counts approvals needed and extensions that must be approved again', () => {
    const plain = worstCaseHistory({ ...shape, extensions: { maxCount: 0, requireApproval: false } }).total;
    const extended = worstCaseHistory({ ...shape, extensions: { maxCount: 3, requireApproval: true } }).total;
    expect(extended).toBeGreaterThan(plain);
  });
});
