import { policyEligibility } from '../apps/worker/eligibility';
import { toSign } from '../test/support/commands';
import { CATALOG, edit, VALID_POLICY } from '../test/support/policy-fixtures';
import { HOUR, people, REQUESTER, requestInput } from '../test/support/snapshots';
import { approve, eventually, revoke, stateOf, useTimeSkippingWorld } from '../test/support/time-skipping';
import { recordHistory } from '../test/support/histories';
import { cancelUpdate } from '../contracts/messages';
import type { FlowSnapshot } from '../contracts/snapshot';
import { evaluateRequest, type LoadedPolicy, parsePolicy } from '../policy';

const suite = useTimeSkippingWorld();
const FILE = '/etc/latchkey/policy.yaml';
const POLICY = parsePolicy(VALID_POLICY, FILE);
/** The same policy, after engineering lost production: u-bob, in engineering, may not have prod-db any more. */
const STRICTER = parsePolicy(
  edit(VALID_POLICY, '      - group: engineering\n      - user: zoe', '      - user: zoe'),
  FILE,
);

/** u-bob's prod-db request for two hours, as the API would make it under `POLICY`, to start `inMs` from now. */
async function scheduled(inMs: number) {
  const evaluation = evaluateRequest(POLICY, CATALOG, REQUESTER, {
    resourceId: 'prod-db',
    duration: 'PT2H',
    justification: 'Investigating incident INC-1234',
    ticket: 'INC-1234',
  });
  if (!evaluation.ok) throw new Error(JSON.stringify(evaluation.refusal));
  // The fixture's owner group is `dba`: alice approves as one of them here.
  const snapshot: FlowSnapshot = {
    ...evaluation.snapshot,
    approval: {
      ...evaluation.snapshot.approval,
      tiers: [{ approvers: [{ kind: 'user', id: people.alice.id }], threshold: { kind: 'any' } }],
    },
  };
  const startAt = new Date((await suite.env.currentTimeMs()) + inMs).toISOString();
  return suite.world.start({ ...requestInput(suite.flow(snapshot)), startAt });
}

function policyOfTheWorker(policy: () => LoadedPolicy) {
  suite.world.eligibility = policyEligibility(policy, () => Promise.resolve(CATALOG));
}

describe('scheduled access (time-skipping server)', () => {
  it('is approved ahead and granted at its start, not before, when its requester is still eligible', async () => {
    policyOfTheWorker(() => POLICY);
    const sut = await scheduled(3 * HOUR);
    const approved = await approve(sut, people.alice, 'fine for the maintenance window');
    expect(approved.status).toBe('APPROVED');
    expect(approved.scheduledStart).toBeDefined();
    await suite.world.advance(2 * HOUR);
    expect((await stateOf(sut)).status).toBe('APPROVED');
    expect(suite.world.port.writes()).toEqual([]);

    await suite.world.advance(HOUR + 60_000);
    const active = await eventually(async () => {
      const state = await stateOf(sut);
      expect(state.status).toBe('ACTIVE');
      return state;
    });
    // The two hours count from the grant, at the scheduled start.
    expect(Date.parse(active.grant!.grantedAt)).toBeGreaterThanOrEqual(Date.parse(active.scheduledStart!));
    expect(Date.parse(active.grant!.endsAt) - Date.parse(active.grant!.grantedAt)).toBe(2 * HOUR);
    await suite.world.advance(2 * HOUR + 60_000);
    expect((await sut.result()).status).toBe('EXPIRED');
    await recordHistory(sut, 'scheduled-granted-at-start');
  });

  it('is not granted when its requester lost eligibility before the start, and says why', async () => {
    let policy = POLICY;
    policyOfTheWorker(() => policy);
    const sut = await scheduled(2 * HOUR);
    expect((await approve(sut, people.alice)).status).toBe('APPROVED');
    // The policy changes (engineering loses production) after the approval, before the start.
    policy = STRICTER;
    await suite.world.advance(2 * HOUR + 60_000);
    const final = await sut.result();
    expect(final.status).toBe('FAILED');
    expect(final.grant).toBeUndefined();
    expect(final.failure).toEqual({
      code: 'not-eligible-at-start',
      message:
        'At its start, the policy no longer lets the requester have this access: you are not among the requesters of flow "prod-access" for "prod-db" (not-eligible, flows.prod-access.requesters).',
    });
    expect(suite.world.port.writes()).toEqual([]);
    expect(suite.world.notifier.ofKind('grant-failed')[0]).toMatchObject({
      recipients: expect.arrayContaining([`user:${REQUESTER.id}`, `user:${people.alice.id}`]),
      details: { reason: 'not-eligible-at-start', rule: 'flows.prod-access.requesters' },
    });
    await recordHistory(sut, 'scheduled-not-eligible-at-start');
  });

  it('can be withdrawn or revoked until its start, and then grants nothing', async () => {
    policyOfTheWorker(() => POLICY);
    const sut = await scheduled(2 * HOUR);
    await approve(sut, people.alice);
    await suite.world.advance(HOUR);
    const withdrawn = await sut.executeUpdate(cancelUpdate, {
      args: [toSign({ actor: people.bob, reason: 'maintenance moved' })],
    });
    expect(withdrawn.status).toBe('CANCELLED');
    expect(withdrawn.cancellation).toMatchObject({ by: people.bob.id, comment: 'maintenance moved' });
    await suite.world.advance(2 * HOUR);
    expect((await sut.result()).status).toBe('CANCELLED');
    expect(suite.world.port.writes()).toEqual([]);

    // An admin's revoke (the emergency stop revokes APPROVED requests too) ends another before its start.
    const other = await scheduled(2 * HOUR);
    await approve(other, people.alice);
    const revoked = await revoke(other, people.admin, 'laptop stolen');
    expect(revoked.status).toBe('CANCELLED');
    expect(revoked.grant).toBeUndefined();
    expect(suite.world.port.writes()).toEqual([]);
  });
});
