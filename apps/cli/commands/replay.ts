import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter, HistoryAndWorkflowId } from '@temporalio/common';
import { DeterminismViolationError } from '@temporalio/workflow';
import { DefaultLogger, Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import type { LatchkeyConfig } from '../../../config/config';
import { temporalConnectionOptions } from '../../../config/temporal-connection';
import { requestIdFromWorkflowId, requestWorkflowId } from '../../../domain/ids';
import { createDataConverter, loadCodecKeyring } from '../../../codec';
import type { CommandIo } from '../io';
import { loadReplayTrust } from '../../worker/trust';
import { bundleLatchkeyWorkflows, withWorkerTrust } from '../../worker/worker';
import { readHistoryFile } from '../../../audit/history-file';

const HELP = `latchkey replay: replay recorded request histories against the current workflow code

  --request ID     one request, fetched from Temporal
  --query Q        every workflow a visibility query finds (e.g. "LatchkeyStatus = 'ACTIVE'")
  --all            every latchkey workflow on the server
  --file F         histories from a file: an audit export (JSON Lines) or one history (JSON)
  --workflows P    workflow code to replay against (default: latchkey's own)

Exit code 0 when every history replays cleanly, 1 when any does not.`;

export async function runReplayCommand(argv: string[], io: CommandIo, config: LatchkeyConfig): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      request: { type: 'string' },
      query: { type: 'string' },
      all: { type: 'boolean' },
      file: { type: 'string' },
      workflows: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  const sources = [values.request, values.query, values.all, values.file].filter((value) => value !== undefined);
  if (values.help || sources.length !== 1) {
    io.err(HELP);
    return values.help ? 0 : 2;
  }

  const dataConverter = createDataConverter(await loadCodecKeyring(config.codec));
  const options: ReplayWorkerOptions = {
    // With the internal key in the sandbox, as the workers run it: lease messages are checked again on replay.
    workflowBundle: withWorkerTrust(
      await bundleLatchkeyWorkflows({
        workflowsPath: values.workflows ? fs.realpathSync(values.workflows) : undefined,
        logger: new DefaultLogger('WARN'),
      }),
      await loadReplayTrust(config),
    ),
    dataConverter,
    replayName: 'latchkey-replay',
  };

  const histories = values.file ? readHistoryFile(values.file) : serverHistories(config, dataConverter, values);
  let total = 0;
  let failed = 0;
  for await (const result of Worker.runReplayHistories(options, histories)) {
    total += 1;
    const requestId = requestIdFromWorkflowId(result.workflowId) ?? result.workflowId;
    if (result.error) {
      failed += 1;
      const kind = result.error instanceof DeterminismViolationError ? 'non-determinism' : 'replay failure';
      io.out(`FAIL ${requestId}: ${kind}: ${result.error.message}`);
    } else {
      io.out(`ok   ${requestId}`);
    }
  }
  io.out(`replayed ${total} histories: ${total - failed} clean, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

async function* serverHistories(
  config: LatchkeyConfig,
  dataConverter: DataConverter,
  values: { request?: string; query?: string; all?: boolean },
): AsyncIterable<HistoryAndWorkflowId> {
  const connection = await Connection.connect(temporalConnectionOptions(config.temporal));
  try {
    // The converter decodes the (encrypted) memo that listing returns.
    const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter });
    if (values.request) {
      const workflowId = requestWorkflowId(values.request);
      yield { workflowId, history: await client.workflow.getHandle(workflowId).fetchHistory() };
      return;
    }
    const query = values.query ?? `TaskQueue = '${config.temporal.taskQueue}'`;
    // One history at a time: nothing is left in flight when the connection closes.
    for await (const execution of client.workflow.list({ query })) {
      const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      yield { workflowId: execution.workflowId, history };
    }
  } finally {
    await connection.close();
  }
}
