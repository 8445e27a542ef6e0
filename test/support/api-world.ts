import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import pino from 'pino';
import { createActivities } from '../../activities';
import { createDataConverter, loadCodecKeyring } from '../../codec';
import { type LatchkeyConfig, loadConfig, repoRoot } from '../../config/config';
import { CATALOG_WORKFLOW_ID, catalogQuery, refreshCatalogUpdate } from '../../contracts/catalog';
import type { Role } from '../../contracts/identity';
import { chooseServerPort } from '../../devstack/ports';
import { notifierFor } from '../../apps/worker/notifier';
import { LocalOnePassword } from '../../onepassword/local/local-onepassword';
import { integrationsOf, loadPolicyFile } from '../../policy';
import { createDevServerNamespace, devServerAddress } from './temporal';
import { catalogWorkflow } from '../../workflows';
import { createLatchkeyWorker } from '../../apps/worker/worker';
import { CommandSigner } from '../../trust/command-signer';
import { workflowBundle } from './workflow-world';
import { TEST_ONLY_COMMAND_KEY, TEST_WORKER_TRUST } from './commands';
import { createApiApp } from '../../apps/api/app';
import { loadOrCreateLocalSigningKey, mintLocalToken } from '../../apps/api/identity/local-signing-key';
import { createLogger } from '../../apps/api/logging/logger';
import { createTargetPorts } from '../../apps/worker/targets';
import { policyEligibility } from '../../apps/worker/eligibility';
import { DEMO_DATABASE, seedDemoDatabase } from '../../devstack/postgres';
import { testPostgresAdminUrl } from './postgres';

export interface Person {
  sub: string;
  email: string;
  groups: string[];
  roles?: Role[];
}

/** The demo people of docs/demo-data.md (frank is a second engineer, for "someone else's request"). */
export const PEOPLE = {
  alice: { sub: 'alice', email: 'alice@example.com', groups: ['engineering'] },
  frank: { sub: 'frank', email: 'frank@example.com', groups: ['engineering'] },
  bob: { sub: 'bob', email: 'bob@example.com', groups: ['security'] },
  carol: { sub: 'carol', email: 'carol@example.com', groups: ['security'] },
  erin: { sub: 'erin', email: 'erin@example.com', groups: ['payments'] },
  dave: { sub: 'dave', email: 'dave@example.com', groups: ['security-leads'], roles: ['admin'] },
  audrey: { sub: 'audrey', email: 'audrey@example.com', groups: [], roles: ['auditor'] },
} satisfies Record<string, Person>;

export interface HttpResult {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON under test
  text: string;
}

/**
 * One test file's latchkey: a namespace of its own on the shared dev server (with latchkey's search
 * attributes), a worker with the real workflows and the local 1Password, the catalog workflow, and
 * the API listening on a free port. Everything is real; only the data directory is temporary.
 */
export class ApiWorld {
  readonly logLines: string[] = [];

  private constructor(
    readonly config: LatchkeyConfig,
    readonly client: Client,
    readonly app: NestFastifyApplication,
    readonly baseUrl: string,
    private readonly dataDir: string,
    private readonly connection: Connection,
    private readonly nativeConnection: NativeConnection,
    private readonly worker: Worker,
    private readonly workerRun: Promise<void>,
    logLines: string[],
  ) {
    this.logLines = logLines;
  }

  /** `env`: settings on top of the world's own, as a deployment would set them (e-mail, Slack, a policy file). */
  static async create(name: string, env: Record<string, string> = {}): Promise<ApiWorld> {
    const suffix = crypto.randomBytes(4).toString('hex');
    const namespace = `latchkey-${name}-${suffix}`;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `latchkey-${name}-`));
    const port = await chooseServerPort();
    const config = loadConfig({
      LATCHKEY_DATA_DIR: dataDir,
      LATCHKEY_POLICY_FILE: path.join(repoRoot(), 'config', 'policy.yaml'),
      TEMPORAL_ADDRESS: devServerAddress(),
      TEMPORAL_NAMESPACE: namespace,
      LATCHKEY_TASK_QUEUE: `latchkey-${name}-${suffix}`,
      LATCHKEY_API_PORT: String(port),
      LATCHKEY_LOG_LEVEL: 'info',
      ...env,
    });

    const connection = await Connection.connect({ address: config.temporal.address });
    await createDevServerNamespace(connection, namespace);

    const keyring = await loadCodecKeyring(config.codec);
    const dataConverter = createDataConverter(keyring);
    const client = new Client({ connection, namespace, dataConverter });
    const policy = loadPolicyFile(config.policyFile);
    const workerLogger = pino({ level: 'warn' });
    const local = new LocalOnePassword({ stateFile: config.localOnePassword.stateFile });

    // The demo policy's target demo-db: the integration tier's real PostgreSQL, its demo database seeded.
    const demoDatabaseUrl = testPostgresAdminUrl().replace(/\/[^/]*$/, `/${DEMO_DATABASE.database}`);
    await seedDemoDatabase(testPostgresAdminUrl(), await local.getItemSecret('vlt_prod', 'itm_reporting_db'));

    const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
    const worker = await createLatchkeyWorker({
      connection: nativeConnection,
      namespace,
      taskQueue: config.temporal.taskQueue,
      dataConverter: createDataConverter(keyring, { plaintext: 'refuse' }),
      trust: TEST_WORKER_TRUST,
      workflowBundle: await workflowBundle(),
      activities: createActivities({
        trust: TEST_WORKER_TRUST,
        onePassword: () => local,
        notifier: notifierFor(config, workerLogger),
        logger: workerLogger,
        temporal: client,
        targets: createTargetPorts(policy, { LATCHKEY_DEMO_DB_ADMIN_URL: demoDatabaseUrl }),
        integrations: integrationsOf(policy).map(({ name, reconcile }) => ({ name, repair: reconcile === 'repair' })),
        eligibility: policyEligibility(
          () => policy,
          () => client.workflow.getHandle(CATALOG_WORKFLOW_ID).query(catalogQuery),
        ),
      }),
    });
    const workerRun = worker.run();
    const catalog = await client.workflow.start(catalogWorkflow, {
      workflowId: CATALOG_WORKFLOW_ID,
      taskQueue: config.temporal.taskQueue,
      args: [
        { integrations: integrationsOf(policy).map((integration) => integration.name), refreshIntervalMs: 60_000 },
      ],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    // The API answers 503 until the worker has read 1Password once; tests start after that.
    await catalog.executeUpdate(refreshCatalogUpdate);

    const logLines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const app = await createApiApp({
      config,
      temporal: client,
      policy,
      logger: createLogger('debug', sink),
      commandSigner: new CommandSigner(TEST_ONLY_COMMAND_KEY),
    });
    await app.listen({ host: '127.0.0.1', port: config.api.port });
    return new ApiWorld(
      config,
      client,
      app,
      `http://127.0.0.1:${port}`,
      dataDir,
      connection,
      nativeConnection,
      worker,
      workerRun,
      logLines,
    );
  }

  async token(
    person: Person,
    options: { ttlSeconds?: number; audience?: string; issuer?: string } = {},
  ): Promise<string> {
    if (this.config.auth.mode !== 'local') throw new Error('tests run in local auth mode');
    const key = await loadOrCreateLocalSigningKey(this.config.auth.signingKeyFile);
    return mintLocalToken(
      key,
      options.issuer ?? this.config.auth.issuer,
      options.audience ?? this.config.auth.audience,
      { sub: person.sub, email: person.email, groups: person.groups, roles: person.roles ?? [] },
      options.ttlSeconds ?? 600,
    );
  }

  /** One HTTP call; `as` mints a token for that person, `token` sends the given one, neither sends none. */
  async call(
    method: string,
    urlPath: string,
    options: { as?: Person; token?: string; json?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<HttpResult> {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token ?? (options.as ? await this.token(options.as) : undefined);
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (options.json !== undefined) body = JSON.stringify(options.json);
    if (options.rawBody !== undefined) body = options.rawBody;
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const response = await fetch(`${this.baseUrl}${urlPath}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  /** How many access-request workflows exist in this world (visibility). */
  async requestCount(): Promise<number> {
    const { count } = await this.client.workflow.count(`WorkflowType = 'accessRequestWorkflow'`);
    return count;
  }

  /** Polls until `check` passes or the time is up (visibility and activities take a moment). */
  async eventually<T>(probe: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (check(value) || Date.now() > deadline) return value;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Stops the worker (as when the connector is down); the API and Temporal keep running. */
  async stopWorker(): Promise<void> {
    if (this.worker.getState() === 'RUNNING') this.worker.shutdown();
    await this.workerRun.catch(() => undefined);
  }

  private closingApp?: Promise<void>;

  /** Closes the API (once), as a shutdown would: requests in flight finish, new ones are refused. */
  closeApp(): Promise<void> {
    this.closingApp ??= this.app.close();
    return this.closingApp;
  }

  async dispose(): Promise<void> {
    await this.closeApp();
    await this.stopWorker();
    await this.nativeConnection.close();
    await this.connection.close();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}
