import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** Per-HTTP-request context, so every log line written while serving a request carries its id. */
export interface RequestContext {
  requestId: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

/** Accepted from a client's `X-Request-Id` only when it is short and plain; otherwise we make our own. */
const INBOUND_REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && INBOUND_REQUEST_ID.test(value) ? value : randomUUID();
}
