import type { NotificationEvent } from '../contracts/notifications';
import { WebhookChannel } from './webhook-channel';

const event: NotificationEvent = {
  kind: 'approval-reminder',
  eventId: 'AccessRequest:req_x:notify:2',
  requestId: 'req_x',
  resourceId: 'prod-db-password',
  integration: 'demo',
  recipients: ['user:u-alice'],
  at: '2026-01-01T00:00:00.000Z',
  details: { tier: 0 },
};

function fakeFetch(statuses: Array<number | Error>) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fetch = (url: string, init?: RequestInit) => {
    calls.push({ url, init: init! });
    const next = statuses.shift();
    if (next instanceof Error) return Promise.reject(next);
    return Promise.resolve(new Response(null, { status: next ?? 200 }));
  };
  return { calls, fetch: fetch as unknown as typeof globalThis.fetch };
}

describe(WebhookChannel.name, () => {
  it('POSTs the event as JSON with an idempotency key', async () => {
    const { calls, fetch } = fakeFetch([204]);
    const sut = new WebhookChannel({
      url: 'https://hooks.example.test/latchkey',
      fetch,
      sleep: () => Promise.resolve(),
    });
    await sut.notify(event);
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe('https://hooks.example.test/latchkey');
    expect(calls[0].init.method).toBe('POST');
    expect(calls[0].init.headers).toMatchObject({
      'content-type': 'application/json',
      'idempotency-key': event.eventId,
    });
    expect(JSON.parse(calls[0].init.body as string)).toEqual(event);
  });

  it('retries 5xx, 429 and network errors with a doubling backoff, then succeeds', async () => {
    const { calls, fetch } = fakeFetch([503, 429, new TypeError('fetch failed'), 200]);
    const waits: number[] = [];
    const sut = new WebhookChannel({
      url: 'https://hooks.example.test/x',
      attempts: 4,
      backoffMs: 100,
      fetch,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    });
    await sut.notify(event);
    expect(calls).toHaveLength(4);
    expect(waits).toEqual([100, 200, 400]);
  });

  it('gives up at once on other 4xx, naming the status but not the URL', async () => {
    const { calls, fetch } = fakeFetch([400]);
    const sut = new WebhookChannel({
      url: 'https://hooks.example.test/secret-token',
      fetch,
      sleep: () => Promise.resolve(),
    });
    const error = await sut.notify(event).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toBe('webhook answered HTTP 400');
    expect(calls).toHaveLength(1);
  });

  it('fails after the last attempt', async () => {
    const { fetch } = fakeFetch([500, 500]);
    const sut = new WebhookChannel({
      url: 'https://h.example.test',
      attempts: 2,
      fetch,
      sleep: () => Promise.resolve(),
    });
    await expect(sut.notify(event)).rejects.toThrow('webhook answered HTTP 500');
  });
});
