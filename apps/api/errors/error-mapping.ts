import { HttpException } from '@nestjs/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { REFUSAL } from '../../../contracts/messages';
import { ApiError, type ErrorBody } from './api-error';

export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  /** Whether the server, not the client, is at fault (logged at error level). */
  serverFault: boolean;
}

const REFUSAL_STATUS: Record<string, { status: number; code: string }> = {
  [REFUSAL.forbidden]: { status: 403, code: 'forbidden' },
  [REFUSAL.conflict]: { status: 409, code: 'conflict' },
  [REFUSAL.invalid]: { status: 422, code: 'invalid' },
  [REFUSAL.upstream]: { status: 502, code: 'onepassword-failed' },
  // The workers do not trust the key this API signs with: a deployment to fix, not the caller's fault.
  [REFUSAL.unverified]: { status: 503, code: 'command-not-trusted' },
};

/** Words for statuses raised by the framework (routing, body parsing) rather than by latchkey. */
const FRAMEWORK_STATUS: Record<number, { code: string; message: string }> = {
  400: { code: 'bad-request', message: 'The request could not be read (malformed JSON, header or parameter).' },
  401: { code: 'unauthenticated', message: 'A valid bearer token is required.' },
  403: { code: 'forbidden', message: 'You may not do this.' },
  404: { code: 'not-found', message: 'No such route.' },
  405: { code: 'method-not-allowed', message: 'This method is not allowed here.' },
  406: { code: 'not-acceptable', message: 'This representation is not available.' },
  413: { code: 'payload-too-large', message: 'The request body is larger than this API accepts.' },
  415: { code: 'unsupported-media-type', message: 'Send the body as application/json.' },
  429: { code: 'too-many-requests', message: 'Too many requests; try again later.' },
};

const INTERNAL: ErrorResponse = {
  status: 500,
  body: { error: { code: 'internal', message: 'Something went wrong on our side; the request id identifies it.' } },
  serverFault: true,
};

const UNAVAILABLE: ErrorResponse = {
  status: 503,
  body: { error: { code: 'unavailable', message: 'The workflow service is not reachable right now; try again.' } },
  serverFault: true,
};

/**
 * Refusal messages come from workflow validators, which write them for people; still, an address or
 * a link must never be echoed, and the length is bounded.
 */
export function safeRefusalMessage(message: string): string {
  return message
    .replace(/[^\s@]+@[^\s@]+/g, '[address]')
    .replace(/\bhttps?:\/\/\S+/gi, '[link]')
    .slice(0, 300);
}

/** gRPC codes that say Temporal or the worker is away right now, not that the request is wrong. */
const AWAY_CODES = new Set([
  1 /* CANCELLED: a query cut off by its worker shutting down */,
  4 /* DEADLINE_EXCEEDED: no answer in time, e.g. no worker polls */, 14 /* UNAVAILABLE: Temporal unreachable */,
]);
const FAILED_PRECONDITION = 9;
/**
 * The server's answer to a query for a task queue no worker has polled for 20 s
 * (matching.queryPollerUnavailableWindow), sent one second before the query's deadline instead of
 * DEADLINE_EXCEEDED. Which of the two a stopped worker gets depends on when it last polled.
 */
const NO_RECENT_POLLER = /no poller seen for task queue recently/;

/** Whether Temporal or the worker is briefly away (a restart, a deploy), looking through wrapped causes. */
function isTemporalOrWorkerAway(err: unknown): boolean {
  for (let current: unknown = err, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'number' && AWAY_CODES.has(code)) return true;
    if (code === FAILED_PRECONDITION && NO_RECENT_POLLER.test(current.message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** Maps anything thrown while serving a request to the status and body the client sees. */
export function toErrorResponse(err: unknown): ErrorResponse {
  if (err instanceof ApiError) {
    const error: ErrorBody['error'] = { code: err.code, message: err.message };
    if (err.details !== undefined) error.details = err.details;
    return { status: err.status, body: { error }, serverFault: err.status >= 500 };
  }
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const refusal = err.cause.type ? REFUSAL_STATUS[err.cause.type] : undefined;
    if (refusal) {
      return {
        status: refusal.status,
        body: { error: { code: refusal.code, message: safeRefusalMessage(err.cause.message) } },
        serverFault: refusal.status >= 500,
      };
    }
  }
  if (err instanceof WorkflowNotFoundError) {
    return { status: 404, body: { error: { code: 'not-found', message: 'No such request.' } }, serverFault: false };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const known = FRAMEWORK_STATUS[status];
    if (known) return { status, body: { error: { ...known } }, serverFault: false };
    return status >= 500
      ? INTERNAL
      : { status, body: { error: { code: 'error', message: 'The request failed.' } }, serverFault: false };
  }
  if (isTemporalOrWorkerAway(err)) return UNAVAILABLE;
  return INTERNAL;
}
