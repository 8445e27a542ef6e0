import type { TrustedKeys, WorkerTrust } from '../contracts/command';

/** Where apps/worker puts what the worker trusts: a global its workflow bundle sets before any workflow code runs. */
export const WORKER_TRUST_GLOBAL = '__latchkeyWorkerTrust';

/**
 * What this worker trusts, from its own configuration (apps/worker/worker.ts writes it into the workflow
 * bundle; the sandbox freezes it). Nothing a Temporal client sends can change it. Without it every command
 * and every internal message is refused.
 */
function workerTrust(): WorkerTrust | undefined {
  return (globalThis as Record<string, unknown>)[WORKER_TRUST_GLOBAL] as WorkerTrust | undefined;
}

export function trustedCommandKeys(): TrustedKeys {
  return workerTrust()?.commandKeys ?? {};
}

/** The key of messages between latchkey's workflows and activities; a key nobody holds when none is configured. */
export function internalKey(): string {
  return workerTrust()?.internalKey ?? '';
}
