import * as http from 'node:http';
import * as https from 'node:https';
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
 * How the client speaks HTTP. `fetch` (undici) is what most Node code uses, and what the chaos and hostile
 * suites were written against (their checks read its errors). `node:http`, with one kept-alive connection per
 * caller, is the leanest client Node has: the benchmark times the API through it, so that what it measures is
 * the API and not the client (fetch adds about 0.6 ms to each call on the benchmark machine, docs/benchmarks.md).
 */
export type HttpTransport = 'fetch' | 'node:http';

/**
 * A small HTTP client for latchkey's API (keep-alive), timing every call. Given several API
 * instances it takes them in turn, as a load balancer would: a call that fails on one instance (killed,
 * restarting) is retried by the caller, and its next try goes to the next.
 */
export class ApiClient {
  private readonly baseUrls: string[];
  private next = 0;
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true }),
  };

  constructor(
    baseUrls: string | string[],
    private readonly timeoutMs = 60_000,
    private readonly transport: HttpTransport = 'fetch',
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
    const url = `${this.baseUrls[this.next++ % this.baseUrls.length]}${path}`;
    const sent = {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    };
    const start = performance.now();
    const answer = await (
      this.transport === 'fetch' ? viaFetch(url, sent, this.timeoutMs) : this.viaNodeHttp(url, sent)
    ).catch((error: unknown) => {
      throw new ApiCallFailed(method, path, error);
    });
    const ms = performance.now() - start;
    let parsed: unknown = answer.text;
    try {
      parsed = answer.text ? JSON.parse(answer.text) : undefined;
    } catch {
      // not JSON
    }
    return { status: answer.status, body: parsed as T, ms, headers: answer.headers };
  }

  private viaNodeHttp(url: string, sent: OutgoingCall): Promise<RawAnswer> {
    const target = new URL(url);
    const agent = this.agents[target.protocol as 'http:' | 'https:'];
    const request = target.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const outgoing = request(
        target,
        { method: sent.method, headers: sent.headers, agent, signal: AbortSignal.timeout(this.timeoutMs) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const headers = new Headers();
            for (const [name, value] of Object.entries(res.headers)) {
              for (const one of Array.isArray(value) ? value : [value ?? '']) headers.append(name, one);
            }
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers });
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(sent.body);
    });
  }
}

interface OutgoingCall {
  method: string;
  headers: Record<string, string>;
  body?: string;
}

interface RawAnswer {
  status: number;
  text: string;
  headers: Headers;
}

async function viaFetch(url: string, sent: OutgoingCall, timeoutMs: number): Promise<RawAnswer> {
  const res = await fetch(url, { ...sent, signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** A call that got no answer: says which call, and why (fetch's own message is only "fetch failed"). */
export class ApiCallFailed extends Error {
  /** The socket's error code (ECONNRESET, UND_ERR_SOCKET, …), when the connection failed. */
  readonly code?: string;

  constructor(method: string, path: string, error: unknown) {
    // fetch wraps the socket's error in its cause; node:http throws it as it is.
    const failure = error as { code?: unknown; cause?: { code?: string; message?: string } };
    const code = failure.cause?.code ?? (typeof failure.code === 'string' ? failure.code : undefined);
    super(`${method} ${path.slice(0, 80)}: ${code ?? failure.cause?.message ?? String(error)}`, { cause: error });
    this.name = 'ApiCallFailed';
    this.code = code;
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
