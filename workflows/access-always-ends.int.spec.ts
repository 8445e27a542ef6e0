import { toSign } from '../test/support/commands';
import { WorkflowUpdateStage } from '@temporalio/client';
import {
  extendUpdate,
  grantAccessQuery,
  REFUSAL,
  revokeUpdate,
  approveUpdate,
  cancelUpdate,
} from '../contracts/messages';
import { leaseStateQuery } from '../contracts/vault-lease';
import { vaultLeaseWorkflowId } from '../domain/ids';
import { LEASE_HOLDER_GRACE_MS } from '../domain/vault-lease';
import { OnePasswordError } from '../onepassword/port';
import { recordHistory } from '../test/support/histories';
import { HOUR, people, shareLinkGrant, vaultGroupGrant } from '../test/support/snapshots';
import {
  approve,
  eventually,
  refusalOf,
  type RequestHandle,
  stateOf,
  useTimeSkippingWorld,
} from '../test/support/time-skipping';

/**
 * Access always ends: each way in which it once did not (issue 12), driven on the time-skipping server,
 * each test asserting what 1Password holds at the end.
 */
const suite = useTimeSkippingWorld();
const { started } = suite;

const unavailable = () => new OnePasswordError('unavailable', '1Password is unavailable');
const MINUTE = 60_000;

function lease() {
  return suite.world.client.workflow.getHandle(
    vaultLeaseWorkflowId(suite.world.integration, 'vlt_oncall', 'grp_engineering'),
  );
}

/** Moves the clock in steps, so that the retries due in between run (each attempt is real work). */
async function advanceInSteps(totalMs: number, stepMs: number): Promise<void> {
  for (let moved = 0; moved < totalMs; moved += stepMs) await suite.world.advance(Math.min(stepMs, totalMs - moved));
}

describe('access always ends (time-skipping server)', () => {
  it('a group permission 1Password applied but never confirmed is removed: the request FAILED, nothing is left', async () => {
    // Every grant call lands in 1Password and then loses its answer, until Temporal stops retrying.
    suite.world.port.applyThenFail('grantGroupPermissions', ...Array.from({ length: 20 }, unavailable));
    const sut = await started({ grant: vaultGroupGrant() });
    const approving = await sut.startUpdate(approveUpdate, {
      args: [toSign({ actor: people.alice })],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    await advanceInSteps(3 * HOUR, 10 * MINUTE);
    const final = await approving.result();
    expect(final.status).toBe('FAILED');
    expect(suite.world.port.callsOf('grantGroupPermissions')).toHaveLength(20);
    // The lease counted the permission as possibly granted, and removed it since nobody holds it.
    expect(await suite.groupPermissions('vlt_oncall')).toEqual([]);
    expect(suite.world.port.writes().at(-1)).toBe('revokeGroupPermissions');
    expect((await lease().query(leaseStateQuery)).granted).toEqual([]);
  }, 600_000);

  it('a request terminated by an operator while ACTIVE leaves nothing: its lease holder ends with its grant', async () => {
    const sut = await started({ grant: vaultGroupGrant() });
    expect((await approve(sut, people.alice)).status).toBe('ACTIVE');
    expect(await suite.groupPermissions('vlt_oncall')).toHaveLength(1);
    await suite.world.terminate(sut.workflowId, 'operator: stuck request');

    await suite.world.advance(8 * HOUR + LEASE_HOLDER_GRACE_MS - 2 * MINUTE);
    expect(await suite.groupPermissions('vlt_oncall')).toHaveLength(1);
    await suite.world.advance(4 * MINUTE);
    await eventually(async () => expect(await suite.groupPermissions('vlt_oncall')).toEqual([]));
    expect((await lease().query(leaseStateQuery)).holders).toEqual({});
  });

  it('a lease terminated by an operator is replaced by one that reads 1Password first, and access still ends', async () => {
    const sut = await started({ grant: vaultGroupGrant() });
    expect((await approve(sut, people.alice)).status).toBe('ACTIVE');
    await suite.world.terminate(lease().workflowId, 'operator: cleaning up');

    await suite.world.advance(8 * HOUR + MINUTE);
    const final = await sut.result();
    expect(final.status).toBe('EXPIRED');
    expect(final.grant!.endedBy).toBe('group-permissions-removed');
    expect(suite.world.port.callsOf('listGroupPermissions')).toHaveLength(2); // each fresh run read 1Password
    expect(await suite.groupPermissions('vlt_oncall')).toEqual([]);
  });

  it('while ENDING no Update changes the outcome and no link is handed out', async () => {
    const sut = await started({ grant: shareLinkGrant(true) });
    expect((await approve(sut, people.alice)).status).toBe('ACTIVE');
    suite.world.port.startOutage(unavailable());
    await suite.world.advance(8 * HOUR + MINUTE);
    await eventually(async () => expect((await stateOf(sut)).status).toBe('ENDING'));

    expect(await sut.query(grantAccessQuery)).toBeUndefined();
    for (const update of [
      sut.executeUpdate(extendUpdate, { args: [toSign({ actor: people.bob, addMs: HOUR })] }),
      sut.executeUpdate(revokeUpdate, { args: [toSign({ actor: people.admin })] }),
      sut.executeUpdate(approveUpdate, { args: [toSign({ actor: people.alice })] }),
      sut.executeUpdate(cancelUpdate, { args: [toSign({ actor: people.bob })] }),
    ]) {
      expect(await refusalOf(update)).toBe(REFUSAL.conflict);
    }
    suite.world.port.restore();
    await suite.world.advance(15 * MINUTE);
    const final = await sut.result();
    expect(final.status).toBe('EXPIRED');
    expect(final.grant!.endedBy).toBe('secret-rotated');
  });

  it('a withdrawal while the grant is being retried is accepted, and the request ends CANCELLED with no link', async () => {
    suite.world.port.failNext('createShareLink', ...Array.from({ length: 10 }, unavailable));
    const sut = await started({ grant: shareLinkGrant() });
    const approving = await sut.startUpdate(approveUpdate, {
      args: [toSign({ actor: people.alice })],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    await eventually(() =>
      Promise.resolve(expect(suite.world.port.callsOf('createShareLink').length).toBeGreaterThan(0)),
    );
    expect((await stateOf(sut)).status).toBe('APPROVED');

    const cancelled = await sut.executeUpdate(cancelUpdate, {
      args: [toSign({ actor: people.bob, reason: 'not needed' })],
    });
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.cancellation).toMatchObject({ by: people.bob.id, comment: 'not needed' });
    expect((await approving.result()).status).toBe('CANCELLED');
    expect((await sut.result()).grant).toBeUndefined();
    expect((await suite.world.port.local.readState()).shareLinks).toEqual([]);
    await recordHistory(sut, 'withdrawn-while-granting');
  });

  it('a revoke while the grant is being retried is accepted too, and nothing is left granted', async () => {
    suite.world.port.failNext('createShareLink', ...Array.from({ length: 10 }, unavailable));
    const sut: RequestHandle = await started({ grant: shareLinkGrant() });
    await sut.startUpdate(approveUpdate, {
      args: [toSign({ actor: people.alice })],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    await eventually(() =>
      Promise.resolve(expect(suite.world.port.callsOf('createShareLink').length).toBeGreaterThan(0)),
    );
    const revoked = await sut.executeUpdate(revokeUpdate, {
      args: [toSign({ actor: people.admin, reason: 'emergency' })],
    });
    expect(revoked.status).toBe('CANCELLED');
    expect((await suite.world.port.local.readState()).shareLinks).toEqual([]);
  });
});
