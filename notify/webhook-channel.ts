import type { NotificationEvent } from '../contracts/notifications';
import type { Person } from '../contracts/identity';
import { type Channel, type Delivery, DeliveryFailed } from './dispatcher';

export interface WebhookChannelOptions {
  url: string;
  /** Attempts per notification (the activity retries again on top of these). */
  attempts?: number;
  timeoutMs?: number;
  /** First backoff; doubles after each failed attempt. */
  backoffMs?: number;
  /** Extra headers, e.g. an authorization token for the receiver. Never logged. */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

export class WebhookDeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'WebhookDeliveryError';
  }
}

/**
 * POSTs each event as JSON, retrying timeouts, network errors, 429 and 5xx with a doubling backoff.
 * Other 4xx answers are final. Errors name the status only, never the URL (it may carry a token).
 */
export class WebhookChannel implements Channel {
  readonly name = 'webhook';
  private readonly attempts: number;
  private readonly timeoutMs: number;
  private readonly backoffMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: WebhookChannelOptions) {
    this.attempts = Math.max(1, options.attempts ?? 3);
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.backoffMs = options.backoffMs ?? 500;
    this.fetchImpl = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** One POST per event, whoever its recipients are: the receiver resolves them. */
  deliveries(event: NotificationEvent, _people: Person[]): Delivery[] {
    return [
      {
        key: 'webhook',
        send: () =>
          this.notify(event).then(
            () => undefined,
            (error: unknown) => {
              throw new DeliveryFailed(error instanceof Error ? error.message : 'webhook delivery failed');
            },
          ),
      },
    ];
  }

  async notify(event: NotificationEvent): Promise<void> {
    const body = JSON.stringify(event);
    let last: WebhookDeliveryError | undefined;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      try {
        await this.post(body, event.eventId);
        return;
      } catch (error) {
        last =
          error instanceof WebhookDeliveryError
            ? error
            : new WebhookDeliveryError(`webhook delivery failed: ${errorName(error)}`, true);
        if (!last.retryable) throw last;
        if (attempt < this.attempts) await this.sleep(this.backoffMs * 2 ** (attempt - 1));
      }
    }
    throw last ?? new WebhookDeliveryError('webhook delivery failed', true);
  }

  private async post(body: string, eventId: string): Promise<void> {
    const response = await this.fetchImpl(this.options.url, {
      method: 'POST',
      headers: {
        ...this.options.headers,
        'content-type': 'application/json',
        'idempotency-key': eventId,
      },
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (response.ok) return;
    const retryable = response.status === 429 || response.status >= 500;
    throw new WebhookDeliveryError(`webhook answered HTTP ${response.status}`, retryable);
  }
}

function errorName(error: unknown): string {
  if (error instanceof Error) return error.name === 'TimeoutError' ? 'timed out' : error.name;
  return 'unknown error';
}
