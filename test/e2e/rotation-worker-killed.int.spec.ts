import { loadCommandSigningKey, trustCommandKey } from '../../trust/command-keys';
import { signingInterceptor } from '../support/commands';
import { spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { escapeIdentifier as id, escapeLiteral as literal } from 'pg';
import { createDataConverter, loadOrCreateCodecKey } from '../../codec';
import { loadConfig, repoRoot } from '../../config/config';
import { loadDevelopmentSettings } from '../../config/development';
import { stateQuery } from '../../contracts/messages';
import type { GrantSpec } from '../../contracts/snapshot';
import { requestWorkflowId } from '../../domain/ids';
import { chooseServerPort } from '../../devstack/ports';
import { LocalOnePassword } from '../../onepassword/local/local-onepassword';
import { accessRequestWorkflow } from '../../workflows/access-request/workflow';
import { adminQuery as admin, testPostgresAdminUrl, tryLogin } from '../support/postgres';
import { requestInput, snapshot } from '../support/snapshots';
import { createDevServerNamespace, devServerAddress } from '../support/temporal';

/**
 * A rotation survives its worker being SIGKILLed at every step: the production worker (dist/apps/worker/main.js)
 * runs as a process of its own on the integration tier's dev server and PostgreSQL; each time a step of the
 * rotation completes, the worker is killed at once (often in the middle of the next step) and a new one started.
 * At the end there is exactly one new password, the same in the database and in 1Password.
 */
const ROTATION_STEPS = ['prepareRotation', 'setTargetSecret', 'storeItemSecret'];
const suffix = crypto.randomBytes(4).toString('hex');
const namespace = `latchkey-killed-${suffix}`;
const role = `it_killed_${suffix}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-killed-'));
const adminUrl = testPostgresAdminUrl();

const POLICY = `
integrations:
  - name: demo
    kind: local
    serviceAccount: latchkey-demo
    owners: [{ group: security }]
targets:
  - name: it-db
    kind: postgres
    admin: { env: LATCHKEY_IT_DB_ADMIN_URL }
resources:
  - id: it-rotated
    integration: demo
    vault: vlt_prod
    item: itm_prod_db
    grant: rotate-on-revoke
    rotator: { target: it-db, role: ${role} }
flows:
  - name: it
    requesters: [{ group: engineering }]
    resources: [it-rotated]
    automatic: true
    duration: { max: PT1H }
`;

describe('a rotation whose worker is SIGKILLed at every step (dev server, real PostgreSQL)', () => {
  let env: NodeJS.ProcessEnv;
  let connection: Connection;
  let client: Client;
  const workers: ChildProcess[] = [];
  const output: string[] = [];

  function startWorker(): ChildProcess {
    const worker = spawn(process.execPath, [path.join(repoRoot(), 'dist', 'apps', 'worker', 'main.js')], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    worker.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    workers.push(worker);
    return worker;
  }

  async function kill(worker: ChildProcess): Promise<void> {
    if (worker.exitCode !== null || worker.signalCode !== null) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.kill('SIGKILL');
    await exited;
  }

  beforeAll(async () => {
    const policyFile = path.join(dataDir, 'policy.yaml');
    fs.writeFileSync(policyFile, POLICY);
    const bundle = path.join(dataDir, 'workflow-bundle.js');
    await new Promise<void>((resolve, reject) => {
      const bundler = spawn(process.execPath, [path.join(repoRoot(), 'dist', 'apps', 'worker', 'bundle.js'), bundle], {
        stdio: 'ignore',
      });
      bundler.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bundling exited ${code}`))));
    });
    env = {
      PATH: loadDevelopmentSettings().childEnv.PATH,
      LATCHKEY_DATA_DIR: dataDir,
      LATCHKEY_POLICY_FILE: policyFile,
      TEMPORAL_ADDRESS: devServerAddress(),
      TEMPORAL_NAMESPACE: namespace,
      LATCHKEY_TASK_QUEUE: `latchkey-killed-${suffix}`,
      LATCHKEY_WORKER_METRICS_PORT: String(await chooseServerPort()),
      LATCHKEY_WORKFLOW_BUNDLE: bundle,
      LATCHKEY_LOG_LEVEL: 'warn',
      LATCHKEY_IT_DB_ADMIN_URL: adminUrl,
    };
    const config = loadConfig(env);
    connection = await Connection.connect({ address: config.temporal.address });
    await createDevServerNamespace(connection, namespace);
    const key = await loadOrCreateCodecKey(config.codec.keyFile, config.codec.keyId);
    // The workers trust this stack's command key; the test signs its request's start with it, as the API would.
    const commandKey = loadCommandSigningKey(config.commands.signingKeyFile, { create: true });
    trustCommandKey(config.commands.trustedKeysFile, commandKey);
    client = new Client({
      connection,
      namespace,
      dataConverter: createDataConverter(key),
      interceptors: { workflow: [signingInterceptor(() => Promise.resolve(Date.now()), commandKey)] },
    });
  }, 120_000);

  afterAll(async () => {
    for (const worker of workers) await kill(worker);
    await connection?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('ends with one new password, the same in the database and in 1Password, the old one refused', async () => {
    const local = new LocalOnePassword({ stateFile: loadConfig(env).localOnePassword.stateFile });
    const first = await local.getItemSecret('vlt_prod', 'itm_prod_db');
    await admin(`create role ${id(role)} login password ${literal(first)}`);
    let worker = startWorker();

    const grant = {
      mode: 'share-link',
      vaultId: 'vlt_prod',
      itemId: 'itm_prod_db',
      oneTimeView: true,
      rotateOnRevoke: true,
      rotator: { kind: 'postgres', target: 'it-db', role, endSessions: true },
    } satisfies GrantSpec;
    const input = requestInput(
      snapshot({
        grant,
        approval: { automatic: true, tiers: [], allowSelfApproval: false },
        durationMs: 3_000,
      }),
    );
    const handle = await client.workflow.start(accessRequestWorkflow, {
      workflowId: requestWorkflowId(input.requestId),
      taskQueue: env.LATCHKEY_TASK_QUEUE!,
      args: [input],
    });

    const killedAfter: string[] = [];
    for (const step of ROTATION_STEPS) {
      await completed(handle.workflowId, step);
      await kill(worker);
      killedAfter.push(step);
      worker = startWorker();
    }
    const final = await until(async () => {
      const state = await handle.query(stateQuery);
      return state.status === 'EXPIRED' ? state : undefined;
    }, 120_000);

    expect(killedAfter).toEqual(ROTATION_STEPS);
    expect(final.grant!.endedBy).toBe('secret-rotated');
    const now = await local.getItemSecret('vlt_prod', 'itm_prod_db');
    expect(now).not.toBe(first);
    expect(await tryLogin(role, now)).toBe('accepted');
    expect(await tryLogin(role, first)).toBe('28P01');
    // One change of the item, by this request's rotation, whatever the attempts.
    const rotations = (await local.readState()).rotations.filter((rotation) => rotation.itemId === 'itm_prod_db');
    expect(rotations.map((rotation) => rotation.reference)).toEqual([`${handle.workflowId}:rotate:item`]);
    expect(output.join('')).not.toContain(now);
    expect(output.join('')).not.toContain(first);
  }, 240_000);

  /** Waits until an activity of type `type` has completed in the workflow's history. */
  async function completed(workflowId: string, type: string): Promise<void> {
    await until(async () => {
      const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
      const scheduled = new Map<string, string>();
      for (const event of events) {
        const attributes = event.activityTaskScheduledEventAttributes;
        if (attributes) scheduled.set(String(event.eventId), attributes.activityType?.name ?? '');
      }
      return events.some(
        (event) =>
          event.activityTaskCompletedEventAttributes &&
          scheduled.get(String(event.activityTaskCompletedEventAttributes.scheduledEventId)) === type,
      )
        ? true
        : undefined;
    }, 120_000);
  }
});

async function until<T>(check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
