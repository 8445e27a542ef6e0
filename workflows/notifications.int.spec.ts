import { approve, eventually, reject, revoke, stateOf, useTimeSkippingWorld } from '../test/support/time-skipping';
import { HOUR, people, REQUESTER, requestInput } from '../test/support/snapshots';
import { recordHistory } from '../test/support/histories';
import { extendUpdate } from '../contracts/messages';
import { toSign } from '../test/support/commands';

const suite = useTimeSkippingWorld();
/** Until the check passes (the workflow's notifications go out in the background). */
const soon = <T>(check: () => T) => eventually(() => Promise.resolve().then(check));
const MINUTE = 60_000;

/** A two-hour grant whose flow warns 15 minutes before its end; alice and carol may approve. */
const flow = () =>
  suite.flow({
    durationMs: 2 * HOUR,
    approval: {
      automatic: false,
      tiers: [
        {
          approvers: [
            { kind: 'user', id: people.alice.id },
            { kind: 'user', id: people.carol.id },
          ],
          threshold: { kind: 'any' },
        },
      ],
      allowSelfApproval: false,
    },
    notify: { warnBeforeEndMs: 15 * MINUTE, channels: ['email', 'slack'] },
  });

describe('notifications of a request (time-skipping server)', () => {
  it('tells the decision to the requester and the approvers, updating the messages that asked them', async () => {
    const sut = await suite.world.start(requestInput(flow()));
    await soon(() => expect(suite.world.notifier.ofKind('approval-requested')).toHaveLength(1));
    const asked = suite.world.notifier.ofKind('approval-requested')[0];
    expect(asked.details).toMatchObject({ requester: REQUESTER.id, durationMs: 2 * HOUR, ticket: 'INC-1234' });
    expect(asked.route).toEqual({ warnBeforeEndMs: 15 * MINUTE, channels: ['email', 'slack'] });

    await approve(sut, people.alice, 'go ahead');
    const decided = await soon(() => {
      const [event] = suite.world.notifier.ofKind('request-approved');
      expect(event).toBeDefined();
      return event;
    });
    expect(decided.recipients).toEqual([`user:${REQUESTER.id}`, `user:${people.alice.id}`, `user:${people.carol.id}`]);
    expect(decided.details).toEqual({ by: people.alice.id, comment: 'go ahead' });
    // The recording notifier answered the ask with a receipt (as Slack does): the decision updates that message.
    expect(decided.updates).toEqual([{ channel: 'slack', conversation: 'D0TEST', ts: expect.any(String) }]);
    // Ended, not terminated: the workflow settles its notifications first (a terminated one would leave
    // activities in flight, which hold the time-skipping server's clock for the tests after it).
    await revoke(sut, people.bob);
    expect((await sut.result()).status).toBe('REVOKED');
  });

  it('says a rejection, with who rejected and why', async () => {
    const sut = await suite.world.start(requestInput(flow()));
    await reject(sut, people.carol, 'not during the freeze');
    await sut.result();
    const [event] = suite.world.notifier.ofKind('request-rejected');
    expect(event.details).toEqual({ by: people.carol.id, comment: 'not during the freeze' });
    expect(event.updates).toHaveLength(1);
  });

  it('warns the requester at the configured time before access ends, and again before an extended end', async () => {
    const sut = await suite.world.start(requestInput(flow()));
    const active = await approve(sut, people.alice);
    expect(active.status).toBe('ACTIVE');
    const endsAt = Date.parse(active.grant!.endsAt);

    await suite.world.advance(2 * HOUR - 20 * MINUTE);
    expect(suite.world.notifier.ofKind('access-ending-soon')).toEqual([]);
    await suite.world.advance(10 * MINUTE);
    const [warning] = await soon(() => {
      const events = suite.world.notifier.ofKind('access-ending-soon');
      expect(events).toHaveLength(1);
      return events;
    });
    // At the timer's instant (the event's time is its workflow task's, a few milliseconds later).
    expect(Date.parse(warning.at) - (endsAt - 15 * MINUTE)).toBeGreaterThanOrEqual(0);
    expect(Date.parse(warning.at) - (endsAt - 15 * MINUTE)).toBeLessThan(1_000);
    expect(warning.recipients).toEqual([`user:${REQUESTER.id}`]);
    expect(warning.details).toEqual({ endsAt: active.grant!.endsAt, canExtend: true });

    // The requester extends by an hour (the flow needs no re-approval): a new warning comes before the new end.
    const extended = await sut.executeUpdate(extendUpdate, {
      args: [toSign({ actor: people.bob, addMs: HOUR, justification: 'the migration runs long' })],
    });
    expect(Date.parse(extended.grant!.endsAt)).toBe(endsAt + HOUR);
    await suite.world.advance(HOUR);
    const warnings = await soon(() => {
      const events = suite.world.notifier.ofKind('access-ending-soon');
      expect(events).toHaveLength(2);
      return events;
    });
    expect(Date.parse(warnings[1].at) - (endsAt + HOUR - 15 * MINUTE)).toBeGreaterThanOrEqual(0);
    expect(Date.parse(warnings[1].at) - (endsAt + HOUR - 15 * MINUTE)).toBeLessThan(1_000);
    await suite.world.advance(20 * MINUTE);
    expect((await sut.result()).status).toBe('EXPIRED');
    await recordHistory(sut, 'warned-before-end-and-extended');
  });

  it('does not wait for a channel that is down: the grant is made at once and the request goes on', async () => {
    for (const kind of ['approval-requested', 'request-approved', 'access-granted'] as const)
      suite.world.notifier.failing.add(kind);
    const sut = await suite.world.start(requestInput(flow()));
    const active = await approve(sut, people.alice);
    expect(active.status).toBe('ACTIVE');
    // Granted within the approval's own workflow task and activity: no notification's retries came first.
    expect(Date.parse(active.grant!.grantedAt) - Date.parse(active.approvals[0].at)).toBeLessThan(1_000);
    expect((await stateOf(sut)).status).toBe('ACTIVE');
    await revoke(sut, people.bob);
    expect((await sut.result()).status).toBe('REVOKED');
    // Each failing notification was tried, and given up on, without the request waiting for it.
    expect(suite.world.notifier.ofKind('request-approved').length).toBeGreaterThan(1);
  });
});
