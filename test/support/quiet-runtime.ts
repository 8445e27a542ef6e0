import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';

/**
 * Workers in tests log errors only, so that failures stand out from bundler and state-change chatter.
 * The runtime is native and lives as long as the jest worker process: the first test file installs
 * it, later files in the same process find it installed.
 */
try {
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });
} catch (error) {
  if (!/already/i.test(String(error))) throw error;
}
