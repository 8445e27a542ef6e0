import * as fs from 'node:fs';
import * as path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The portal's own policy: its scripts, styles and fonts come from this origin only (the build inlines
 * nothing and loads nothing from a CDN), it talks to this origin only, and nothing may frame it.
 */
export const PORTAL_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

const NOT_BUILT = 'portal not built: run npm run build\n';
/** Vite names every file under assets/ by its content's hash: a changed file gets a new name. */
const ASSETS = 'assets/';

/**
 * The file a portal path names, relative to the build folder; undefined for anything that could leave it
 * (a dot segment, encoded or not, a backslash, a NUL) or that is not a plain path.
 */
export function portalFilePath(url: string): string | undefined {
  const pathname = url.split('?')[0];
  if (!pathname.startsWith('/portal/')) return undefined;
  let relative: string;
  try {
    relative = decodeURIComponent(pathname.slice('/portal/'.length));
  } catch {
    return undefined;
  }
  if (/[\\\0]/.test(relative) || relative.startsWith('/')) return undefined;
  if (relative.split('/').some((segment) => segment === '..' || segment === '.')) return undefined;
  return relative;
}

/**
 * Serves the portal's built single-page app from `root` (dist/portal): files as they are, and index.html for
 * every other path under /portal/ (the app's own routes: /portal/inbox, /portal/requests/<id>). `/` leads to
 * the portal. A build that is missing is said so, per request, so building after the API started just works.
 */
export function registerPortalFiles(fastify: FastifyInstance, root: string): void {
  // Only reply.sendFile: the routes below decide what is served. `send` also refuses paths outside root.
  // Not awaited: awaiting would settle every route registered so far before Nest installs its error handler,
  // and errors of those routes' hooks (a 429) would then be answered in Fastify's shape, not the API's.
  void fastify.register(fastifyStatic, { root, serve: false, cacheControl: false, etag: true });
  root = path.resolve(root);
  const index = path.join(root, 'index.html');

  fastify.get('/', (_request, reply) => reply.redirect('/portal/', 302));
  fastify.get('/portal', (_request, reply) => reply.redirect('/portal/', 302));

  fastify.get('/portal/*', (request, reply) => {
    void reply.header('Content-Security-Policy', PORTAL_CSP);
    const relative = portalFilePath(request.url);
    if (relative === undefined) return plain(reply, 404, 'not found\n');
    if (!isFile(index)) return plain(reply, 503, NOT_BUILT);

    const file = path.join(root, relative);
    if (relative !== '' && file.startsWith(root + path.sep) && isFile(file)) {
      void reply.header(
        'Cache-Control',
        relative.startsWith(ASSETS) ? 'public, max-age=31536000, immutable' : 'no-store',
      );
      return reply.sendFile(relative, root, { cacheControl: false });
    }
    // A missing hashed file is a stale page asking for an old build: index.html would only confuse it.
    if (relative.startsWith(ASSETS)) return plain(reply, 404, 'not found\n');
    void reply.header('Cache-Control', 'no-store');
    return reply.sendFile('index.html', root, { cacheControl: false });
  });
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function plain(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.status(status).header('Content-Type', 'text/plain; charset=utf-8').send(text);
}
