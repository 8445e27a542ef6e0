import { parseArgs } from 'node:util';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createDataConverter, loadCodecKeyring } from '../codec';
import type { BaselineActivities } from './baseline-workflow';

/**
 * The worker of the do-nothing baseline workflow, on a task queue of its own, as a process of its
 * own (like latchkey's worker), so both compete for the same two cores the same way.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      address: { type: 'string' },
      'task-queue': { type: 'string' },
      'codec-key-file': { type: 'string' },
      'codec-key-id': { type: 'string' },
    },
  });
  if (!values.address || !values['task-queue'] || !values['codec-key-file'] || !values['codec-key-id']) {
    throw new Error('usage: baseline-worker --address H:P --task-queue Q --codec-key-file F --codec-key-id ID');
  }
  const keyring = await loadCodecKeyring({
    keyFile: values['codec-key-file'],
    keyId: values['codec-key-id'],
    decodeKeys: [],
  });
  const connection = await NativeConnection.connect({ address: values.address });
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
