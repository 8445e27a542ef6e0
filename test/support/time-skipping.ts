import { toSign } from './commands';
import { type WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Actor, Identity } from '../../contracts/identity';
import { approveUpdate, rejectUpdate, revokeUpdate, stateQuery } from '../../contracts/messages';
import type { AccessRequestState } from '../../contracts/request';
import type { FlowSnapshot } from '../../contracts/snapshot';
import { TimeSkippingServer } from './temporal';
import type { accessRequestWorkflow } from '../../workflows/access-request/workflow';
import { registerSearchAttributes, SharedWorker, WorkflowTestWorld } from './workflow-world';
import { REQUESTER, requestInput, snapshot } from './snapshots';

export type RequestHandle = WorkflowHandle<typeof accessRequestWorkflow>;

/** Retries `check` in real time until it passes: activities run in real time while timers are skipped. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
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
export async function refusalOf(update: Promise<unknown>): Promise<string | null | undefined> {
  try {
    await update;
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure)
      return error.cause.type;
    throw error;
  }
  throw new Error('the update was accepted');
}

export const stateOf = (handle: RequestHandle): Promise<AccessRequestState> => handle.query(stateQuery);

export const approve = (handle: RequestHandle, actor: Actor, comment?: string) =>
  handle.executeUpdate(approveUpdate, { args: [toSign({ actor, comment })] });

export const reject = (handle: RequestHandle, actor: Actor, comment?: string) =>
  handle.executeUpdate(rejectUpdate, { args: [toSign({ actor, comment })] });

export const revoke = (handle: RequestHandle, actor: Actor, reason?: string) =>
  handle.executeUpdate(revokeUpdate, { args: [toSign({ actor, reason })] });

/**
 * One time-skipping test server per test file, one shared worker on it, and a fresh world (task
 * queue, integration name, recording 1Password port) per test. Registers the jest hooks.
 */
export function useTimeSkippingWorld() {
  let env: TimeSkippingServer;
  let current: WorkflowTestWorld;
  const shared = new SharedWorker();

  beforeAll(async () => {
    env = await TimeSkippingServer.start();
    await registerSearchAttributes(env);
    await shared.start(env);
  }, 120_000);
  afterAll(async () => {
    await shared.stop();
    await env?.teardown();
  }, 60_000);
  beforeEach(async () => {
    current = await WorkflowTestWorld.create(env, shared);
  }, 60_000);
  afterEach(async () => {
    await current.dispose();
  }, 60_000);

  const suite = {
    get env(): TimeSkippingServer {
      return env;
    },
    get world(): WorkflowTestWorld {
      return current;
    },
    /** Replaces this test's world, e.g. with one whose workers it may kill. */
    set world(next: WorkflowTestWorld) {
      current = next;
    },
    /** The flow of this test, on the test's own integration name (vault-lease entities are per integration). */
    flow(overrides: Partial<FlowSnapshot> = {}): FlowSnapshot {
      const base = snapshot(overrides);
      return { ...base, integration: { ...base.integration, name: current.integration } };
    },
    started(overrides: Partial<FlowSnapshot> = {}, requester: Identity = REQUESTER): Promise<RequestHandle> {
      return current.start(requestInput(suite.flow(overrides), requester));
    },
    /** Group permissions the local 1Password holds on a vault right now. */
    async groupPermissions(vaultId: string) {
      const state = await current.port.local.readState();
      return state.vaults.find((vault) => vault.id === vaultId)!.groupPermissions;
    },
  };
  return suite;
}
