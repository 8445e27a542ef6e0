import { performance } from 'node:perf_hooks';
import type { Role } from '../../contracts/identity';
import { mintLocalToken, type LocalSigningKey } from '../../apps/api/identity/local-signing-key';

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
  ms: number;
  headers: Headers;
}

/** A small HTTP client for latchkey's API (Node's fetch, keep-alive), timing every call. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs = 60_000,
  ) {}

  async call<T = unknown>(
    method: string,
    path: string,
    token: string | undefined,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiAnswer<T>> {
    const start = performance.now();
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
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
