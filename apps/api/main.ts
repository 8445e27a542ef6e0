// First: every module loaded after it has its stack traces mapped to the sources.
import '../../config/source-maps';
import { loadConfig } from '../../config/config';
import { createLogger } from './logging/logger';
import { startApiServer } from './server';

/** `node dist/apps/api/main.js`: the API on its own, stopped gracefully by SIGTERM or SIGINT. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const api = await startApiServer(config, logger);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'shutting down: finishing requests in flight');
      api.close().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err: { type: (err as Error).name } }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

main().catch((err: unknown) => {
  // Configuration and policy errors are written for people; print them as they are.
  process.stderr.write(`latchkey API failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
