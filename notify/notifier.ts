import type { NotificationEvent } from '../contracts/notifications';

/** The notifier port: a structured-log notifier and a webhook notifier implement it. */
export interface Notifier {
  notify(event: NotificationEvent): Promise<void>;
}
