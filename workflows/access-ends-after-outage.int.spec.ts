import { vaultLeaseWorkflowId } from '../domain/ids';
import { OnePasswordError } from '../onepassword/port';
import { historyJson, recordHistory } from '../test/support/histories';
import { DAY, HOUR, people, vaultGroupGrant } from '../test/support/snapshots';
import { approve, eventually, stateOf, useTimeSkippingWorld } from '../test/support/time-skipping';

/**
 * A month without 1Password while access is being ended, on a time-skipping server of its own (about
 * four thousand attempts run in this file): Temporal retries the end without adding to history, admins
 * hear of it once, and access ends as soon as 1Password answers again.
 */
const suite = useTimeSkippingWorld();
const { started } = suite;

const MINUTE = 60_000;
const unavailable = () => new OnePasswordError('unavailable', '1Password is unavailable');

async function eventCount(handle: Parameters<typeof historyJson>[0]): Promise<number> {
  return (JSON.parse(await historyJson(handle)) as { events: unknown[] }).events.length;
}

describe('access ends after a long outage (time-skipping server)', () => {
  it('a 30-day 1Password outage during the end keeps histories small, alerts once, and access ends when it answers', async () => {
    const sut = await started({ grant: vaultGroupGrant(), revokeAlertAfterMs: 15 * MINUTE });
    const lease = suite.world.client.workflow.getHandle(
      vaultLeaseWorkflowId(suite.world.integration, 'vlt_oncall', 'grp_engineering'),
    );
    expect((await approve(sut, people.alice)).status).toBe('ACTIVE');
    suite.world.port.startOutage(unavailable());
    await suite.world.advance(8 * HOUR + MINUTE);
    await eventually(async () => expect((await stateOf(sut)).status).toBe('ENDING'));
    for (let day = 0; day < 30; day++) await suite.world.advance(DAY);

    const ending = await stateOf(sut);
    expect(ending.status).toBe('ENDING');
    expect(ending.ending?.alertedAt).toBeDefined();
    expect(suite.world.notifier.ofKind('revoke-failing')).toHaveLength(1);
    expect(await suite.groupPermissions('vlt_oncall')).toHaveLength(1);
    expect(await eventCount(sut)).toBeLessThan(1_000);
    expect(await eventCount(lease)).toBeLessThan(1_000);
    const attempts = suite.world.port.callsOf('revokeGroupPermissions').length;
    expect(attempts).toBeGreaterThan(30 * 24); // Temporal kept trying, at most ten minutes apart

    suite.world.port.restore();
    await suite.world.advance(15 * MINUTE);
    const final = await sut.result();
    expect(final.status).toBe('EXPIRED');
    expect(final.grant!.endedBy).toBe('group-permissions-removed');
    expect(await suite.groupPermissions('vlt_oncall')).toEqual([]);
    await recordHistory(sut, 'outage-30-days-then-expired');
  }, 600_000);
});
