import type { AccessRequestState, GrantAccess, RequestPage } from '../../contracts/request';

/**
 * The requester CLI's client of latchkey's public HTTP API (docs/api.md). The answers are typed by the
 * contracts the API answers with. Every call carries the session's bearer token and nothing else identifies
 * the caller.
 */

export type { RequestStatus, RequestSummary, RequestPage, GrantAccess } from '../../contracts/request';
/** GET /v1/requests/{id}, and the answer of every change. */
export type RequestState = AccessRequestState;

export interface Me {
  id: string;
  email: string;
  groups: string[];
  roles: string[];
}

export interface NewRequest {
  resourceId: string;
  /** ISO 8601, e.g. PT2H; the flow's default when absent. */
  duration?: string;
  justification?: string;
  ticket?: string;
}

export interface ListFilter {
  mine?: boolean;
  pendingMyApproval?: boolean;
  pageSize?: number;
}

/** The API answered with an error: its own status, code and message (docs/api.md, "Errors"). */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiProblem';
  }
}

/** No answer at all: the message names the URL. */
export class ApiUnreachable extends Error {
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`cannot reach the latchkey API at ${url}: ${reason}`);
    this.name = 'ApiUnreachable';
  }
}

export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  me(): Promise<Me> {
    return this.call('GET', '/v1/me');
  }

  createRequest(body: NewRequest): Promise<RequestState> {
    return this.call('POST', '/v1/requests', body);
  }

  getRequest(id: string): Promise<RequestState> {
    return this.call('GET', `/v1/requests/${encodeURIComponent(id)}`);
  }

  listRequests(filter: ListFilter): Promise<RequestPage> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filter)) if (value !== undefined) query.set(key, String(value));
    return this.call('GET', `/v1/requests?${query.toString()}`);
  }

  approve(id: string, comment?: string): Promise<RequestState> {
    return this.change(id, 'approve', { comment });
  }

  reject(id: string, comment?: string): Promise<RequestState> {
    return this.change(id, 'reject', { comment });
  }

  extend(id: string, duration: string, justification?: string): Promise<RequestState> {
    return this.change(id, 'extend', { duration, justification });
  }

  /** Ends a grant early (the requester gives it back); `cancel` withdraws one not granted yet. */
  revoke(id: string, reason?: string): Promise<RequestState> {
    return this.change(id, 'revoke', { reason });
  }

  cancel(id: string, reason?: string): Promise<RequestState> {
    return this.change(id, 'cancel', { reason });
  }

  grant(id: string): Promise<GrantAccess> {
    return this.call('GET', `/v1/requests/${encodeURIComponent(id)}/grant`);
  }

  private change(id: string, action: string, body: Record<string, string | undefined>): Promise<RequestState> {
    return this.call('POST', `/v1/requests/${encodeURIComponent(id)}/${action}`, body);
  }

  private async call<T>(method: 'GET' | 'POST', route: string, body?: object): Promise<T> {
    const url = `${this.baseUrl}${route}`;
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      throw new ApiUnreachable(url, reasonOf(err));
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) throw problemOf(response, parsed);
    if (parsed === undefined) throw new ApiProblem(response.status, 'not-json', `${method} ${url} answered no JSON`);
    return parsed as T;
  }
}

function problemOf(response: Response, body: unknown): ApiProblem {
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    return new ApiProblem(response.status, error.code, error.message, error.details);
  }
  return new ApiProblem(response.status, 'http-error', `the API answered HTTP ${response.status}`);
}

/** fetch says only "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND, a certificate problem). */
function reasonOf(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}
