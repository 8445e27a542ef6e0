import * as path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type LatchkeyConfig, repoRoot } from '../../../config/config';
import type { Authenticator } from '../identity/authenticator';
import { OidcSignIn } from './oidc-sign-in';
import { registerPortalAuthRoutes } from './portal-auth-routes';
import type { PortalSessions } from './portal-session';
import type { CookieSealer } from './sealed-cookie';
import { registerPortalFiles } from './static-files';

/** Where `npm run build` puts the portal: dist/portal, from source or from dist/ alike. */
export function defaultPortalDir(): string {
  return path.join(repoRoot(), 'dist', 'portal');
}

export interface PortalOptions {
  config: Pick<LatchkeyConfig, 'auth' | 'directoryFile' | 'portal' | 'api'>;
  authenticator: Authenticator;
  sessions: PortalSessions;
  sealer: CookieSealer;
  /** The built single-page app; defaults to dist/portal. */
  dir?: string;
  logger: Logger;
}

/** The web portal: its files, its sign-in and its session (the API's routes take the session cookie too). */
export function registerPortal(fastify: FastifyInstance, options: PortalOptions): void {
  const { config } = options;
  const oidc =
    config.auth.mode === 'oidc'
      ? new OidcSignIn({
          auth: config.auth,
          portal: config.portal,
          publicUrl: config.api.publicUrl,
          sealer: options.sealer,
          logger: options.logger,
        })
      : undefined;
  registerPortalAuthRoutes(fastify, { ...options, oidc });
  registerPortalFiles(fastify, options.dir ?? defaultPortalDir());
}
