import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  installQuietRuntime,
  registerSearchAttributes,
  workflowBundle,
  WorkflowTestWorld,
} from '../apps/worker/testing/harness';
import { DAY, HOUR, people, requestInput, snapshot, vaultGroupGrant } from '../apps/worker/testing/snapshots';
import { approveUpdate, stateQuery } from '../contracts/messages';
import { createTimeSkippingEnv } from '../test/support/temporal';

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
let world: WorkflowTestWorld;

beforeAll(async () => {
  installQuietRuntime();
  env = await createTimeSkippingEnv();
  await registerSearchAttributes(env);
  await workflowBundle();
}, 120_000);
afterAll(async () => {
  await env?.teardown();
}, 60_000);
beforeEach(async () => {
  world = await WorkflowTestWorld.create(env);
  await world.startWorker();
}, 60_000);
afterEach(async () => {
  await world.dispose();
}, 60_000);

describe('accessRequestWorkflow (time-skipping)', () => {
  it('an eight-hour vault-group grant expires after eight hours and is revoked exactly once', async () => {
    const input = requestInput(snapshot({ grant: vaultGroupGrant() }));
    const sut = await world.start(input);
    const approved = await sut.executeUpdate(approveUpdate, { args: [{ actor: people.alice, comment: 'ok' }] });
    expect(approved.failure).toBeUndefined();
    expect(approved.status).toBe('ACTIVE');
    expect(world.port.writes()).toEqual(['grantGroupPermissions']);
    await world.advance(8 * HOUR - 60_000);
    expect((await sut.query(stateQuery)).status).toBe('ACTIVE');
    await world.advance(2 * 60_000);
    const final = await sut.result();
    expect(final.status).toBe('EXPIRED');
    expect(world.port.writes()).toEqual(['grantGroupPermissions', 'revokeGroupPermissions']);
    expect(DAY).toBeGreaterThan(0);
  });

  it('refuses self-approval', async () => {
    const sut = await world.start(requestInput(snapshot()));
    await expect(sut.executeUpdate(approveUpdate, { args: [{ actor: people.bob }] })).rejects.toBeInstanceOf(
      WorkflowUpdateFailedError,
    );
  });
});
