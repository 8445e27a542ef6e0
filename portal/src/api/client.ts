import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type { components };

/**
 * The API, typed from its own OpenAPI document (`npm run build` writes schema.d.ts from the app's
 * controllers and DTOs): a route, parameter or field the document does not have fails the build.
 * The browser sends the HttpOnly session cookie; changes carry the session's CSRF token.
 */
export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: 'same-origin' });

export type RequestState = components['schemas']['RequestStateDto'];
export type RequestSummary = components['schemas']['RequestSummaryDto'];
export type Resource = components['schemas']['ResourceDto'];
export type GrantAccess = components['schemas']['GrantAccessDto'];
export type RequestStatus = RequestState['status'];
type ApiErrorBody = components['schemas']['ErrorResponseDto'];

let csrfToken: string | undefined;
let onSignedOut: (() => void) | undefined;

/** Set once the session is known: the token every change must carry, and what to do when it ends. */
export function bindSession(token: string | undefined, signedOut: () => void): void {
  csrfToken = token;
  onSignedOut = signedOut;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const session: Middleware = {
  onRequest({ request }) {
    if (UNSAFE.has(request.method) && csrfToken) request.headers.set('X-CSRF-Token', csrfToken);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) onSignedOut?.();
    return response;
  },
};
api.use(session);

/** A sentence for a refusal: the API's own message, never a stack or a raw body. */
export function problemText(error: unknown, fallback = 'Something went wrong; try again.'): string {
  const body = error as Partial<ApiErrorBody> | undefined;
  const detail = body?.error;
  if (!detail?.message) return fallback;
  const fields = Array.isArray(detail.details)
    ? detail.details.map((entry) => `${entry.field}: ${entry.problems?.join(', ')}`).join('; ')
    : '';
  return fields ? `${detail.message} (${fields})` : detail.message;
}

/** A refusal from the API, with its sentence and status. */
export class ApiProblem extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The body of a successful answer, or an ApiProblem with the API's own sentence. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (error !== undefined || !response.ok) {
    throw new ApiProblem(problemText(error, `The API answered ${response.status}.`), response.status);
  }
  return data as T;
}

/** The list's filters, as the document declares them (a named type, so that a filter it lacks fails the build). */
export type ListQuery = NonNullable<paths['/v1/requests']['get']['parameters']['query']>;

export function listRequests(query: ListQuery) {
  return unwrap(api.GET('/v1/requests', { params: { query } }));
}
