import { Client, type WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type TargetPorts } from '../../activities';
import type { DataConverter } from '@temporalio/common';
import { type CodecKey, type CodecKeyring, createDataConverter } from '../../codec';
import type { WorkerTrust } from '../../contracts/command';
import { signingInterceptor, TEST_WORKER_TRUST } from './commands';
import { TEST_ONLY_CODEC_KEY } from './codec-test-key';
import { requestWorkflowId, vaultLeaseWorkflowId } from '../../domain/ids';
import type { AccessRequestInput } from '../../contracts/request';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../contracts/search-attributes';
import {
  ASKING_KINDS,
  type NotificationEvent,
  type NotificationKind,
  type NotificationReceipt,
} from '../../contracts/notifications';
import type { EligibilityInput, EligibilityVerdict } from '../../activities';
import type { Notifier } from '../../notify/notifier';
import type { OnePasswordPort } from '../../onepassword/port';
import { accessRequestWorkflow } from '../../workflows/access-request/workflow';
import { bundleLatchkeyWorkflows, createLatchkeyWorker, type LatchkeyWorkerOptions } from '../../apps/worker/worker';
import { RecordingPort } from './recording-port';
import { visibilityAtStart } from '../../domain/visibility';
import type { TimeSkippingServer } from './temporal';

/**
 * Notifier that keeps every event, with the workflow time at which it was sent. The events that ask approvers
 * answer with a receipt, as a Slack message would; kinds in `failing` fail after being recorded (a channel down).
 */
export class RecordingNotifier implements Notifier {
  readonly events: NotificationEvent[] = [];
  readonly failing = new Set<NotificationKind>();
  notify(event: NotificationEvent): Promise<NotificationReceipt[]> {
    this.events.push(event);
    if (this.failing.has(event.kind)) return Promise.reject(new Error('the channel is down'));
    const receipt: NotificationReceipt = {
      channel: 'slack',
      conversation: 'D0TEST',
      ts: `${this.events.length}.000100`,
    };
    return Promise.resolve(ASKING_KINDS.has(event.kind) ? [receipt] : []);
  }
  ofKind(kind: NotificationEvent['kind']): NotificationEvent[] {
    return this.events.filter((event) => event.kind === kind);
  }

  /** The events of a kind once there are `count` of them: notifications go out in the background of the request. */
  async told(kind: NotificationEvent['kind'], count = 1, timeoutMs = 20_000): Promise<NotificationEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.ofKind(kind).length < count) {
      if (Date.now() > deadline)
        throw new Error(`${count} ${kind} notification(s) expected, ${this.ofKind(kind).length} sent`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.ofKind(kind);
  }
}

export const silentLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflows of `workflows/index.ts`, bundled once per test file (workers start often in these tests). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleLatchkeyWorkflows({ logger: new DefaultLogger('WARN') });
  return bundle;
}

// temporal.api.enums.v1.IndexedValueType
const SEARCH_ATTRIBUTE_TYPES = { Keyword: 2, KeywordList: 7, Datetime: 6 } as const;

/** Registers latchkey's search attributes on a server that does not have them (the Java test server). */
export async function registerSearchAttributes(env: TimeSkippingServer): Promise<void> {
  const searchAttributes: Record<string, number> = {};
  for (const { name, type } of CUSTOM_SEARCH_ATTRIBUTES) searchAttributes[name] = SEARCH_ATTRIBUTE_TYPES[type];
  await env.connection.operatorService.addSearchAttributes({ namespace: env.namespace, searchAttributes });
}

let queueCounter = 0;

/**
 * One worker for a whole test file, whose activities reach the 1Password and the notifier of the
 * test currently running. Workers started per test leave long polls behind on the Java test server,
 * which after a dozen tests stops answering.
 */
export class SharedWorker {
  current?: WorkflowTestWorld;
  readonly taskQueue = `latchkey-shared-${process.pid}-${++queueCounter}`;
  private running?: { worker: Worker; done: Promise<void> };

  private world(): WorkflowTestWorld {
    if (!this.current) throw new Error('no test world is current');
    return this.current;
  }

  async start(env: TimeSkippingServer): Promise<void> {
    const client = new Client({
      connection: env.connection,
      namespace: env.namespace,
      dataConverter: createDataConverter(TEST_ONLY_CODEC_KEY),
    });
    const ports = (): OnePasswordPort => this.world().port;
    const worker = await createLatchkeyWorker({
      connection: env.nativeConnection,
      namespace: env.namespace,
      taskQueue: this.taskQueue,
      // As in production: the worker refuses payloads that latchkey did not encrypt.
      dataConverter: createDataConverter(TEST_ONLY_CODEC_KEY, { plaintext: 'refuse' }),
      trust: TEST_WORKER_TRUST,
      activities: createActivities({
        trust: TEST_WORKER_TRUST,
        onePassword: ports,
        notifier: { notify: (event) => this.world().notifier.notify(event) },
        logger: silentLogger,
        temporal: client,
        targets: {
          rotator: (spec) => this.world().targetPorts().rotator(spec),
          databaseLogins: (target) => this.world().targetPorts().databaseLogins(target),
        },
        eligibility: (input) => this.world().eligibility(input),
      }),
      workflowBundle: await workflowBundle(),
    });
    this.running = { worker, done: worker.run() };
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running.worker.shutdown();
    await this.running.done.catch(() => undefined);
  }
}

/** A worker of a world's own; `kill` ends it as a dying process would: nothing it does afterwards reaches Temporal. */
export interface StartedWorker {
  worker: Worker;
  running: Promise<void>;
  kill(): Promise<void>;
}

/**
 * One test's world: a recording 1Password, a recording notifier, a client with the codec (fixed
 * test key), on a time-skipping environment. Its workflows run on the shared worker, or, for tests
 * that kill workers, on workers of its own (`ownWorkers`).
 */
export class WorkflowTestWorld {
  private clientOfKeys: Client;
  readonly notifier = new RecordingNotifier();
  /**
   * What a scheduled request's start asks (apps/worker/eligibility.ts in production): a test that schedules
   * requests sets it; by default nobody is shown eligible.
   */
  eligibility: (input: EligibilityInput) => Promise<EligibilityVerdict> = () =>
    Promise.resolve({
      eligible: false,
      code: 'eligibility-unknown',
      rule: 'test',
      message: 'this test sets no policy',
    });
  readonly taskQueue: string;
  /**
   * An integration name of this test's own: vault-lease entities are keyed by integration, vault and
   * group, so tests sharing one server must not share an entity.
   */
  readonly integration = `demo-t${++queueCounter}`;
  /** The payload keys of this world's client and of the workers it starts (`useCodecKeys`). */
  private codecKeys: CodecKey | CodecKeyring = TEST_ONLY_CODEC_KEY;
  private dataConverter: DataConverter = createDataConverter(TEST_ONLY_CODEC_KEY);
  /** The systems behind the secrets of this test (a real PostgreSQL), where it needs them. */
  targets?: TargetPorts;
  private readonly workers: StartedWorker[] = [];
  /** Workflow ids this test started (and the lease entities they may have started). */
  private readonly started: string[] = [];

  private constructor(
    readonly env: TimeSkippingServer,
    readonly port: RecordingPort,
    private readonly shared: SharedWorker | undefined,
  ) {
    this.taskQueue = shared?.taskQueue ?? `latchkey-test-${process.pid}-${++queueCounter}`;
    this.clientOfKeys = this.newClient();
  }

  get client(): Client {
    return this.clientOfKeys;
  }

  private newClient(): Client {
    return new Client({
      connection: this.env.connection,
      namespace: this.env.namespace,
      dataConverter: this.dataConverter,
      // Starts and Updates signed as the API signs them, at the server's time.
      interceptors: { workflow: [signingInterceptor(() => this.env.currentTimeMs())] },
    });
  }

  /**
   * Other payload keys for this world's client and for the workers it starts from now on, as in a codec
   * key rotation. Handles made before keep the client they were made with. Own workers only: the shared
   * worker keeps the test key.
   */
  useCodecKeys(keys: CodecKey | CodecKeyring): void {
    if (this.shared) throw new Error('the shared worker keeps the test key: use a world with workers of its own');
    this.codecKeys = keys;
    this.dataConverter = createDataConverter(keys);
    this.clientOfKeys = this.newClient();
  }

  /** With `shared`, the world's workflows run on the file's shared worker; without, call `startWorker`. */
  static async create(env: TimeSkippingServer, shared?: SharedWorker): Promise<WorkflowTestWorld> {
    const world = new WorkflowTestWorld(env, await RecordingPort.create(), shared);
    if (shared) shared.current = world;
    return world;
  }

  targetPorts(): TargetPorts {
    if (!this.targets) throw new Error('this test gave its world no targets');
    return this.targets;
  }

  activities(port: OnePasswordPort = this.port, trust: WorkerTrust = TEST_WORKER_TRUST, temporal = this.client) {
    return createActivities({
      trust,
      onePassword: () => port,
      notifier: this.notifier,
      logger: silentLogger,
      temporal,
      targets: this.targets,
    });
  }

  /**
   * Starts a worker of this world's own running in the background; `dispose` ends it. `trust`: what it trusts
   * (default: the TEST-ONLY keys), e.g. another set of command keys, as in a key rotation.
   */
  async startWorker(
    tuning?: LatchkeyWorkerOptions['tuning'],
    trust: WorkerTrust = TEST_WORKER_TRUST,
  ): Promise<StartedWorker> {
    if (this.shared) throw new Error('this world runs on the shared worker');
    // Its activities reach the server through a connection of their own, which `kill` cuts as a death would.
    const activityConnection = await this.env.connectAgain();
    const activityClient = new Client({
      connection: activityConnection,
      namespace: this.env.namespace,
      dataConverter: this.dataConverter,
    });
    const worker = await createLatchkeyWorker({
      connection: this.env.nativeConnection,
      namespace: this.env.namespace,
      taskQueue: this.taskQueue,
      // As in production: the worker refuses payloads that latchkey did not encrypt.
      dataConverter: createDataConverter(this.codecKeys, { plaintext: 'refuse' }),
      trust,
      activities: this.activities(this.port, trust, activityClient),
      workflowBundle: await workflowBundle(),
      tuning,
    });
    const running = worker.run().finally(() => activityConnection.close());
    const kill = async () => {
      await activityConnection.close();
      worker.shutdown();
      await running.catch(() => undefined);
    };
    const entry = { worker, running, kill };
    this.workers.push(entry);
    return entry;
  }
  async start(input: AccessRequestInput): Promise<WorkflowHandle<typeof accessRequestWorkflow>> {
    this.started.push(requestWorkflowId(input.requestId));
    return this.client.workflow.start(accessRequestWorkflow, {
      workflowId: requestWorkflowId(input.requestId),
      taskQueue: this.taskQueue,
      args: [input],
      // As the API starts a request.
      ...visibilityAtStart(input),
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
   * Terminates a workflow as an operator would, once no task of it is in flight: the Java test server
   * keeps its clock locked for good when a workflow is terminated with a workflow task or an activity
   * in flight, and every later jump over hours then moves at the speed of real time. The dev-server
   * chaos run (bench/chaos.ts) terminates workflows mid-task.
   */
  async terminate(workflowId: string, reason: string): Promise<void> {
    const handle = this.client.workflow.getHandle(workflowId);
    for (let waited = 0; waited < 10_000 && (await this.hasTaskInFlight(workflowId)); waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await handle.terminate(reason);
  }

  private async hasTaskInFlight(workflowId: string): Promise<boolean> {
    const handle = this.client.workflow.getHandle(workflowId);
    const description = await handle.describe().catch(() => undefined);
    if (!description || description.status.name !== 'RUNNING') return false;
    if ((description.raw.pendingActivities ?? []).length > 0) return true;
    // Every workflow task is scheduled once and closed once (completed, timed out or failed).
    let open = 0;
    for (const event of (await handle.fetchHistory()).events ?? []) {
      if (event.workflowTaskScheduledEventAttributes) open++;
      if (
        event.workflowTaskCompletedEventAttributes ||
        event.workflowTaskTimedOutEventAttributes ||
        event.workflowTaskFailedEventAttributes
      ) {
        open--;
      }
    }
    return open > 0;
  }

  /**
   * Ends every workflow of this test still running. The time-skipping server does not skip time while
   * a workflow task waits for a worker, so a workflow left behind would stall every later test.
   */
  async terminateLeftovers(): Promise<void> {
    // The test's vault-lease entity too: one holding a holder would wake in a later test and act on its
    // 1Password (the shared worker's activities reach the current test's port).
    const lease = vaultLeaseWorkflowId(this.integration, 'vlt_oncall', 'grp_engineering');
    for (const id of [...this.started, lease]) {
      await this.terminate(id, 'test finished').catch(() => undefined);
    }
  }

  async dispose(): Promise<void> {
    await this.terminateLeftovers();
    await this.stopWorkers();
    await this.port.dispose();
  }
}
