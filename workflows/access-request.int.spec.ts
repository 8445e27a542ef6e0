import { toSign } from '../test/support/commands';
import { buildAuditTimeline } from '../audit/timeline';
import { payloadDecoder } from '../codec/payload-decoder';
import { WorkflowFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import {
  approve,
  eventually,
  refusalOf,
  type RequestHandle as Handle,
  stateOf,
  useTimeSkippingWorld,
} from '../test/support/time-skipping';
import { historyJson, recordHistory } from '../test/support/histories';
import {
  anyOf,
  DAY,
  HOUR,
  people,
  REQUESTER,
  shareLinkGrant,
  snapshot,
  vaultGroupGrant,
} from '../test/support/snapshots';
import { vaultLeaseWorkflowId } from '../domain/ids';
import {
  approveUpdate,
  cancelUpdate,
  grantAccessQuery,
  REFUSAL,
  rejectUpdate,
  revokeUpdate,
} from '../contracts/messages';
import {
  SA_GRANT_ENDS_AT,
  SA_INTEGRATION,
  SA_DECIDERS,
  SA_PENDING_APPROVERS,
  SA_REQUESTER,
  SA_RESOURCE,
  SA_STATUS,
} from '../contracts/search-attributes';
import { OnePasswordError } from '../onepassword/port';

const suite = useTimeSkippingWorld();
const { started } = suite;

/** The status the workflow last published (its search attribute), read from its history. */
async function lastStatusIn(handle: Handle): Promise<string | undefined> {
  const history = await handle.fetchHistory();
  const timeline = await buildAuditTimeline(history.events ?? [], payloadDecoder(suite.world.client));
  return timeline.filter((entry) => entry.kind === 'status').at(-1)?.details?.status as string | undefined;
}

function eventTypes(historyJson: string): string[] {
  return (JSON.parse(historyJson) as { events: Array<{ eventType: string }> }).events.map((event) => event.eventType);
}

describe('accessRequestWorkflow (time-skipping server)', () => {
  it('an eight-hour vault-group grant expires at eight hours and is revoked exactly once', async () => {
    const sut = await started({ grant: vaultGroupGrant() });
    const approved = await approve(sut, people.alice, 'on call');
    // Approvers were told whom the grant reaches: every member of the 1Password group.
    expect((await suite.world.notifier.told('approval-requested'))[0].details).toMatchObject({
      onePasswordGroup: 'Engineering',
      onePasswordGroupId: 'grp_engineering',
      onePasswordGroupType: 'userDefined',
    });
    expect(approved.status).toBe('ACTIVE');
    expect(approved.approvals).toEqual([
      expect.objectContaining({ approverId: people.alice.id, comment: 'on call', tier: 0 }),
    ]);
    const grant = approved.grant!;
    expect(Date.parse(grant.endsAt) - Date.parse(grant.grantedAt)).toBe(8 * HOUR);
    expect(grant.guarantee).toEqual({ mode: 'vault-group', statement: `1Password access removed at ${grant.endsAt}` });
    expect(await suite.groupPermissions('vlt_oncall')).toEqual([
      expect.objectContaining({ groupId: 'grp_engineering', permissions: ['read_items', 'reveal_item_password'] }),
    ]);

    await suite.world.advance(8 * HOUR - 60_000);
    expect((await stateOf(sut)).status).toBe('ACTIVE');
    expect(suite.world.port.writes()).toEqual(['grantGroupPermissions']);

    await suite.world.advance(2 * 60_000);
    const final = await sut.result();
    expect(final.status).toBe('EXPIRED');
    expect(final.revocation).toBeUndefined();
    expect(final.grant).toMatchObject({ endedBy: 'group-permissions-removed' });
    expect(Date.parse(final.grant!.revokedAt!)).toBeGreaterThanOrEqual(Date.parse(grant.endsAt));
    expect(suite.world.port.writes()).toEqual(['grantGroupPermissions', 'revokeGroupPermissions']);
    expect(suite.world.port.callsOf('revokeGroupPermissions')[0].args).toEqual([
      { vaultId: 'vlt_oncall', groupId: 'grp_engineering' },
    ]);
    expect(await suite.groupPermissions('vlt_oncall')).toEqual([]);
    expect(suite.world.notifier.ofKind('access-ended')).toHaveLength(1);

    await recordHistory(sut, 'vault-group-expired');
    const lease = suite.world.client.workflow.getHandle(
      vaultLeaseWorkflowId(suite.world.integration, 'vlt_oncall', 'grp_engineering'),
    );
    await suite.world.advance(2 * HOUR); // the idle entity completes
    await lease.result();
    await recordHistory(lease, 'vault-lease-single');
  });

  it('a share-link grant gives the requester one link in the shortest covering bucket and ends truthfully', async () => {
    const sut = await started({ grant: shareLinkGrant() });
    const approved = await approve(sut, people.alice);
    expect(approved.status).toBe('ACTIVE');
    const [policyCall, linkCall] = suite.world.port.calls;
    expect(policyCall).toMatchObject({ method: 'getSharePolicy', args: ['vlt_prod', 'itm_prod_db'] });
    expect(linkCall).toMatchObject({
      method: 'createShareLink',
      args: [
        {
          vaultId: 'vlt_prod',
          itemId: 'itm_prod_db',
          recipients: [REQUESTER.email],
          expiry: '1d',
          oneTimeOnly: true,
          reference: `${sut.workflowId}:grant`,
        },
      ],
    });
    const access = await sut.query(grantAccessQuery);
    expect(access).toMatchObject({ mode: 'share-link', accessDetails: 'Open the link in a private window.' });
    const view = await suite.world.port.local.viewShareLink(access!.shareUrl!, REQUESTER.email);
    expect(view.title).toBe('Production database');
    expect(approved.grant!.providerExpiresAt).toBeDefined();
    expect(approved.grant!.guarantee.statement).toContain(`until ${approved.grant!.providerExpiresAt}`);
    // The share link never appears in the state.
    expect(JSON.stringify(approved)).not.toContain(access!.shareUrl);

    await suite.world.advance(8 * HOUR + 60_000);
    const final = await sut.result();
    expect(final.status).toBe('EXPIRED');
    expect(final.grant!.endedBy).toBe('link-left-to-expire');
    expect(suite.world.port.writes()).toEqual(['createShareLink']);
    expect(await sut.query(grantAccessQuery)).toBeUndefined();
    await recordHistory(sut, 'share-link-expired');
  });

  it('a request nobody answers for seven days ends TIMED_OUT with nothing granted', async () => {
    const sut = await started({ grant: vaultGroupGrant() });
    const pending = await stateOf(sut);
    expect(pending.status).toBe('PENDING_APPROVAL');
    expect(Date.parse(pending.pendingDeadline!) - Date.parse(pending.updatedAt)).toBe(7 * DAY);

    await suite.world.advance(7 * DAY - HOUR);
    expect((await stateOf(sut)).status).toBe('PENDING_APPROVAL');
    await suite.world.advance(2 * HOUR);
    const final = await sut.result();
    expect(final.status).toBe('TIMED_OUT');
    expect(final.grant).toBeUndefined();
    expect(suite.world.port.calls).toEqual([]);
    expect(suite.world.notifier.ofKind('request-timed-out')).toHaveLength(1);
    await recordHistory(sut, 'timed-out');
  });

  it('reminds approvers and escalates to the next tier at the configured times, keeping search attributes current', async () => {
    const sut = await started({
      grant: vaultGroupGrant(),
      reminderIntervalMs: DAY,
      approval: {
        automatic: false,
        allowSelfApproval: false,
        tiers: [
          { ...anyOf(people.alice.id), escalateAfterMs: 2 * DAY + HOUR },
          { approvers: [{ kind: 'group', id: 'sec-leads' }], threshold: { kind: 'any' } },
        ],
      },
    });
    const startedAt = Date.parse((await stateOf(sut)).updatedAt);
    const described = await sut.describe();
    expect(described.typedSearchAttributes.get(SA_STATUS)).toBe('PENDING_APPROVAL');
    expect(described.typedSearchAttributes.get(SA_REQUESTER)).toBe(REQUESTER.id);
    expect(described.typedSearchAttributes.get(SA_RESOURCE)).toBe('prod-db-password');
    expect(described.typedSearchAttributes.get(SA_INTEGRATION)).toBe(suite.world.integration);
    expect(described.typedSearchAttributes.get(SA_PENDING_APPROVERS)).toEqual([`user:${people.alice.id}`]);
    // erin (sec-leads) may not approve before the escalation.
    expect(await refusalOf(approve(sut, people.erin))).toBe(REFUSAL.forbidden);

    await suite.world.advance(3 * DAY + 60_000);
    await eventually(() => Promise.resolve(expect(suite.world.notifier.ofKind('approval-reminder')).toHaveLength(3)));
    const offsets = (kind: Parameters<typeof suite.world.notifier.ofKind>[0]) =>
      suite.world.notifier.ofKind(kind).map((event) => Date.parse(event.at) - startedAt);
    // Sent when due: not before, and not later than the few real seconds a workflow task takes.
    const due = (actual: number[], expected: number[]) => {
      expect(actual).toHaveLength(expected.length);
      actual.forEach((ms, i) => {
        expect(ms).toBeGreaterThanOrEqual(expected[i]);
        expect(ms).toBeLessThan(expected[i] + 5_000);
      });
    };
    due(offsets('approval-requested'), [0]);
    due(offsets('approval-reminder'), [DAY, 2 * DAY, 3 * DAY]);
    due(offsets('approval-escalated'), [2 * DAY + HOUR]);
    expect(suite.world.notifier.ofKind('approval-escalated')[0].recipients).toEqual(['group:sec-leads']);
    expect(suite.world.notifier.ofKind('approval-reminder')[2].recipients).toEqual([
      'group:sec-leads',
      `user:${people.alice.id}`,
    ]);
    const escalated = await stateOf(sut);
    expect(escalated.currentTier).toBe(1);
    expect((await sut.describe()).typedSearchAttributes.get(SA_PENDING_APPROVERS)).toEqual([
      'group:sec-leads',
      `user:${people.alice.id}`,
    ]);

    const approved = await approve(sut, people.erin);
    expect(approved.status).toBe('ACTIVE');
    expect(approved.approvals[0]).toMatchObject({ approverId: people.erin.id, tier: 1 });
    const active = (await sut.describe()).typedSearchAttributes;
    expect(active.get(SA_STATUS)).toBe('ACTIVE');
    expect(active.get(SA_PENDING_APPROVERS)).toBeUndefined();
    expect(active.get(SA_DECIDERS)).toEqual([`user:${people.erin.id}`]);
    expect(active.get(SA_GRANT_ENDS_AT)?.toISOString()).toBe(approved.grant!.endsAt);
    expect(suite.world.port.writes()).toEqual(['grantGroupPermissions']);

    await suite.world.advance(8 * HOUR + 60_000);
    expect((await sut.result()).status).toBe('EXPIRED');
    expect(suite.world.port.writes()).toEqual(['grantGroupPermissions', 'revokeGroupPermissions']);
    await recordHistory(sut, 'escalated-then-approved');
  });

  it('two of three approvals are needed, and the third changes nothing', async () => {
    const sut = await started({
      grant: vaultGroupGrant(),
      approval: {
        automatic: false,
        allowSelfApproval: false,
        tiers: [
          {
            approvers: [people.alice, people.carol, people.dave].map((p) => ({ kind: 'user' as const, id: p.id })),
            threshold: { kind: 'atLeast', count: 2 },
          },
        ],
      },
    });
    const first = await approve(sut, people.alice);
    expect(first.status).toBe('PENDING_APPROVAL');
    expect(first.approvalsRequired).toBe(2);
    expect(suite.world.port.calls).toEqual([]);
    const second = await approve(sut, people.carol);
    expect(second.status).toBe('ACTIVE');
    expect(second.approvals.map((a) => a.approverId)).toEqual([people.alice.id, people.carol.id]);
    expect(await refusalOf(approve(sut, people.dave))).toBe(REFUSAL.conflict);
    const after = await stateOf(sut);
    expect(after.approvals).toHaveLength(2);
    expect(after.grant).toEqual(second.grant);
    expect(suite.world.port.writes()).toEqual(['grantGroupPermissions']);
    await sut.executeUpdate(revokeUpdate, { args: [toSign({ actor: people.bob, reason: 'done' })] });
    await recordHistory(sut, 'two-of-three-then-given-back');
  });

  it('self-approval is refused by the validator and leaves no trace in history', async () => {
    const sut = await started({
      grant: vaultGroupGrant(),
      approval: { ...snapshot().approval, tiers: [anyOf(REQUESTER.id)] },
    });
    // Wait until the workflow is idle (its pending-deadline timer started), so history only changes if the Update writes.
    const before = await eventually(async () => {
      const types = eventTypes(await historyJson(sut));
      expect(types).toContain('EVENT_TYPE_TIMER_STARTED');
      expect(types.lastIndexOf('EVENT_TYPE_WORKFLOW_TASK_COMPLETED')).toBeGreaterThan(
        types.lastIndexOf('EVENT_TYPE_WORKFLOW_TASK_SCHEDULED'),
      );
      return types;
    });
    expect(await refusalOf(approve(sut, people.bob))).toBe(REFUSAL.forbidden);
    const after = eventTypes(await historyJson(sut));
    // The Java test server records an empty workflow task for a rejected Update (the real server does
    // not: see access-request.dev-server.int.spec.ts); nothing else may appear.
    const withoutTasks = (types: string[]) => types.filter((type) => !type.startsWith('EVENT_TYPE_WORKFLOW_TASK_'));
    expect(withoutTasks(after)).toEqual(withoutTasks(before));
    expect(after.filter((type) => type.includes('UPDATE'))).toEqual([]);
    expect((await stateOf(sut)).approvals).toEqual([]);
    expect(suite.world.port.calls).toEqual([]);
    // The same request with self-approval allowed by the flow is approved by the requester.
    const allowed = await started({
      grant: vaultGroupGrant(),
      approval: { automatic: false, allowSelfApproval: true, tiers: [anyOf(REQUESTER.id)] },
    });
    expect((await approve(allowed, people.bob)).status).toBe('ACTIVE');
    await allowed.executeUpdate(revokeUpdate, { args: [toSign({ actor: people.bob })] });
    await sut.executeUpdate(cancelUpdate, { args: [toSign({ actor: people.bob, reason: 'not needed' })] });
    expect((await sut.result()).status).toBe('CANCELLED');
    await recordHistory(sut, 'withdrawn');
  });

  it('the same approval sent twice has one effect', async () => {
    const sut = await started({
      grant: vaultGroupGrant(),
      approval: {
        automatic: false,
        allowSelfApproval: false,
        tiers: [{ ...anyOf(people.alice.id, people.carol.id), threshold: { kind: 'all' } }],
      },
    });
    const once = await sut.executeUpdate(approveUpdate, {
      args: [toSign({ actor: people.alice })],
      updateId: 'approve-alice',
    });
    // A retried delivery of the same Update (same id) is answered from the first, not applied again.
    const again = await sut.executeUpdate(approveUpdate, {
      args: [toSign({ actor: people.alice })],
      updateId: 'approve-alice',
    });
    expect(again).toEqual(once);
    // A second, separate approval by the same person is refused.
    expect(await refusalOf(approve(sut, people.alice))).toBe(REFUSAL.conflict);
    const state = await stateOf(sut);
    expect(state.status).toBe('PENDING_APPROVAL');
    expect(state.approvals.map((a) => a.approverId)).toEqual([people.alice.id]);
    const history = eventTypes(await historyJson(sut));
    expect(history.filter((type) => type === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED')).toHaveLength(1);
    expect(
      (await sut.executeUpdate(rejectUpdate, { args: [toSign({ actor: people.carol, comment: 'no' })] })).status,
    ).toBe('REJECTED');
    const final = await sut.result();
    expect(final.rejection).toMatchObject({ by: people.carol.id, comment: 'no' });
    expect(suite.world.port.calls).toEqual([]);
    await recordHistory(sut, 'approved-once-then-rejected');
  });

  it('cancelling the workflow while ACTIVE still revokes', async () => {
    const sut = await started({ grant: vaultGroupGrant() });
    expect((await approve(sut, people.alice)).status).toBe('ACTIVE');
    await sut.cancel();
    const error = await sut.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    // A cancelled workflow answers no query on the test server: its history and effects tell the end.
    expect(await lastStatusIn(sut)).toBe('REVOKED');
    expect(suite.world.notifier.ofKind('access-ended').map((event) => event.details)).toEqual([
      { status: 'REVOKED', endedBy: 'group-permissions-removed' },
    ]);
    expect(suite.world.port.writes()).toEqual(['grantGroupPermissions', 'revokeGroupPermissions']);
    expect(await suite.groupPermissions('vlt_oncall')).toEqual([]);
    await recordHistory(sut, 'cancelled-while-active');
  });

  it('a revoke that keeps failing is retried by Temporal while ENDING, alerts admins once, and ends REVOKED only after the success (rotate-on-revoke)', async () => {
    const sut = await started({ grant: shareLinkGrant(true), revokeAlertAfterMs: 10_000 });
    expect((await approve(sut, people.alice)).status).toBe('ACTIVE');
    const versionBefore = (await suite.world.port.local.getItem('vlt_prod', 'itm_prod_db')).version;
    const failures = Array.from({ length: 5 }, () => new OnePasswordError('unavailable', '1Password is unavailable'));
    suite.world.port.failNext('rotateItemSecret', ...failures);

    const revoking = await sut.startUpdate(revokeUpdate, {
      args: [toSign({ actor: people.alice, reason: 'incident closed' })],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    // Ending: no link is handed out and no Update changes the outcome.
    await eventually(async () => expect((await stateOf(sut)).status).toBe('ENDING'));
    expect(await sut.query(grantAccessQuery)).toBeUndefined();
    expect(await refusalOf(sut.executeUpdate(revokeUpdate, { args: [toSign({ actor: people.admin })] }))).toBe(
      REFUSAL.conflict,
    );

    // Backoff 1, 2, 4, 8, 16 s between attempts: the alert (after 10 s) goes out while 1Password still fails.
    await suite.world.advance(60_000);
    const final = await revoking.result();
    expect(final.status).toBe('REVOKED');
    expect(final.grant!.endedBy).toBe('secret-rotated');
    expect(final.ending?.alertedAt).toBeDefined();
    expect(suite.world.notifier.ofKind('revoke-failing').map((event) => event.recipients)).toEqual([
      ['role:admin', `user:${final.requesterId}`],
    ]);
    expect(suite.world.port.callsOf('rotateItemSecret').map((call) => call.outcome)).toEqual([
      'failed',
      'failed',
      'failed',
      'failed',
      'failed',
      'ok',
    ]);
    expect(new Set(suite.world.port.callsOf('rotateItemSecret').map((call) => JSON.stringify(call.args)))).toEqual(
      new Set([
        JSON.stringify([{ vaultId: 'vlt_prod', itemId: 'itm_prod_db', reference: `${sut.workflowId}:rotate` }]),
      ]),
    );
    expect((await suite.world.port.local.getItem('vlt_prod', 'itm_prod_db')).version).toBe(versionBefore + 1);
    await recordHistory(sut, 'revoke-retried-then-revoked');
  });

  it('a non-retryable grant error ends FAILED with nothing granted', async () => {
    const sut = await started({ grant: shareLinkGrant() });
    suite.world.port.failNext(
      'createShareLink',
      new OnePasswordError('forbidden', 'the service account may not share'),
    );
    const final = await approve(sut, people.alice);
    expect(final.status).toBe('FAILED');
    expect(final.failure).toEqual({
      code: 'OnePassword.forbidden',
      message: 'the service account may not share',
    });
    expect(final.grant).toBeUndefined();
    expect(suite.world.port.callsOf('createShareLink')).toHaveLength(1);
    expect((await suite.world.port.local.readState()).shareLinks).toEqual([]);
    expect(await sut.query(grantAccessQuery)).toBeUndefined();
    expect((await sut.result()).status).toBe('FAILED');
    await recordHistory(sut, 'grant-failed');
  });

  it('a share link the account policy cannot cover is refused before anything is made', async () => {
    await suite.world.port.local.administer((state) => {
      state.sharePolicy.maxExpiry = '1d';
    });
    const sut = await started({ grant: shareLinkGrant(), durationMs: 2 * DAY, maxDurationMs: 3 * DAY });
    const final = await approve(sut, people.alice);
    expect(final.status).toBe('FAILED');
    expect(final.failure).toEqual({
      code: 'LatchkeyGrantRefused',
      message: "the account's sharing policy allows links of at most 1d; the duration needs 7d",
    });
    expect(suite.world.port.writes()).toEqual([]);
    expect((await sut.result()).status).toBe('FAILED');
  });

  it('an automatic flow grants at once without asking anyone', async () => {
    const sut = await started({
      grant: vaultGroupGrant(),
      approval: { automatic: true, tiers: [], allowSelfApproval: false },
    });
    await eventually(async () => expect((await stateOf(sut)).status).toBe('ACTIVE'));
    expect(suite.world.notifier.ofKind('approval-requested')).toEqual([]);
    const revoked = await sut.executeUpdate(revokeUpdate, {
      args: [toSign({ actor: people.admin, reason: 'emergency' })],
    });
    expect(revoked.status).toBe('REVOKED');
    expect(revoked.revocation).toMatchObject({ by: people.admin.id, comment: 'emergency' });
    expect(suite.world.port.writes()).toEqual(['grantGroupPermissions', 'revokeGroupPermissions']);
    expect(await refusalOf(sut.executeUpdate(revokeUpdate, { args: [toSign({ actor: people.admin })] }))).toBe(
      REFUSAL.conflict,
    );
    await recordHistory(sut, 'automatic-then-admin-revoked');
  });

  it('refuses outsiders: neither approve nor revoke nor withdraw', async () => {
    const sut = await started({ grant: vaultGroupGrant() });
    expect(await refusalOf(approve(sut, people.mallory))).toBe(REFUSAL.forbidden);
    expect(await refusalOf(sut.executeUpdate(cancelUpdate, { args: [toSign({ actor: people.mallory })] }))).toBe(
      REFUSAL.forbidden,
    );
    expect(await refusalOf(sut.executeUpdate(revokeUpdate, { args: [toSign({ actor: people.bob })] }))).toBe(
      REFUSAL.conflict,
    );
    expect(suite.world.port.calls).toEqual([]);
    await sut.executeUpdate(cancelUpdate, { args: [toSign({ actor: people.admin })] });
    expect((await sut.result()).status).toBe('CANCELLED');
  });
});
