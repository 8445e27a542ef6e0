import { toSign } from '../test/support/commands';
import { approve, eventually, refusalOf, reject, stateOf, useTimeSkippingWorld } from '../test/support/time-skipping';
import { HOUR, people, shareLinkGrant } from '../test/support/snapshots';
import { recordHistory } from '../test/support/histories';
import { extendUpdate, REFUSAL } from '../contracts/messages';
import { ADMINS } from '../contracts/notifications';
import { SA_BREAK_GLASS, SA_PENDING_APPROVERS } from '../contracts/search-attributes';
import type { BreakGlassSpec } from '../contracts/snapshot';
import { NOT_RATIFIED } from './access-request/break-glass';

const suite = useTimeSkippingWorld();
const MINUTE = 60_000;

/** Break-glass under the flow's rules: security ratifies within 30 minutes, or access ends then. */
const breakGlass = (onNotRatified: BreakGlassSpec['onNotRatified'] = 'end'): BreakGlassSpec => ({
  ratifyWithinMs: 30 * MINUTE,
  ratifiers: [{ kind: 'group', id: 'security' }],
  onNotRatified,
});

describe('break-glass access (time-skipping server)', () => {
  it('is granted at once, everyone is told, and once ratified it lasts to its end', async () => {
    const sut = await suite.started({ breakGlass: breakGlass(), durationMs: HOUR });
    const active = await eventually(async () => {
      const state = await stateOf(sut);
      expect(state.status).toBe('ACTIVE');
      return state;
    });
    expect(active.approvals).toEqual([]);
    // Thirty minutes from the moment the request was accepted, moments before its workflow started.
    expect(Date.parse(active.breakGlass!.ratifyBy) - Date.parse(active.requestedAt)).toBe(30 * MINUTE);
    const acceptedBeforeStart = (await sut.describe()).startTime.getTime() - Date.parse(active.requestedAt);
    expect(acceptedBeforeStart).toBeGreaterThanOrEqual(0);
    expect(acceptedBeforeStart).toBeLessThan(10_000);
    expect(Object.keys(active.breakGlass!)).toEqual(['ratifyBy']);
    const [told] = await suite.world.notifier.told('break-glass-granted');
    expect(told.recipients).toEqual(expect.arrayContaining(['user:u-alice', 'group:security']));
    expect(told.details).toMatchObject({ urgent: true, ratifyBy: active.breakGlass!.ratifyBy });
    // Ratifiers find it among what waits for them; it is marked as break-glass.
    const attributes = (await sut.describe()).typedSearchAttributes;
    expect(attributes.get(SA_BREAK_GLASS)).toBe('awaiting-ratification');
    expect(attributes.get(SA_PENDING_APPROVERS)).toEqual(['group:security']);

    // Not by its requester, not by someone outside the ratifiers; no extension before it is ratified.
    expect(await refusalOf(approve(sut, people.bob))).toBe(REFUSAL.forbidden);
    expect(await refusalOf(approve(sut, people.mallory))).toBe(REFUSAL.forbidden);
    expect(
      await refusalOf(sut.executeUpdate(extendUpdate, { args: [toSign({ actor: people.bob, addMs: HOUR })] })),
    ).toBe(REFUSAL.conflict);

    await suite.world.advance(10 * MINUTE);
    const ratified = await approve(sut, people.carol, 'INC-1234 confirmed');
    expect(ratified.breakGlass!.ratification).toMatchObject({ by: people.carol.id, comment: 'INC-1234 confirmed' });
    expect((await sut.describe()).typedSearchAttributes.get(SA_BREAK_GLASS)).toBe('ratified');
    expect(await refusalOf(approve(sut, people.dave))).toBe(REFUSAL.conflict);
    expect((await suite.world.notifier.told('break-glass-ratified'))[0].recipients).toContain('user:u-bob');

    // Past the ratification deadline, on to the grant's own end.
    await suite.world.advance(30 * MINUTE);
    expect((await stateOf(sut)).status).toBe('ACTIVE');
    await suite.world.advance(30 * MINUTE);
    const final = await sut.result();
    expect(final.status).toBe('EXPIRED');
    expect(final.revocation).toBeUndefined();
    expect(final.grant!.endedBy).toBe('link-left-to-expire');
    expect(suite.world.notifier.ofKind('break-glass-not-ratified')).toEqual([]);
    expect(suite.world.port.writes()).toEqual(['createShareLink']);
    await recordHistory(sut, 'break-glass-ratified');
  });

  it('ends at the deadline when nobody ratified it, replaces the secret (end-and-rotate) and alerts admins', async () => {
    const sut = await suite.started({
      breakGlass: breakGlass('end-and-rotate'),
      grant: shareLinkGrant(),
      durationMs: HOUR,
    });
    const active = await eventually(async () => {
      const state = await stateOf(sut);
      expect(state.status).toBe('ACTIVE');
      return state;
    });
    await suite.world.advance(31 * MINUTE);
    const final = await sut.result();
    expect(final.status).toBe('REVOKED');
    expect(final.revocation).toMatchObject({ by: NOT_RATIFIED });
    expect(final.breakGlass!.refusal).toMatchObject({ by: NOT_RATIFIED });
    // Ended at the deadline, not at the grant's end an hour after it was granted.
    const ratifyBy = Date.parse(active.breakGlass!.ratifyBy);
    expect(Date.parse(final.grant!.revokedAt!)).toBeGreaterThanOrEqual(ratifyBy);
    expect(Date.parse(final.grant!.revokedAt!)).toBeLessThan(ratifyBy + 5 * MINUTE);
    // A plain share link names no rotator: the item's secret is replaced in 1Password.
    expect(final.grant!.endedBy).toBe('item-secret-replaced');
    expect(suite.world.port.writes()).toEqual(['createShareLink', 'setItemSecret']);
    const [alert] = suite.world.notifier.ofKind('break-glass-not-ratified');
    expect(alert.recipients).toEqual(expect.arrayContaining([ADMINS, 'user:u-bob', 'group:security']));
    expect(alert.details).toMatchObject({ urgent: true, by: NOT_RATIFIED, rotates: true });
    expect((await sut.describe()).typedSearchAttributes.get(SA_BREAK_GLASS)).toBe('not-ratified');
    expect((await sut.describe()).typedSearchAttributes.get(SA_PENDING_APPROVERS)).toBeUndefined();
    await recordHistory(sut, 'break-glass-not-ratified');
  });

  it('ends at once when a ratifier refuses it', async () => {
    const sut = await suite.started({ breakGlass: breakGlass('end'), durationMs: HOUR });
    await eventually(async () => expect((await stateOf(sut)).status).toBe('ACTIVE'));
    const refused = await reject(sut, people.alice, 'no incident open');
    expect(refused.status).toBe('REVOKED');
    expect(refused.breakGlass!.refusal).toMatchObject({ by: people.alice.id, comment: 'no incident open' });
    expect(refused.revocation).toMatchObject({ by: people.alice.id });
    expect(refused.grant!.endedBy).toBe('link-left-to-expire');
    expect(suite.world.port.writes()).toEqual(['createShareLink']);
    // Notifications go out in the background: the alert follows the answer.
    const [alert] = await suite.world.notifier.told('break-glass-not-ratified');
    expect(alert.recipients).toContain(ADMINS);
  });
});
