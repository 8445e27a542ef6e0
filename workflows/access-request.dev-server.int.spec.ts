import { signingInterceptor, TEST_WORKER_TRUST, toSign } from '../test/support/commands';
import { Client, type WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createLatchkeyWorker } from '../apps/worker/worker';
import { eventually } from '../test/support/time-skipping';
import { RecordingNotifier, silentLogger, workflowBundle } from '../test/support/workflow-world';
import { historyJson } from '../test/support/histories';
import { RecordingPort } from '../test/support/recording-port';
import { anyOf, people, REQUESTER, requestInput, snapshot, vaultGroupGrant } from '../test/support/snapshots';
import { createDataConverter } from '../codec';
import { TEST_ONLY_CODEC_KEY } from '../test/support/codec-test-key';
import { requestWorkflowId } from '../domain/ids';
import { approveUpdate, cancelUpdate, REFUSAL, stateQuery } from '../contracts/messages';
import { connectToDevServer, devServerAddress } from '../test/support/temporal';
import { accessRequestWorkflow } from './access-request/workflow';

/**
 * Against the real dev server: what the Java test server cannot show. A refused Update writes nothing
 * at all to history (the real server runs it in a speculative workflow task), and the search
 * attributes make requests findable through visibility.
 */
jest.setTimeout(120_000);

const taskQueue = `latchkey-dev-${process.pid}`;
const integration = `demo-dev-${process.pid}`;
let client: Client;
let closeClient: () => Promise<void>;
let nativeConnection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let port: RecordingPort;
const started: WorkflowHandle[] = [];

beforeAll(async () => {
  const dev = await connectToDevServer();
  const dataConverter = createDataConverter(TEST_ONLY_CODEC_KEY);
  client = new Client({
    connection: dev.connection,
    dataConverter,
    interceptors: { workflow: [signingInterceptor(() => Promise.resolve(Date.now()))] },
  });
  closeClient = () => dev.connection.close();
  nativeConnection = await NativeConnection.connect({ address: devServerAddress() });
  port = await RecordingPort.create();
  worker = await createLatchkeyWorker({
    connection: nativeConnection,
    namespace: 'default',
    taskQueue,
    dataConverter,
    trust: TEST_WORKER_TRUST,
    activities: createActivities({
      trust: TEST_WORKER_TRUST,
      onePassword: () => port,
      notifier: new RecordingNotifier(),
      logger: silentLogger,
      temporal: client,
    }),
    workflowBundle: await workflowBundle(),
  });
  running = worker.run();
}, 120_000);

afterAll(async () => {
  for (const handle of started) await handle.terminate('test finished').catch(() => undefined);
  worker?.shutdown();
  await running?.catch(() => undefined);
  await nativeConnection?.close();
  await closeClient?.();
  await port?.dispose();
}, 60_000);

async function start(tiers = [anyOf(people.alice.id)]) {
  const base = snapshot({ grant: vaultGroupGrant(), approval: { automatic: false, allowSelfApproval: false, tiers } });
  const input = requestInput({ ...base, integration: { ...base.integration, name: integration } });
  const handle = await client.workflow.start(accessRequestWorkflow, {
    workflowId: requestWorkflowId(input.requestId),
    taskQueue,
    args: [input],
    staticSummary: `${input.snapshot.resource.name} for ${input.requester.id}`,
  });
  started.push(handle);
  return handle;
}

describe('accessRequestWorkflow (real dev server)', () => {
  it('a refused self-approval leaves the history exactly as it was', async () => {
    const sut = await start([anyOf(REQUESTER.id)]);
    const events = async () =>
      (JSON.parse(await historyJson(sut)) as { events: Array<{ eventId: string; eventType: string }> }).events.map(
        (event) => `${event.eventId} ${event.eventType}`,
      );
    // Settled: the first workflow task set the pending deadline, the approvers were asked, and no task is open.
    const before = await eventually(async () => {
      const list = await events();
      expect(list.join()).toContain('EVENT_TYPE_TIMER_STARTED');
      expect(list.join()).toContain('EVENT_TYPE_ACTIVITY_TASK_COMPLETED');
      expect(list.at(-1)).toMatch(/ EVENT_TYPE_WORKFLOW_TASK_COMPLETED$/);
      return list;
    });
    const refusal = await sut.executeUpdate(approveUpdate, { args: [toSign({ actor: people.bob })] }).then(
      () => 'accepted',
      (error: unknown) =>
        error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure
          ? error.cause.type
          : String(error),
    );
    expect(refusal).toBe(REFUSAL.forbidden);
    expect(await events()).toEqual(before);
    expect((await sut.query(stateQuery)).approvals).toEqual([]);
    expect(port.calls).toEqual([]);
  });

  it('requests are findable by status, requester, resource, vault, integration and pending approver', async () => {
    const sut = await start();
    const query = [
      `LatchkeyStatus = 'PENDING_APPROVAL'`,
      `LatchkeyRequester = '${REQUESTER.id}'`,
      `LatchkeyResource = 'prod-db-password'`,
      `LatchkeyVault = 'vlt_prod'`,
      `LatchkeyIntegration = '${integration}'`,
      `LatchkeyPendingApprovers = 'user:${people.alice.id}'`,
    ].join(' AND ');
    const ids = await eventually(async () => {
      const found: string[] = [];
      for await (const execution of client.workflow.list({ query })) found.push(execution.workflowId);
      expect(found).toContain(sut.workflowId);
      return found;
    });
    expect(ids).toContain(sut.workflowId);
    const description = await sut.describe();
    expect(await description.staticSummary()).toBe(`Production database for ${REQUESTER.id}`);
    expect(await sut.executeUpdate(cancelUpdate, { args: [toSign({ actor: people.bob })] })).toMatchObject({
      status: 'CANCELLED',
    });
    await eventually(async () => {
      const found: string[] = [];
      for await (const execution of client.workflow.list({
        query: `LatchkeyStatus = 'CANCELLED' AND LatchkeyIntegration = '${integration}'`,
      })) {
        found.push(execution.workflowId);
      }
      expect(found).toContain(sut.workflowId);
    });
  });
});
