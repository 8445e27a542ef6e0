import { Client } from '@temporalio/client';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import type { LatchkeyConfig } from '../../config/config';
import { temporalConnectionOptions } from '../../config/temporal-connection';
import { createDataConverter, loadCodecKeyring } from '../../codec';
import { loadPolicyFile } from '../../policy';
import { loadCommandSigningKey } from '../../trust/command-keys';
import { CommandSigner } from '../../trust/command-signer';
import { createApiApp } from './app';
import { TemporalConnection } from './temporal/connection';
import { createLogger } from './logging/logger';
import { derivePageTokenKey } from './requests/page-token';
import { deriveCodecSessionKey } from './codec/codec-routes';
import { derivePortalCookieKey } from './portal/sealed-cookie';

export interface RunningApi {
  app: NestFastifyApplication;
  /** Where the API listens, e.g. http://127.0.0.1:3000. */
  url: string;
  /** Stops accepting, lets requests in flight finish (up to the configured grace), then closes Temporal. */
  close(): Promise<void>;
}

/**
 * Starts the API as a process runs it: policy from its file, one Temporal client with the codec's
 * data converter, the app listening on the configured host and port.
 */
export async function startApiServer(
  config: LatchkeyConfig,
  logger: Logger = createLogger(config.logLevel),
): Promise<RunningApi> {
  const policy = loadPolicyFile(config.policyFile);
  const keyring = await loadCodecKeyring(config.codec);
  // Made on first use only for a local stack (`npm start` also adds it to the workers' trusted keys).
  const commandKey = loadCommandSigningKey(config.commands.signingKeyFile, { create: config.auth.mode === 'local' });
  // The API starts, answers `/healthz` and token-only routes, and says "not ready" until Temporal answers.
  const connection = new TemporalConnection(temporalConnectionOptions(config.temporal), logger);
  const temporal = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: createDataConverter(keyring),
  });
  let app: NestFastifyApplication;
  try {
    app = await createApiApp({
      config,
      temporal,
      policy,
      logger,
      pageTokenKey: derivePageTokenKey(keyring.current.key),
      commandSigner: new CommandSigner(commandKey),
      codecSessionKey: deriveCodecSessionKey(keyring.current.key),
      portalCookieKey: derivePortalCookieKey(keyring.current.key),
    });
    await app.listen({ host: config.api.host, port: config.api.port });
  } catch (err) {
    await connection.close();
    throw err;
  }
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.api.port;
  const url = `http://${config.api.host.includes(':') ? `[${config.api.host}]` : config.api.host}:${port}`;
  logger.info({ url, policyVersion: policy.version, temporal: config.temporal.address }, 'latchkey API listening');

  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    close: () =>
      (closing ??= (async () => {
        const server = app.getHttpServer();
        // Requests still running after the grace period are cut, so a stuck call cannot block shutdown.
        const force = setTimeout(() => server.closeAllConnections(), config.api.shutdownGraceMs);
        force.unref();
        try {
          await app.close();
        } finally {
          clearTimeout(force);
          await connection.close();
        }
      })()),
  };
}
