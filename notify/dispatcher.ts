import type { Person } from '../contracts/identity';
import type { Directory } from '../domain/directory';
import type { NotificationEvent, NotificationReceipt } from '../contracts/notifications';
import { NOTIFY_CHANNELS, type NotifyChannel } from '../contracts/snapshot';
import { type Message, messageFor } from './messages';
import type { DeliveryProgress, Notifier } from './notifier';

/** One message a channel sends: its key says where it goes, so that it is sent once across attempts. */
export interface Delivery {
  key: string;
  send(): Promise<NotificationReceipt | undefined>;
}

/** One way of reaching people: e-mail, Slack, a webhook. */
export interface Channel {
  readonly name: NotifyChannel;
  deliveries(event: NotificationEvent, people: Person[], message: Message): Delivery[];
}

/** A delivery that failed; its message is safe to log (no address, no token, no URL). */
export class DeliveryFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeliveryFailed';
  }
}

/** Some deliveries of a notification failed: the activity is retried, and sends only those again. */
export class NotificationIncomplete extends Error {
  constructor(readonly failures: string[]) {
    super(`notification not delivered on ${failures.join('; ')}`);
    this.name = 'NotificationIncomplete';
  }
}

interface DispatcherLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/**
 * Sends each event on every channel the flow's route allows and the deployment configured, to the people its
 * recipients name in the directory. Channels run side by side, so a slow or failing one holds up no other; a
 * failure is retried by the activity, which resumes from what was delivered.
 */
export class NotificationDispatcher implements Notifier {
  constructor(
    private readonly options: {
      channels: Channel[];
      directory: Directory;
      publicUrl: string;
      logger: DispatcherLogger;
    },
  ) {}

  async notify(
    event: NotificationEvent,
    resume: { progress?: DeliveryProgress; onProgress?: (progress: DeliveryProgress) => void } = {},
  ): Promise<NotificationReceipt[]> {
    const { channels, logger, publicUrl } = this.options;
    const progress: DeliveryProgress = {
      delivered: [...(resume.progress?.delivered ?? [])],
      receipts: [...(resume.progress?.receipts ?? [])],
    };
    const taken = new Set<NotifyChannel>(event.route?.channels ?? NOTIFY_CHANNELS);
    const people = this.people(event);
    const message = messageFor(event, publicUrl);
    const failures: string[] = [];
    await Promise.all(
      channels
        .filter((channel) => taken.has(channel.name))
        .map(async (channel) => {
          for (const delivery of channel.deliveries(event, people, message)) {
            if (progress.delivered.includes(delivery.key)) continue;
            try {
              const receipt = await delivery.send();
              progress.delivered.push(delivery.key);
              if (receipt) progress.receipts.push(receipt);
              resume.onProgress?.(progress);
            } catch (error) {
              const reason = error instanceof DeliveryFailed ? error.message : 'failed';
              failures.push(`${channel.name} (${reason})`);
            }
          }
        }),
    );
    logger.info(
      {
        notification: { kind: event.kind, eventId: event.eventId, requestId: event.requestId },
        recipients: event.recipients,
        delivered: progress.delivered.length,
        ...(failures.length > 0 && { failures }),
      },
      `notification ${event.kind} for ${event.requestId}`,
    );
    if (failures.length > 0) throw new NotificationIncomplete(failures);
    return progress.receipts;
  }

  /** Who the recipients are; whoever acted (`details.by`) is not told of their own act. */
  private people(event: NotificationEvent): Person[] {
    const found = new Map<string, Person>();
    for (const principal of event.recipients) {
      const people = this.options.directory.resolve(principal);
      if (people.length === 0)
        this.options.logger.warn({ principal, requestId: event.requestId }, 'nobody in the directory to notify');
      for (const person of people) found.set(person.id, person);
    }
    const by = event.details?.by;
    if (typeof by === 'string') found.delete(by);
    return [...found.values()];
  }
}
