import * as crypto from 'node:crypto';
import * as http from 'node:http';
import type { IncomingMessage } from 'node:http';
import helmet from '@fastify/helmet';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { LatchkeyConfig } from '../../config/config';
import type { LoadedPolicy } from '../../policy';
import { ApiModule } from './app.module';
import { Authenticator } from './identity/authenticator';
import { TokenVerifier } from './identity/token-verifier';
import { createLogger, NestPinoLogger } from './logging/logger';
import { requestContext, requestIdFrom } from './logging/request-context';
import { ApiMetrics } from './metrics/api-metrics';
import { registerCodecRoutes } from './codec/codec-routes';
import { registerMethodNotAllowed } from './http/method-not-allowed';
import { registerRateLimit } from './http/rate-limit';
import { securityHeaders } from './http/security-headers';
import { OpenApiDocument } from './docs/openapi-document';
import { PageTokens } from './requests/page-token';
import type { CommandSigner } from '../../trust/command-signer';
import { loadDirectory } from '../../config/directory';
import { readSecret } from '../../config/secrets';
import { RequestsService } from './requests/requests.service';
import { registerSlackInteractions } from './slack/slack-interactions';
import { registerPortal } from './portal/portal';
import { PortalSessions } from './portal/portal-session';
import { CookieSealer } from './portal/sealed-cookie';

export interface ApiAppDeps {
  config: LatchkeyConfig;
  /** The process's one Temporal client, made with the codec's data converter. */
  temporal: Client;
  policy: LoadedPolicy;
  /** Defaults to a pino logger at the configured level, writing JSON to stdout. */
  logger?: Logger;
  /** Defaults to the verifier the auth configuration describes. */
  verifier?: TokenVerifier;
  /**
   * Key that seals list page tokens. API instances behind one load balancer must share it (the
   * server derives it from the codec key); the default, a random key, suits a single process.
   */
  pageTokenKey?: Uint8Array;
  /** Signs every command the API sends to a request's workflow (trust/command.ts). */
  commandSigner: CommandSigner;
  /** Key that seals codec session cookies; shared like the page-token key, random by default. */
  codecSessionKey?: Uint8Array;
  /** Key that seals and encrypts the portal's cookies (its sessions); shared like the page-token key, random by default. */
  portalCookieKey?: Uint8Array;
  /** The portal's built files; defaults to dist/portal. */
  portalDir?: string;
}

/**
 * Builds the API (Nest on Fastify) without listening, so that main, the dev runner and tests all run
 * the same app. The caller listens and closes it.
 */
export async function createApiApp(deps: ApiAppDeps): Promise<NestFastifyApplication> {
  const logger = deps.logger ?? createLogger(deps.config.logLevel);
  const metrics = new ApiMetrics();
  const verifier = deps.verifier ?? (await TokenVerifier.fromConfig(deps.config.auth));
  const portalCookies = new CookieSealer(deps.portalCookieKey ?? crypto.randomBytes(32));
  const portalSessions = new PortalSessions(portalCookies, deps.config.api.publicUrl);
  const authenticator = new Authenticator(verifier, logger, portalSessions);
  const openApi = new OpenApiDocument();
  const pageTokens = new PageTokens(deps.pageTokenKey ?? crypto.randomBytes(32));

  const adapter = new FastifyAdapter({
    bodyLimit: deps.config.api.bodyLimitBytes,
    connectionTimeout: deps.config.api.timeouts.connectionMs,
    requestTimeout: deps.config.api.timeouts.requestMs,
    keepAliveTimeout: deps.config.api.timeouts.keepAliveMs,
    logger: false,
    requestIdHeader: false,
    genReqId: (request: IncomingMessage) => requestIdFrom(request.headers['x-request-id']),
    // Keep-alive connections that are idle are closed at shutdown; busy ones finish their request.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // Handlers check their path parameters (a request id's pattern, a resource looked up), in the API's
    // error shape; the router's default limit of 100 characters would cut a valid 128-character resource
    // id with a 414 of its own. No route has a regex parameter, which is what that limit guards.
    routerOptions: { maxParamLength: http.maxHeaderSize },
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    ApiModule.forRoot({
      config: deps.config,
      temporal: deps.temporal,
      policy: deps.policy,
      logger,
      authenticator,
      metrics,
      openApi,
      pageTokens,
      commandSigner: deps.commandSigner,
    }),
    adapter,
    { logger: new NestPinoLogger(logger), bufferLogs: false },
  );

  const fastify = app.getHttpAdapter().getInstance();
  // Fastify sets the other timeouts; a client that trickles its headers is cut by this one.
  fastify.server.headersTimeout = deps.config.api.timeouts.headersMs;
  registerHttpHooks(fastify, metrics, logger);
  await fastify.register(helmet, securityHeaders(deps.config.api.publicUrl));
  // Before any route is registered (Nest's at init, the codec's below): the limit covers all of them.
  if (deps.config.api.rateLimit) await registerRateLimit(fastify, deps.config.api.rateLimit, authenticator);
  // Also before any route: it learns them as they are added.
  registerMethodNotAllowed(fastify);
  registerCodecRoutes(fastify, {
    codecs: deps.temporal.options.loadedDataConverter.payloadCodecs,
    authenticator,
    corsOrigins: deps.config.api.codecCorsOrigins,
    publicUrl: deps.config.api.publicUrl,
    sessionKey: deps.codecSessionKey ?? crypto.randomBytes(32),
    bodyLimitBytes: deps.config.api.codecBodyLimitBytes,
    logger,
  });
  registerPortal(fastify, {
    config: deps.config,
    authenticator,
    sessions: portalSessions,
    sealer: portalCookies,
    dir: deps.portalDir,
    logger,
  });
  openApi.generate(app, deps.config.api.publicUrl);
  if (deps.config.slackInteractions) {
    registerSlackInteractions(fastify, {
      signingSecret: readSecret({ file: deps.config.slackInteractions.signingSecretFile }),
      responseOrigin: deps.config.slackInteractions.responseOrigin,
      directory: loadDirectory(deps.config.directoryFile),
      requests: app.get(RequestsService),
      logger,
      bodyLimitBytes: deps.config.api.bodyLimitBytes,
    });
  }
  await app.init();
  return app;
}

/**
 * What every answer gets: a request id, safe caching headers, one log line and a latency metric (the
 * security headers come from helmet, http/security-headers.ts).
 */
function registerHttpHooks(fastify: FastifyInstance, metrics: ApiMetrics, logger: Logger): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('X-Request-Id', request.id);
    requestContext.run({ requestId: request.id }, done);
  });
  // Once shutdown begins, answers to requests still in flight close their connection, so that the
  // server closes as soon as they are done instead of waiting for keep-alive timeouts.
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) void reply.header('Connection', 'close');
    if (!reply.hasHeader('Cache-Control')) void reply.header('Cache-Control', 'no-store');
    done(null, payload);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    // The route pattern, never the raw URL: bounded label values, and no ids in metrics.
    const route = request.routeOptions.url ?? 'unmatched';
    const status = String(reply.statusCode);
    metrics.httpDuration.observe({ method: request.method, route, status }, reply.elapsedTime / 1000);
    const fields = { requestId: request.id, method: request.method, route, status: reply.statusCode };
    logger.info({ ...fields, ms: Math.round(reply.elapsedTime) }, 'request served');
    done();
  });
}
