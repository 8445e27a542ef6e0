/**
 * How long a request's workflow history can grow, from its flow's settings alone. Temporal warns at
 * 10,240 events and terminates a workflow at 51,200, and a terminated request would leave its grant
 * behind; so a policy whose worst case is over the budget is refused at load time, naming the setting.
 * The costs per step were counted in the recorded histories (workflows/__fixtures__/histories).
 */

/** The most events latchkey lets one request's history reach. */
export const HISTORY_EVENT_BUDGET = 10_000;

/** Start, grant, the end of access with its alert, notifications and the close: a generous round figure. */
const LIFECYCLE_EVENTS = 150;
/** One timer wake-up that sends a notification (a reminder, an escalation): timer, two tasks, one activity. */
const EVENTS_PER_WAKEUP = 12;
/** One accepted Update (an approval, an extension request): the Update's events and a workflow task. */
const EVENTS_PER_UPDATE = 8;
/** One activity and the workflow task its result wakes: the new share link an extension past the link's expiry makes. */
const EVENTS_PER_ACTIVITY = 6;

export interface HistoryShape {
  pendingTimeoutMs: number;
  reminderIntervalMs?: number;
  /** Approvals that can be accepted per tier before its threshold decides (refused ones write nothing). */
  approvalsPerTier: number[];
  extensions: { maxCount: number; requireApproval: boolean };
}

export interface HistoryEstimate {
  total: number;
  reminders: number;
  /** The part that reminders take, so a refusal can say which setting to change. */
  reminderEvents: number;
}

/** The worst case for one request of a flow shaped like this. */
export function worstCaseHistory(shape: HistoryShape): HistoryEstimate {
  const reminders = shape.reminderIntervalMs
    ? Math.max(0, Math.ceil(shape.pendingTimeoutMs / shape.reminderIntervalMs) - 1)
    : 0;
  const reminderEvents = reminders * EVENTS_PER_WAKEUP;
  const escalations = Math.max(0, shape.approvalsPerTier.length - 1) * EVENTS_PER_WAKEUP;
  const approvals = shape.approvalsPerTier.reduce((sum, count) => sum + count, 0);
  const perExtension =
    EVENTS_PER_UPDATE +
    EVENTS_PER_WAKEUP +
    EVENTS_PER_ACTIVITY +
    (shape.extensions.requireApproval ? approvals * EVENTS_PER_UPDATE : 0);
  const total =
    LIFECYCLE_EVENTS +
    reminderEvents +
    escalations +
    approvals * EVENTS_PER_UPDATE +
    shape.extensions.maxCount * perExtension;
  return { total, reminders, reminderEvents };
}

/** The shortest whole-minute reminder interval that keeps the worst case within the budget (the refusal's advice). */
export function shortestReminderInterval(shape: HistoryShape): number {
  const withoutReminders = worstCaseHistory({ ...shape, reminderIntervalMs: undefined }).total;
  const remindersAllowed = Math.max(1, Math.floor((HISTORY_EVENT_BUDGET - withoutReminders) / EVENTS_PER_WAKEUP));
  const minute = 60_000;
  return Math.ceil(shape.pendingTimeoutMs / (remindersAllowed + 1) / minute) * minute;
}
