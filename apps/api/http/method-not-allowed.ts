import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors/api-error';
import { toErrorResponse } from '../errors/error-mapping';

/**
 * The paths the API serves and the methods each answers, learnt from the routes as they are added.
 * Route URLs here are made of static text, `:name` parameters (up to the next `/`) and a final `*`.
 */
export class RouteMethods {
  private readonly routes: Array<{ pattern: RegExp; methods: Set<string> }> = [];

  add(url: string, methods: string | string[]): void {
    const source = url
      .split(/(:[A-Za-z0-9_]+|\*)/)
      .map((part) =>
        part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('');
    let route = this.routes.find((candidate) => candidate.pattern.source === `^${source}$`);
    if (!route) {
      route = { pattern: new RegExp(`^${source}$`), methods: new Set() };
      this.routes.push(route);
    }
    for (const method of Array.isArray(methods) ? methods : [methods]) route.methods.add(method.toUpperCase());
  }

  /** The methods some route answers at `url` (query string ignored), sorted; empty where no route is. */
  allowedAt(url: string): string[] {
    const path = decodedPath(url);
    const allowed = new Set<string>();
    for (const route of this.routes) {
      if (route.pattern.test(path)) for (const method of route.methods) allowed.add(method);
    }
    return [...allowed].sort();
  }
}

/** The path as the router reads it: without the query, escapes decoded except those of reserved characters. */
function decodedPath(url: string): string {
  const path = url.split('?', 1)[0];
  try {
    return decodeURI(path);
  } catch {
    return path;
  }
}

/**
 * RFC 9110 (15.5.6): a method that a path exists for but does not answer gets 405 Method Not Allowed
 * with an Allow header naming those it does, not the 404 of a path that does not exist. Done once
 * for every route (Nest's, the codec's, Slack's): routes are recorded as Fastify adds them, and a
 * request no route matched is checked before anything reads it (its body, its token), in the API's
 * error shape. Register before any route is added, and after the request-id, security-header and
 * rate-limit hooks, so that a 405 gets those too.
 */
export function registerMethodNotAllowed(fastify: FastifyInstance): RouteMethods {
  const routes = new RouteMethods();
  fastify.addHook('onRoute', (route) => routes.add(route.url, route.method));
  fastify.addHook('onRequest', (request, reply, done) => {
    const allowed = request.is404 ? routes.allowedAt(request.url) : [];
    if (allowed.length === 0) {
      done();
      return;
    }
    const { status, body } = toErrorResponse(
      new ApiError(405, 'method-not-allowed', `${request.method} is not allowed here; use ${allowed.join(', ')}.`),
    );
    void reply.status(status).header('Allow', allowed.join(', ')).send(body);
  });
  return routes;
}
