import { performance } from 'node:perf_hooks';
import type { Role } from '../../contracts/identity';
import { mintLocalToken, type LocalSigningKey } from '../../apps/api/identity/local-signing-key';

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
  ms: number;
  headers: Headers;
}

/**
 * A small HTTP client for latchkey's API (Node's fetch, keep-alive), timing every call. Given several API
 * instances it takes them in turn, as a load balancer would: a call that fails on one instance (killed,
 * restarting) is retried by the caller, and its next try goes to the next.
 */
export class ApiClient {
  private readonly baseUrls: string[];
  private next = 0;

  constructor(
    baseUrls: string | string[],
    private readonly timeoutMs = 60_000,
  ) {
    this.baseUrls = typeof baseUrls === 'string' ? [baseUrls] : baseUrls;
  }

  get baseUrl(): string {
    return this.baseUrls[0];
  }

  async call<T = unknown>(
    method: string,
    path: string,
    token: string | undefined,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiAnswer<T>> {
    const baseUrl = this.baseUrls[this.next++ % this.baseUrls.length];
    const start = performance.now();
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    }).catch((error: unknown) => {
      throw new ApiCallFailed(method, path, error);
    });
    const text = await res.text();
    const ms = performance.now() - start;
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed as T, ms, headers: res.headers };
  }
}

/** A call that got no answer: says which call, and why (fetch's own message is only "fetch failed"). */
export class ApiCallFailed extends Error {
  /** The socket's error code (ECONNRESET, UND_ERR_SOCKET, …), when the connection failed. */
  readonly code?: string;

  constructor(method: string, path: string, error: unknown) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    super(`${method} ${path.slice(0, 80)}: ${cause?.code ?? cause?.message ?? String(error)}`, { cause: error });
    this.name = 'ApiCallFailed';
    this.code = cause?.code;
  }

  /** The server closed the connection (after answering, or while the body was still being sent). */
  get connectionClosed(): boolean {
    return ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'].includes(this.code ?? '');
  }
}

export interface Persona {
  sub: string;
  email: string;
  groups: string[];
  roles: Role[];
}

export const ALICE: Persona = { sub: 'alice', email: 'alice@example.com', groups: ['engineering'], roles: [] };
export const BOB: Persona = { sub: 'bob', email: 'bob@example.com', groups: ['security'], roles: [] };
export const ADA: Persona = { sub: 'ada', email: 'ada@example.com', groups: ['audit'], roles: ['auditor'] };

export function mint(key: LocalSigningKey, issuer: string, audience: string, who: Persona, ttlSeconds = 3 * 3600) {
  return mintLocalToken(key, issuer, audience, who, ttlSeconds);
}
