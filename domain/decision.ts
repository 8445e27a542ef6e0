import type { REFUSAL } from '../contracts/messages';

/** The name of a refusal, so that the API maps it to an HTTP status without parsing prose. */
export type RefusalType = (typeof REFUSAL)[keyof typeof REFUSAL];

/** The outcome of a rule: allowed with a value, or refused with its kind and a reason safe to show. */
export type Decision<T = void> = { ok: true; value: T } | { ok: false; refusal: RefusalType; reason: string };

export function allow<T>(value: T): Decision<T> {
  return { ok: true, value };
}

export function refuse<T = never>(refusal: RefusalType, reason: string): Decision<T> {
  return { ok: false, refusal, reason };
}
