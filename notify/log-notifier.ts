import type { Logger } from 'pino';
import type { NotificationEvent } from '../contracts/notifications';
import type { Notifier } from './notifier';

/** Writes each notification as one structured log line; the default when no webhook is configured. */
export class LogNotifier implements Notifier {
  constructor(private readonly logger: Pick<Logger, 'info' | 'warn'>) {}

  notify(event: NotificationEvent): Promise<void> {
    const log =
      event.kind === 'revoke-failing' ? this.logger.warn.bind(this.logger) : this.logger.info.bind(this.logger);
    log({ notification: event }, `notification ${event.kind} for ${event.requestId}`);
    return Promise.resolve();
  }
}
