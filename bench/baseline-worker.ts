import { parseArgs } from 'node:util';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createDataConverter, loadCodecKeyring } from '../codec';
import { loadConfig } from '../config/config';
import { temporalConnectionOptions } from '../config/temporal-connection';
import type { BaselineActivities } from './baseline-workflow';

/**
 * The worker of the do-nothing baseline workflow, on a task queue of its own, as a process of its
 * own (like latchkey's worker), so both compete for the same two cores the same way. It reaches Temporal
 * and encrypts payloads as latchkey's worker does, from the same settings (TEMPORAL_*, LATCHKEY_CODEC_*).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'task-queue': { type: 'string' } } });
  if (!values['task-queue']) throw new Error('usage: baseline-worker --task-queue Q');
  const config = loadConfig();
  const keyring = await loadCodecKeyring(config.codec);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  const activities: BaselineActivities = { noop: () => Promise.resolve() };
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue: values['task-queue'],
    workflowsPath: require.resolve('./baseline-workflow'),
    activities,
    dataConverter: createDataConverter(keyring, { plaintext: 'refuse' }),
  });
  process.once('SIGTERM', () => worker.shutdown());
  process.once('SIGINT', () => worker.shutdown());
  await worker.run();
  await connection.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`baseline worker failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
