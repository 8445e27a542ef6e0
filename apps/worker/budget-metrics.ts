import type { MetricMeter } from '@temporalio/common';
import type { OnePasswordSdkAdapter } from '../../onepassword/sdk/sdk-adapter';

const REPORT_EVERY_MS = 15_000;

/**
 * Reports each real 1Password integration's rate budget through the worker's Prometheus endpoint
 * (Temporal's runtime metric meter), so operators see how close latchkey runs to 1Password's limits.
 * Returns a function that stops reporting.
 */
export function reportRateBudgets(meter: MetricMeter, adapters: Map<string, OnePasswordSdkAdapter>): () => void {
  if (adapters.size === 0) return () => undefined;
  const gauge = (name: string, description: string) => meter.createGauge(name, 'int', '', description);
  const gauges = {
    readsLastHour: gauge('latchkey_onepassword_reads_last_hour', '1Password reads in the last hour'),
    writesLastHour: gauge('latchkey_onepassword_writes_last_hour', '1Password writes in the last hour'),
    requestsLastDay: gauge('latchkey_onepassword_requests_last_day', '1Password requests in the last day'),
    readsAllowedPerHour: gauge('latchkey_onepassword_reads_allowed_per_hour', 'reads latchkey allows itself'),
    writesAllowedPerHour: gauge('latchkey_onepassword_writes_allowed_per_hour', 'writes latchkey allows itself'),
    refusals: gauge('latchkey_onepassword_budget_refusals', 'calls latchkey held back, budget spent'),
    rateLimitedBy1Password: gauge('latchkey_onepassword_rate_limited', 'rate-limit answers from 1Password'),
  };
  const report = async () => {
    for (const [integration, adapter] of adapters) {
      const budget = await adapter.budget();
      for (const [key, metric] of Object.entries(gauges)) {
        metric.set(budget[key as keyof typeof gauges], { integration });
      }
    }
  };
  // A shared ledger that cannot be reached answers with this worker's own counts: never a failure here.
  void report();
  const timer = setInterval(() => void report(), REPORT_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
