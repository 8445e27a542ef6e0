import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { LatchkeyConfig } from '../../../config/config';
import { ApiError } from '../errors/api-error';
import type { Authenticator } from '../identity/authenticator';

export type RateLimits = NonNullable<LatchkeyConfig['api']['rateLimit']>;

/** Liveness and readiness: orchestrators poll them, so they count apart from the caller's own budget. */
export const PROBE_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

const WINDOW_MS = 60_000;

/**
 * Whose budget a request spends: the verified caller's (`caller:<sub>`, from a bearer token or a portal
 * session), wherever they call from; else the client address's (`anonymous:<ip>`), for no token or one that fails verification; probes spend
 * their own (`probe:<ip>`). So a flood without a valid token from a shared address (a NAT, a proxy, the
 * hostile run's loopback) never spends a signed-in user's budget, and one user never spends another's.
 * The token is verified here, before the guard, once: the guard and the codec reuse the answer.
 */
export async function rateLimitKey(request: FastifyRequest, authenticator: Authenticator): Promise<string> {
  if (PROBE_ROUTES.has(request.routeOptions.url ?? '')) return `probe:${request.ip}`;
  if (authenticator.hasCredential(request)) {
    try {
      return `caller:${(await authenticator.authenticateRequest(request)).identity.id}`;
    } catch {
      // A token that does not verify is no one's: the request counts against its address.
    }
  }
  return `anonymous:${request.ip}`;
}

/** The budget per minute of a key that rateLimitKey made. */
export function budgetOf(key: string, limits: RateLimits): number {
  if (key.startsWith('caller:')) return limits.perMinute;
  if (key.startsWith('probe:')) return limits.probesPerMinute;
  return limits.anonymousPerMinute;
}

/**
 * Per-caller budgets on every answer the API gives: Nest's routes, the codec routes registered on
 * Fastify, the docs and the 404s. The hook is added here, on the instance, rather than per route by
 * the plugin, so it runs before any route's own onRequest hooks (the codec's) and also for paths no
 * route matches. Call it after the request-id hook, so a 429 has its X-Request-Id too. Counters live
 * in this process: each API instance behind a load balancer keeps its own.
 */
export async function registerRateLimit(
  fastify: FastifyInstance,
  limits: RateLimits,
  authenticator: Authenticator,
): Promise<void> {
  await fastify.register(rateLimit, {
    global: false,
    timeWindow: WINDOW_MS,
    max: (_request, key) => budgetOf(key, limits),
    keyGenerator: (request) => rateLimitKey(request, authenticator),
    // Thrown into the exception filter, which answers in the API's one error shape; Retry-After is set.
    errorResponseBuilder: () => new ApiError(429, 'too-many-requests', 'Too many requests; try again later.'),
  });
  fastify.addHook('onRequest', fastify.rateLimit());
}
