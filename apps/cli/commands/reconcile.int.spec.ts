import { LocalOnePassword } from '../../../onepassword/local/local-onepassword';
import { ApiWorld, PEOPLE } from '../../../test/support/api-world';
import type { CommandIo } from '../io';
import { runReconcileCommand } from './reconcile';
import { databaseLoginItemTitle, databaseLoginRole, terminatedRotationWorkflowId } from '../../../domain/ids';
import { adminQuery } from '../../../test/support/postgres';
import { rotateAfterTerminationWorkflow } from '../../../workflows/reconcile';

function capture(): CommandIo & { stdout: string[] } {
  const stdout: string[] = [];
  return { stdout, out: (text) => stdout.push(text), err: (text) => stdout.push(text) };
}

describe('latchkey reconcile, on a real dev server with the local 1Password', () => {
  let world: ApiWorld;
  let local: LocalOnePassword;

  beforeAll(async () => {
    world = await ApiWorld.create('cli-reconcile');
    local = new LocalOnePassword({ stateFile: world.config.localOnePassword.stateFile });
  });
  afterAll(() => world?.dispose());

  const permissionsOn = async (vaultId: string) =>
    (await local.readState()).vaults
      .find((vault) => vault.id === vaultId)!
      .groupPermissions.map((entry) => ({
        groupId: entry.groupId,
        permissions: entry.permissions,
      }));

  it('names a permission added by hand in a dry run, removes it for real, and leaves the one a grant needs', async () => {
    // An active grant: engineering on the on-call vault, through the API.
    const created = await world.call('POST', '/v1/requests', {
      as: PEOPLE.alice,
      json: { resourceId: 'oncall-vault', duration: 'PT1H', justification: 'reconcile test: on call tonight' },
    });
    expect(created.status).toBe(201);
    const approved = await world.call('POST', `/v1/requests/${created.body.requestId}/approve`, {
      as: PEOPLE.bob,
      json: {},
    });
    expect(approved.body.status).toBe('ACTIVE');
    // Someone gives security the vault by hand, in 1Password.
    await local.grantGroupPermissions({ vaultId: 'vlt_oncall', groupId: 'grp_security', permissions: ['read_items'] });

    const dry = capture();
    expect(await runReconcileCommand(['--dry-run'], dry, world.config)).toBe(1);
    expect(dry.stdout).toEqual([
      'unexplained demo: group grp_security on vault vlt_oncall [read_items]: would remove (dry run)',
      expect.stringMatching(/^2 managed vault\(s\) read, [1-9]\d* active grant\(s\), 1 difference\(s\)$/),
    ]);
    expect(await permissionsOn('vlt_oncall')).toHaveLength(2);

    const real = capture();
    expect(await runReconcileCommand([], real, world.config)).toBe(1);
    expect(real.stdout[0]).toBe('unexplained demo: group grp_security on vault vlt_oncall [read_items]: removed');
    expect(await permissionsOn('vlt_oncall')).toEqual([
      { groupId: 'grp_engineering', permissions: ['read_items', 'reveal_item_password'] },
    ]);

    const again = capture();
    expect(await runReconcileCommand([], again, world.config)).toBe(0);
    expect(again.stdout).toEqual([expect.stringMatching(/, 0 difference\(s\)$/)]);
    // The grant that needed its permission is untouched and still active.
    const state = await world.call('GET', `/v1/requests/${created.body.requestId}`, { as: PEOPLE.alice });
    expect(state.body.status).toBe('ACTIVE');
  });

  it('reports an active grant whose permission someone removed by hand, and does not re-grant it', async () => {
    const before = await permissionsOn('vlt_oncall');
    expect(before.map((entry) => entry.groupId)).toContain('grp_engineering');
    await local.revokeGroupPermissions({ vaultId: 'vlt_oncall', groupId: 'grp_engineering' });
    const io = capture();
    expect(await runReconcileCommand([], io, world.config)).toBe(1);
    expect(io.stdout[0]).toMatch(
      /^missing {5}demo: group grp_engineering on vault vlt_oncall \[read_items, reveal_item_password\] \(requests req_[0-9a-z]+\): reported$/,
    );
    expect(await permissionsOn('vlt_oncall')).toEqual([]);
  });
});

describe('latchkey reconcile after an operator terminated requests', () => {
  let world: ApiWorld;
  let local: LocalOnePassword;

  beforeAll(async () => {
    world = await ApiWorld.create('cli-reconcile-terminated');
    local = new LocalOnePassword({ stateFile: world.config.localOnePassword.stateFile });
  });
  afterAll(() => world?.dispose());

  /** Visibility follows the workflows a moment later, and the reconciler reads it. */
  async function untilVisible(query: string, count: number): Promise<void> {
    for (let tries = 0; (await world.client.workflow.count(query)).count < count && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function activeRequest(resourceId: string): Promise<string> {
    const created = await world.call('POST', '/v1/requests', {
      as: PEOPLE.alice,
      json: { resourceId, duration: 'PT1H', justification: 'reconcile test: terminated by an operator' },
    });
    const approved = await world.call('POST', `/v1/requests/${created.body.requestId}/approve`, {
      as: PEOPLE.bob,
      json: {},
    });
    expect(approved.body.status).toBe('ACTIVE');
    return created.body.requestId as string;
  }

  it('drops the vault lease holder of a terminated request (removing its permission) and rotates a secret never rotated', async () => {
    const vaultRequest = await activeRequest('oncall-vault');
    const rotateRequest = await activeRequest('stripe-key');
    const versionBefore = (await local.getItem('vlt_prod', 'itm_stripe_key')).version;
    for (const id of [vaultRequest, rotateRequest]) {
      await world.client.workflow.getHandle(`AccessRequest:${id}`).terminate('an operator cleaned up');
    }
    const terminated = `ExecutionStatus = 'Terminated' AND WorkflowId IN ('AccessRequest:${vaultRequest}', 'AccessRequest:${rotateRequest}')`;
    await untilVisible(terminated, 2);

    const io = capture();
    expect(await runReconcileCommand([], io, world.config)).toBe(1);
    expect(io.stdout).toEqual(
      expect.arrayContaining([
        `unrotated   demo: item itm_stripe_key in vault vlt_prod (requests ${rotateRequest}): secret rotated`,
        'unexplained demo: group grp_engineering on vault vlt_oncall [read_items, reveal_item_password]: removed',
      ]),
    );
    expect((await local.getItem('vlt_prod', 'itm_stripe_key')).version).toBe(versionBefore + 1);
    const oncall = (await local.readState()).vaults.find((vault) => vault.id === 'vlt_oncall')!;
    expect(oncall.groupPermissions).toEqual([]);

    // 1Password takes no idempotency key: the next pass finds the rotation's workflow and rotates nothing more.
    const again = capture();
    await runReconcileCommand([], again, world.config);
    expect(again.stdout.join('\n')).not.toContain(rotateRequest);
    expect((await local.getItem('vlt_prod', 'itm_stripe_key')).version).toBe(versionBefore + 1);
  });

  it('drops the database login of a terminated database-role request, and deletes its item', async () => {
    const created = await world.call('POST', '/v1/requests', {
      as: PEOPLE.alice,
      json: {
        resourceId: 'reporting-login',
        duration: 'PT1H',
        justification: 'reconcile test: terminated by an operator',
      },
    });
    const id = created.body.requestId as string;
    const role = databaseLoginRole(id);
    for (let tries = 0; tries < 100; tries++) {
      const state = await world.call('GET', `/v1/requests/${id}`, { as: PEOPLE.alice });
      if (state.body.status === 'ACTIVE') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const roles = () => adminQuery('select rolname from pg_roles where rolname = $1', [role]);
    expect(await roles()).toHaveLength(1);
    expect(await local.findItemId('vlt_logins', databaseLoginItemTitle(id))).toBeDefined();
    await world.client.workflow.getHandle(`AccessRequest:${id}`).terminate('an operator cleaned up');
    await untilVisible(`ExecutionStatus = 'Terminated' AND WorkflowId = 'AccessRequest:${id}'`, 1);

    const io = capture();
    expect(await runReconcileCommand([], io, world.config)).toBe(1);
    expect(io.stdout).toContain(
      `unrotated   demo: database login ${role}, its item in vault vlt_logins (requests ${id}): login dropped and its item deleted`,
    );
    expect(await roles()).toEqual([]);
    expect(await local.findItemId('vlt_logins', databaseLoginItemTitle(id))).toBeUndefined();
  });

  it('rotates again when an operator stopped the rotation of an earlier pass', async () => {
    const id = await activeRequest('stripe-key');
    const workflowId = `AccessRequest:${id}`;
    await world.client.workflow.getHandle(workflowId).terminate('an operator cleaned up');
    // An earlier pass's rotation that an operator terminated before it ran (no worker on its queue).
    const stopped = await world.client.workflow.start(rotateAfterTerminationWorkflow, {
      workflowId: terminatedRotationWorkflowId(workflowId),
      taskQueue: 'nobody-polls-this-queue',
      args: [{ integration: 'demo', vaultId: 'vlt_prod', itemId: 'itm_stripe_key', workflowId, requestId: id }],
    });
    await stopped.terminate('an operator stopped the rotation');
    const terminated = `ExecutionStatus = 'Terminated' AND WorkflowId = '${workflowId}'`;
    await untilVisible(terminated, 1);
    const versionBefore = (await local.getItem('vlt_prod', 'itm_stripe_key')).version;

    const io = capture();
    await runReconcileCommand([], io, world.config);
    expect(io.stdout).toContain(
      `unrotated   demo: item itm_stripe_key in vault vlt_prod (requests ${id}): secret rotated`,
    );
    expect((await local.getItem('vlt_prod', 'itm_stripe_key')).version).toBe(versionBefore + 1);
  });

  it('leaves alone a request an operator reset: it goes on in a newer run, which ends access itself', async () => {
    const id = await activeRequest('stripe-key');
    const handle = world.client.workflow.getHandle(`AccessRequest:${id}`);
    const history = await handle.fetchHistory();
    const lastTask = (history.events ?? []).filter((event) => event.workflowTaskCompletedEventAttributes).at(-1)!;
    await world.client.workflowService.resetWorkflowExecution({
      namespace: world.client.options.namespace,
      workflowExecution: { workflowId: handle.workflowId },
      reason: 'an operator reset it',
      workflowTaskFinishEventId: lastTask.eventId,
      requestId: `reset-${id}`,
    });
    const versionBefore = (await local.getItem('vlt_prod', 'itm_stripe_key')).version;
    const io = capture();
    await runReconcileCommand([], io, world.config);
    expect(io.stdout.join('\n')).not.toContain(id);
    expect((await local.getItem('vlt_prod', 'itm_stripe_key')).version).toBe(versionBefore);
  });
});
