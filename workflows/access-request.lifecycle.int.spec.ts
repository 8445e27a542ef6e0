import { type WorkflowHandle, WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { registerSearchAttributes, SharedWorker, WorkflowTestWorld } from '../apps/worker/testing/harness';
import { recordHistory } from '../apps/worker/testing/histories';
import {
  HOUR,
  people,
  REQUESTER,
  requestInput,
  shareLinkGrant,
  snapshot,
  vaultGroupGrant,
} from '../apps/worker/testing/snapshots';
import type { Actor } from '../contracts/identity';
import { vaultLeaseWorkflowId } from '../contracts/ids';
import { CATALOG_WORKFLOW_ID, catalogQuery, refreshCatalogUpdate } from '../contracts/catalog';
import {
  approveUpdate,
  extendUpdate,
  grantAccessQuery,
  REFUSAL,
  rejectUpdate,
  stateQuery,
} from '../contracts/messages';
import type { AccessRequestState } from '../contracts/request';
import { SA_GRANT_ENDS_AT } from '../contracts/search-attributes';
import type { FlowSnapshot } from '../contracts/snapshot';
import { createTimeSkippingEnv } from '../test/support/temporal';
import type { accessRequestWorkflow } from './access-request';
import { catalogWorkflow } from './catalog';

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
let world: WorkflowTestWorld;
const shared = new SharedWorker();

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  await registerSearchAttributes(env);
  await shared.start(env);
}, 120_000);
afterAll(async () => {
  await shared.stop();
  await env?.teardown();
}, 60_000);
beforeEach(async () => {
  world = await WorkflowTestWorld.create(env, shared);
}, 60_000);
afterEach(async () => {
  await world.dispose();
}, 60_000);

type Handle = WorkflowHandle<typeof accessRequestWorkflow>;

/** The flow of this test, on the test's own integration name (vault-lease entities are per integration). */
function flow(overrides: Partial<FlowSnapshot> = {}): FlowSnapshot {
  const base = snapshot(overrides);
  return { ...base, integration: { ...base.integration, name: world.integration } };
}

async function started(overrides: Partial<FlowSnapshot> = {}, requester = REQUESTER): Promise<Handle> {
  return world.start(requestInput(flow(overrides), requester));
}

const stateOf = (handle: Handle): Promise<AccessRequestState> => handle.query(stateQuery);

/** Retries `check` in real time until it passes: activities run in real time while timers are skipped. */
async function eventually<T>(check: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The refusal type of an Update the validator refused. */
async function refusalOf(update: Promise<unknown>): Promise<string | null | undefined> {
  try {
    await update;
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure)
      return error.cause.type;
    throw error;
  }
  throw new Error('the update was accepted');
}

const approve = (handle: Handle, actor: Actor, comment?: string) =>
  handle.executeUpdate(approveUpdate, { args: [{ actor, comment }] });

async function leaseGroupPermissions(vaultId: string) {
  const state = await world.port.local.readState();
  return state.vaults.find((vault) => vault.id === vaultId)!.groupPermissions;
}

/**
 * Overlapping vault-group grants, extension and a killed worker: a test server of their own, since
 * the Java test server's clock gets stuck after a dozen tests with timers in one server.
 */
describe('accessRequestWorkflow over time and failures (time-skipping server)', () => {
  it('two overlapping vault-group grants keep access until the second ends', async () => {
    const first = await started({ grant: vaultGroupGrant() });
    expect((await approve(first, people.alice)).status).toBe('ACTIVE');
    await world.advance(4 * HOUR);
    const other = { ...REQUESTER, id: 'u-carl', email: 'carol.requester@example.com' };
    const second = await started({ grant: vaultGroupGrant() }, other);
    expect((await approve(second, people.alice)).status).toBe('ACTIVE');
    // The second holder needs nothing new: counted, no second grant.
    expect(world.port.writes()).toEqual(['grantGroupPermissions']);

    await world.advance(4 * HOUR + 60_000);
    const firstFinal = await first.result();
    expect(firstFinal.status).toBe('EXPIRED');
    expect(firstFinal.grant!.endedBy).toBe('group-still-held-by-other-grants');
    expect(world.port.writes()).toEqual(['grantGroupPermissions']);
    expect(await leaseGroupPermissions('vlt_oncall')).toHaveLength(1);
    expect((await stateOf(second)).status).toBe('ACTIVE');

    await world.advance(4 * HOUR);
    const secondFinal = await second.result();
    expect(secondFinal.status).toBe('EXPIRED');
    expect(secondFinal.grant!.endedBy).toBe('group-permissions-removed');
    expect(world.port.writes()).toEqual(['grantGroupPermissions', 'revokeGroupPermissions']);
    expect(await leaseGroupPermissions('vlt_oncall')).toEqual([]);
    await recordHistory(first, 'vault-group-overlap-first');
    await recordHistory(second, 'vault-group-overlap-second');
    const lease = world.client.workflow.getHandle(
      vaultLeaseWorkflowId(world.integration, 'vlt_oncall', 'grp_engineering'),
    );
    await world.advance(2 * HOUR);
    await lease.result();
    await recordHistory(lease, 'vault-lease-overlap');
  });

  it('an extension moves the end and the timer', async () => {
    const sut = await started({ grant: vaultGroupGrant() });
    const approved = await approve(sut, people.alice);
    await world.advance(HOUR);
    expect(await refusalOf(sut.executeUpdate(extendUpdate, { args: [{ actor: people.alice, addMs: HOUR }] }))).toBe(
      REFUSAL.forbidden,
    );
    expect(await refusalOf(sut.executeUpdate(extendUpdate, { args: [{ actor: people.bob, addMs: 5 * HOUR }] }))).toBe(
      REFUSAL.invalid,
    );
    const extended = await sut.executeUpdate(extendUpdate, {
      args: [{ actor: people.bob, addMs: 2 * HOUR, justification: 'migration overran' }],
    });
    const newEnd = Date.parse(approved.grant!.endsAt) + 2 * HOUR;
    expect(extended.grant!.endsAt).toBe(new Date(newEnd).toISOString());
    expect(extended.extensions).toEqual([
      expect.objectContaining({ by: people.bob.id, addedMs: 2 * HOUR, newEndsAt: extended.grant!.endsAt }),
    ]);
    expect((await sut.describe()).typedSearchAttributes.get(SA_GRANT_ENDS_AT)?.toISOString()).toBe(
      extended.grant!.endsAt,
    );

    await world.advance(7 * HOUR + 60_000); // past the original end
    expect((await stateOf(sut)).status).toBe('ACTIVE');
    expect(world.port.writes()).toEqual(['grantGroupPermissions']);
    await world.advance(2 * HOUR);
    const final = await sut.result();
    expect(final.status).toBe('EXPIRED');
    expect(Date.parse(final.grant!.revokedAt!)).toBeGreaterThanOrEqual(newEnd);
    expect(world.port.writes()).toEqual(['grantGroupPermissions', 'revokeGroupPermissions']);
    await recordHistory(sut, 'extended-then-expired');
  });

  it('an extension that the flow says must be re-approved takes effect only once approved', async () => {
    const sut = await started({
      grant: vaultGroupGrant(),
      extensions: { maxCount: 2, maxExtensionMs: 4 * HOUR, requireApproval: true },
    });
    const approved = await approve(sut, people.alice);
    const asked = await sut.executeUpdate(extendUpdate, { args: [{ actor: people.bob, addMs: HOUR }] });
    expect(asked.pendingExtension).toMatchObject({ requestedBy: people.bob.id, addedMs: HOUR, approvals: [] });
    expect(asked.grant!.endsAt).toBe(approved.grant!.endsAt);
    // Rejected: the grant stays as it was, and the requester may ask again.
    await sut.executeUpdate(rejectUpdate, { args: [{ actor: people.alice, comment: 'not now' }] });
    expect((await stateOf(sut)).pendingExtension).toBeUndefined();
    await sut.executeUpdate(extendUpdate, { args: [{ actor: people.bob, addMs: 2 * HOUR }] });
    const extended = await approve(sut, people.alice);
    expect(extended.pendingExtension).toBeUndefined();
    expect(extended.extensions).toEqual([expect.objectContaining({ by: people.bob.id, addedMs: 2 * HOUR })]);
    expect(Date.parse(extended.grant!.endsAt)).toBe(Date.parse(approved.grant!.endsAt) + 2 * HOUR);
    await world.advance(10 * HOUR + 60_000);
    expect((await sut.result()).status).toBe('EXPIRED');
    expect(world.port.writes()).toEqual(['grantGroupPermissions', 'revokeGroupPermissions']);
    await recordHistory(sut, 'extension-reapproved');
  });

  it('the catalog workflow lists every vault and item, on a schedule and on demand', async () => {
    const sut = await world.client.workflow.start(catalogWorkflow, {
      workflowId: `${CATALOG_WORKFLOW_ID}-${world.integration}`,
      taskQueue: world.taskQueue,
      args: [{ integrations: [world.integration], refreshIntervalMs: HOUR }],
    });
    const first = await eventually(async () => {
      const catalog = await sut.query(catalogQuery);
      expect(catalog).toBeDefined();
      return catalog!;
    });
    expect(first.vaults.map((vault) => vault.vaultId)).toEqual(['vlt_prod', 'vlt_staging', 'vlt_oncall']);
    expect(first.items.map((item) => item.itemId)).toEqual(
      expect.arrayContaining(['itm_prod_db', 'itm_stripe_key', 'itm_staging_db', 'itm_runbook']),
    );
    expect(first.items.find((item) => item.itemId === 'itm_prod_db')).toMatchObject({
      integration: world.integration,
      tags: ['owner:security', 'env:prod'],
    });
    expect(world.port.callsOf('listVaults')).toHaveLength(1);
    const refreshed = await sut.executeUpdate(refreshCatalogUpdate);
    expect(refreshed.vaults).toHaveLength(3);
    expect(world.port.callsOf('listVaults')).toHaveLength(2);
    await world.advance(HOUR + 60_000);
    await eventually(() => Promise.resolve(expect(world.port.callsOf('listVaults')).toHaveLength(3)));
    await sut.terminate('test finished');
  });

  it('a worker killed between the grant and its completion leads to one effective grant', async () => {
    await world.dispose();
    world = await WorkflowTestWorld.create(env); // workers of its own, so one can be killed
    let releaseHeldCall!: () => void;
    world.port.holdAfterEffect(
      'createShareLink',
      new Promise<void>((resolve) => {
        releaseHeldCall = resolve;
      }),
    );
    // No workflow cache: the Java test server never moves a sticky workflow task to the normal queue, so a
    // dead worker's sticky queue would hold the workflow (the real server falls back after 5 s).
    const doomed = await world.startWorker({
      shutdownGraceTime: '100 ms',
      shutdownForceTime: '500 ms',
      maxCachedWorkflows: 0,
    });
    const sut = await world.start(requestInput(flow({ grant: shareLinkGrant() })));
    await sut.startUpdate(approveUpdate, {
      args: [{ actor: people.alice }],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    // 1Password made the link, but the worker dies before it could report the result.
    await eventually(() => Promise.resolve(expect(world.port.callsOf('createShareLink')).toHaveLength(1)));
    doomed.worker.shutdown();
    await expect(doomed.running).rejects.toThrow();
    releaseHeldCall();

    await world.startWorker();
    // The lost attempt times out on its heartbeat (5 s) and is retried on the new worker.
    await eventually(async () => expect((await stateOf(sut)).status).toBe('ACTIVE'), 60_000);
    const calls = world.port.callsOf('createShareLink');
    expect(calls).toHaveLength(2);
    expect(new Set(calls.map((call) => (call.args[0] as { idempotencyKey: string }).idempotencyKey))).toEqual(
      new Set([`${sut.workflowId}:grant`]),
    );
    const links = (await world.port.local.readState()).shareLinks;
    expect(links).toHaveLength(1);
    const access = await sut.query(grantAccessQuery);
    expect(access!.shareUrl).toContain(links[0].id);

    await world.advance(8 * HOUR);
    expect((await sut.result()).status).toBe('EXPIRED');
    expect((await world.port.local.readState()).shareLinks).toHaveLength(1);
    await recordHistory(sut, 'worker-killed-during-grant');
  });
});
