import { Client, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  makeTelemetryFilterString,
  Runtime,
  type Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { createActivities } from '../../../activities';
import { createDataConverter } from '../../../codec';
import { TEST_ONLY_CODEC_KEY } from '../../../codec/test-key';
import { requestWorkflowId, vaultLeaseWorkflowId } from '../../../contracts/ids';
import type { AccessRequestInput } from '../../../contracts/request';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../../contracts/search-attributes';
import type { NotificationEvent, Notifier } from '../../../notify/events';
import type { OnePasswordPort } from '../../../onepassword/port';
import { accessRequestWorkflow } from '../../../workflows/access-request';
import { createLatchkeyWorker, type LatchkeyWorkerOptions } from '../worker';
import { RecordingPort } from './recording-port';

/** Notifier that keeps every event, with the workflow time at which it was sent. */
export class RecordingNotifier implements Notifier {
  readonly events: NotificationEvent[] = [];
  notify(event: NotificationEvent): Promise<void> {
    this.events.push(event);
    return Promise.resolve();
  }
  ofKind(kind: NotificationEvent['kind']): NotificationEvent[] {
    return this.events.filter((event) => event.kind === kind);
  }
}

export const silentLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Workers in tests log errors only (call before the first connection of the test file). */
export function installQuietRuntime(): void {
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflows of `workflows/index.ts`, bundled once per test file (workers start often in these tests). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../../../workflows'),
    logger: new DefaultLogger('WARN'),
  });
  return bundle;
}

// temporal.api.enums.v1.IndexedValueType
const SEARCH_ATTRIBUTE_TYPES = { Keyword: 2, KeywordList: 7, Datetime: 6 } as const;

/** Registers latchkey's search attributes on a server that does not have them (the Java test server). */
export async function registerSearchAttributes(env: TestWorkflowEnvironment): Promise<void> {
  const searchAttributes: Record<string, number> = {};
  for (const { name, type } of CUSTOM_SEARCH_ATTRIBUTES) searchAttributes[name] = SEARCH_ATTRIBUTE_TYPES[type];
  await env.connection.operatorService.addSearchAttributes({ namespace: env.namespace ?? 'default', searchAttributes });
}

let queueCounter = 0;

/**
 * One test's world: a recording 1Password, a recording notifier, a client with the codec (fixed
 * test key) and workers on a task queue of the test's own, all on a time-skipping environment.
 */
export class WorkflowTestWorld {
  readonly client: Client;
  readonly notifier = new RecordingNotifier();
  readonly taskQueue = `latchkey-test-${process.pid}-${++queueCounter}`;
  /**
   * An integration name of this test's own: vault-lease entities are keyed by integration, vault and
   * group, so tests sharing one server must not share an entity (its worker would be another test's).
   */
  readonly integration = `demo-t${queueCounter}`;
  readonly dataConverter = createDataConverter(TEST_ONLY_CODEC_KEY);
  private readonly workers: Array<{ worker: Worker; running: Promise<void> }> = [];
  /** Workflow ids this test started (and the lease entities they may have started). */
  private readonly started: string[] = [];

  private constructor(
    readonly env: TestWorkflowEnvironment,
    readonly port: RecordingPort,
  ) {
    this.client = new Client({
      connection: env.connection,
      namespace: env.namespace ?? 'default',
      dataConverter: this.dataConverter,
    });
  }

  static async create(env: TestWorkflowEnvironment): Promise<WorkflowTestWorld> {
    return new WorkflowTestWorld(env, await RecordingPort.create());
  }

  activities(port: OnePasswordPort = this.port) {
    return createActivities({
      onePassword: () => port,
      notifier: this.notifier,
      logger: silentLogger,
      temporal: this.client,
    });
  }

  /** Starts a worker running in the background; `stopWorkers` (or `dispose`) ends it. */
  async startWorker(tuning?: LatchkeyWorkerOptions['tuning']): Promise<{ worker: Worker; running: Promise<void> }> {
    const worker = await createLatchkeyWorker({
      connection: this.env.nativeConnection,
      namespace: this.env.namespace ?? 'default',
      taskQueue: this.taskQueue,
      dataConverter: this.dataConverter,
      activities: this.activities(),
      workflowBundle: await workflowBundle(),
      tuning,
    });
    const entry = { worker, running: worker.run() };
    this.workers.push(entry);
    return entry;
  }

  workerCount(): number {
    return this.workers.length;
  }

  async start(input: AccessRequestInput): Promise<WorkflowHandle<typeof accessRequestWorkflow>> {
    this.started.push(requestWorkflowId(input.requestId));
    return this.client.workflow.start(accessRequestWorkflow, {
      workflowId: requestWorkflowId(input.requestId),
      taskQueue: this.taskQueue,
      args: [input],
      staticSummary: `${input.snapshot.resource.name} for ${input.requester.id}`,
    });
  }

  /** Moves the test server's clock forward (timers due in between fire). */
  async advance(ms: number): Promise<void> {
    await this.env.sleep(ms);
  }

  async stopWorkers(): Promise<void> {
    for (const { worker, running } of this.workers.splice(0)) {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
    }
  }

  /**
   * Ends every workflow of this test still running. The time-skipping server does not skip time while
   * a workflow task waits for a worker, so a workflow left behind would stall every later test.
   */
  async terminateLeftovers(): Promise<void> {
    const ids = [...this.started];
    for (const vault of ['vlt_oncall', 'vlt_prod', 'vlt_staging']) {
      for (const group of ['grp_engineering', 'grp_security'])
        ids.push(vaultLeaseWorkflowId(this.integration, vault, group));
    }
    for (const id of ids) {
      const handle = this.client.workflow.getHandle(id);
      // Terminating a workflow with an activity in flight leaves the test server's clock locked:
      // let running activities finish first (the workers are still up).
      for (let waited = 0; waited < 5_000; waited += 100) {
        const description = await handle.describe().catch(() => undefined);
        if (!description || description.status.name !== 'RUNNING') break;
        if ((description.raw.pendingActivities ?? []).length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await handle.terminate('test finished').catch(() => undefined);
    }
  }

  async dispose(): Promise<void> {
    await this.terminateLeftovers();
    await this.stopWorkers();
    await this.port.dispose();
  }
}
