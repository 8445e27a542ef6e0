import type { NotificationEvent, NotificationReceipt } from '../contracts/notifications';

/**
 * What one notification has reached so far, kept across attempts of its activity (in its heartbeat details),
 * so that a retry after a partial failure sends only what did not go out: a notification is sent once.
 */
export interface DeliveryProgress {
  /** Keys of the deliveries made (`email:<person>`, `slack:<conversation>`, `webhook`). */
  delivered: string[];
  receipts: NotificationReceipt[];
}

/** The notifier port: the dispatcher (e-mail, Slack, webhook), or the structured log alone. */
export interface Notifier {
  /**
   * Delivers the event on every channel it takes; throws when some delivery failed (after `onProgress` saw the
   * others). Returns where it left messages a later event may update.
   */
  notify(
    event: NotificationEvent,
    resume?: { progress?: DeliveryProgress; onProgress?: (progress: DeliveryProgress) => void },
  ): Promise<NotificationReceipt[] | void>;
}
