import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * The API's Prometheus metrics, in a registry of its own (one per app, so tests never share one).
 * Counters count what the API itself observes in its answers, not what the worker does later.
 */
export class ApiMetrics {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'latchkey_api_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern, method and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly created = this.counter('latchkey_api_requests_created_total', 'Access requests started through the API.');
  readonly approved = this.counter('latchkey_api_requests_approved_total', 'Approvals accepted through the API.');
  readonly granted = this.counter(
    'latchkey_api_requests_granted_total',
    'Create or approve answers in which the request was already ACTIVE (access granted).',
  );
  readonly revoked = this.counter('latchkey_api_requests_revoked_total', 'Early revocations accepted through the API.');
  readonly failed = this.counter(
    'latchkey_api_requests_failed_total',
    'Create, approve or revoke answers in which the request had FAILED, plus starts the server could not make.',
  );

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'latchkey_api_' });
  }

  private counter(name: string, help: string): Counter {
    return new Counter({ name, help, registers: [this.registry] });
  }
}
