import { toSign } from '../test/support/commands';
import { WorkflowUpdateStage } from '@temporalio/client';
import { WorkflowTestWorld } from '../test/support/workflow-world';
import { approve, eventually, refusalOf, stateOf, useTimeSkippingWorld } from '../test/support/time-skipping';
import { recordHistory } from '../test/support/histories';
import { SHARE_CALL_DEADLINE_MS } from '../activities/share-links';
import { OnePasswordError } from '../onepassword/port';
import type { RecordingPort } from '../test/support/recording-port';
import { HOUR, people, REQUESTER, requestInput, shareLinkGrant, vaultGroupGrant } from '../test/support/snapshots';
import { vaultLeaseWorkflowId } from '../domain/ids';
import { CATALOG_WORKFLOW_ID, catalogQuery, refreshCatalogUpdate } from '../contracts/catalog';
import {
  approveUpdate,
  extendUpdate,
  grantAccessQuery,
  REFUSAL,
  rejectUpdate,
  revokeUpdate,
} from '../contracts/messages';
import { SA_GRANT_ENDS_AT } from '../contracts/search-attributes';
import { catalogWorkflow } from './catalog';

const suite = useTimeSkippingWorld();
const { started, flow } = suite;

/**
 * A share-link request approved (the update accepted, the grant under way) on a worker the test can kill, in a
 * world of its own; `prepare` sets up that world's 1Password first.
 */
async function approvedOnAWorkerToKill(prepare: (port: RecordingPort) => void) {
  await suite.world.dispose();
  suite.world = await WorkflowTestWorld.create(suite.env);
  prepare(suite.world.port);
  // No workflow cache: the Java test server never moves a sticky workflow task to the normal queue, so a
  // dead worker's sticky queue would hold the workflow (the real server falls back after 5 s).
  const doomed = await suite.world.startWorker({
    shutdownGraceTime: '100 ms',
    shutdownForceTime: '500 ms',
    maxCachedWorkflows: 0,
  });
  const sut = await suite.world.start(requestInput(flow({ grant: shareLinkGrant() })));
  await sut.startUpdate(approveUpdate, {
    args: [toSign({ actor: people.alice })],
    waitForStage: WorkflowUpdateStage.ACCEPTED,
  });
  return { doomed, sut, port: suite.world.port };
}

describe('accessRequestWorkflow over time and failures (time-skipping server)', () => {
  it('two overlapping vault-group grants keep access until the second ends', async () => {
    const first = await started({ grant: vaultGroupGrant() });
    expect((await approve(first, people.alice)).status).toBe('ACTIVE');
    await suite.world.advance(4 * HOUR);
    const other = { ...REQUESTER, id: 'u-carl', email: 'carol.requester@example.com' };
    const second = await started({ grant: vaultGroupGrant() }, other);
    expect((await approve(second, people.alice)).status).toBe('ACTIVE');
    // The second holder needs nothing new: counted, no second grant.
    expect(suite.world.port.writes()).toEqual(['grantGroupPermissions']);

    await suite.world.advance(4 * HOUR + 60_000);
    const firstFinal = await first.result();
    expect(firstFinal.status).toBe('EXPIRED');
    expect(firstFinal.grant!.endedBy).toBe('group-still-held-by-other-grants');
    expect(suite.world.port.writes()).toEqual(['grantGroupPermissions']);
    expect(await suite.groupPermissions('vlt_oncall')).toHaveLength(1);
    expect((await stateOf(second)).status).toBe('ACTIVE');

    await suite.world.advance(4 * HOUR);
    const secondFinal = await second.result();
    expect(secondFinal.status).toBe('EXPIRED');
    expect(secondFinal.grant!.endedBy).toBe('group-permissions-removed');
    expect(suite.world.port.writes()).toEqual(['grantGroupPermissions', 'revokeGroupPermissions']);
    expect(await suite.groupPermissions('vlt_oncall')).toEqual([]);
    await recordHistory(first, 'vault-group-overlap-first');
    await recordHistory(second, 'vault-group-overlap-second');
    const lease = suite.world.client.workflow.getHandle(
      vaultLeaseWorkflowId(suite.world.integration, 'vlt_oncall', 'grp_engineering'),
    );
    await suite.world.advance(2 * HOUR);
    await lease.result();
    await recordHistory(lease, 'vault-lease-overlap');
  });

  it('an extension moves the end and the timer', async () => {
    const sut = await started({ grant: vaultGroupGrant() });
    const approved = await approve(sut, people.alice);
    await suite.world.advance(HOUR);
    expect(
      await refusalOf(sut.executeUpdate(extendUpdate, { args: [toSign({ actor: people.alice, addMs: HOUR })] })),
    ).toBe(REFUSAL.forbidden);
    expect(
      await refusalOf(sut.executeUpdate(extendUpdate, { args: [toSign({ actor: people.bob, addMs: 5 * HOUR })] })),
    ).toBe(REFUSAL.invalid);
    const extended = await sut.executeUpdate(extendUpdate, {
      args: [toSign({ actor: people.bob, addMs: 2 * HOUR, justification: 'migration overran' })],
    });
    const newEnd = Date.parse(approved.grant!.endsAt) + 2 * HOUR;
    expect(extended.grant!.endsAt).toBe(new Date(newEnd).toISOString());
    expect(extended.extensions).toEqual([
      expect.objectContaining({ by: people.bob.id, addedMs: 2 * HOUR, newEndsAt: extended.grant!.endsAt }),
    ]);
    expect((await sut.describe()).typedSearchAttributes.get(SA_GRANT_ENDS_AT)?.toISOString()).toBe(
      extended.grant!.endsAt,
    );

    await suite.world.advance(7 * HOUR + 60_000); // past the original end
    expect((await stateOf(sut)).status).toBe('ACTIVE');
    expect(suite.world.port.writes()).toEqual(['grantGroupPermissions']);
    await suite.world.advance(2 * HOUR);
    const final = await sut.result();
    expect(final.status).toBe('EXPIRED');
    expect(Date.parse(final.grant!.revokedAt!)).toBeGreaterThanOrEqual(newEnd);
    expect(suite.world.port.writes()).toEqual(['grantGroupPermissions', 'revokeGroupPermissions']);
    await recordHistory(sut, 'extended-then-expired');
  });

  it('an extension that the flow says must be re-approved takes effect only once approved', async () => {
    const sut = await started({
      grant: vaultGroupGrant(),
      extensions: { maxCount: 2, maxExtensionMs: 4 * HOUR, requireApproval: true },
    });
    const approved = await approve(sut, people.alice);
    const asked = await sut.executeUpdate(extendUpdate, { args: [toSign({ actor: people.bob, addMs: HOUR })] });
    expect(asked.pendingExtension).toMatchObject({ requestedBy: people.bob.id, addedMs: HOUR, approvals: [] });
    expect(asked.grant!.endsAt).toBe(approved.grant!.endsAt);
    // Rejected: the grant stays as it was, and the requester may ask again.
    await sut.executeUpdate(rejectUpdate, { args: [toSign({ actor: people.alice, comment: 'not now' })] });
    expect((await stateOf(sut)).pendingExtension).toBeUndefined();
    await sut.executeUpdate(extendUpdate, { args: [toSign({ actor: people.bob, addMs: 2 * HOUR })] });
    const extended = await approve(sut, people.alice);
    expect(extended.pendingExtension).toBeUndefined();
    expect(extended.extensions).toEqual([expect.objectContaining({ by: people.bob.id, addedMs: 2 * HOUR })]);
    expect(Date.parse(extended.grant!.endsAt)).toBe(Date.parse(approved.grant!.endsAt) + 2 * HOUR);
    await suite.world.advance(10 * HOUR + 60_000);
    expect((await sut.result()).status).toBe('EXPIRED');
    expect(suite.world.port.writes()).toEqual(['grantGroupPermissions', 'revokeGroupPermissions']);
    await recordHistory(sut, 'extension-reapproved');
  });

  it('extending a one-hour share-link grant by an hour past its link: once approved, a second link covers the new end', async () => {
    const sut = await started({
      grant: shareLinkGrant(),
      durationMs: HOUR,
      extensions: { maxCount: 1, maxExtensionMs: 2 * HOUR, requireApproval: true },
    });
    const approved = await approve(sut, people.alice);
    const firstUrl = (await sut.query(grantAccessQuery))!.shareUrl!;
    await suite.world.advance(30 * 60_000);

    const asked = await sut.executeUpdate(extendUpdate, { args: [toSign({ actor: people.bob, addMs: HOUR })] });
    expect(asked.pendingExtension).toMatchObject({ addedMs: HOUR, approvals: [] });
    expect(suite.world.port.callsOf('createShareLink')).toHaveLength(1);
    const extended = await approve(sut, people.alice);

    const newEnd = Date.parse(approved.grant!.endsAt) + HOUR;
    const [first, second] = suite.world.port.callsOf('createShareLink').map((call) => call.args[0]);
    expect(first).toMatchObject({ expiry: '1h', reference: `${sut.workflowId}:grant` });
    // The new link lasts from now to the new end (90 minutes): the one-day bucket.
    expect(second).toMatchObject({
      expiry: '1d',
      recipients: [REQUESTER.email],
      reference: `${sut.workflowId}:extension-1`,
    });
    const [, link] = (await suite.world.port.local.readState()).shareLinks;
    expect(extended.pendingExtension).toBeUndefined();
    expect(extended.grant).toMatchObject({ endsAt: new Date(newEnd).toISOString(), providerExpiresAt: link.expiresAt });
    expect(extended.grant!.guarantee.statement).toContain(`until ${link.expiresAt}`);
    expect(extended.extensions).toEqual([
      expect.objectContaining({ by: people.bob.id, addedMs: HOUR, linkExpiresAt: link.expiresAt }),
    ]);
    // The requester gets the new link through the grant query, and is told; the link is in neither state nor event.
    const access = await sut.query(grantAccessQuery);
    expect(access!.shareUrl).not.toBe(firstUrl);
    expect(access!.shareUrl).toContain(link.id);
    expect(await suite.world.port.local.viewShareLink(access!.shareUrl!, REQUESTER.email)).toMatchObject({
      title: 'Production database',
    });
    const told = await suite.world.notifier.told('access-extended');
    expect(told).toEqual([
      expect.objectContaining({
        recipients: [`user:${REQUESTER.id}`],
        details: { endsAt: extended.grant!.endsAt, newLink: true, linkExpiresAt: link.expiresAt },
      }),
    ]);
    expect(JSON.stringify([extended, told])).not.toContain(access!.shareUrl);

    await suite.world.advance(HOUR); // past the first end, before the new one
    expect((await stateOf(sut)).status).toBe('ACTIVE');
    await suite.world.advance(HOUR);
    const final = await sut.result();
    expect(final.status).toBe('EXPIRED');
    expect(Date.parse(final.grant!.revokedAt!)).toBeGreaterThanOrEqual(newEnd);
    expect(suite.world.port.writes()).toEqual(['createShareLink', 'createShareLink']);
    await recordHistory(sut, 'extension-new-link');
  });

  it('an extension whose new link the account policy cannot cover is refused, and the grant stays as it was', async () => {
    await suite.world.port.local.administer((state) => {
      state.sharePolicy.maxExpiry = '1h';
    });
    const sut = await started({ grant: shareLinkGrant(), durationMs: HOUR });
    const approved = await approve(sut, people.alice);
    const extend = sut.executeUpdate(extendUpdate, { args: [toSign({ actor: people.bob, addMs: HOUR })] });
    expect(await refusalOf(extend)).toBe(REFUSAL.invalid);
    const after = await stateOf(sut);
    expect(after.grant).toEqual(approved.grant);
    expect(after).toMatchObject({ status: 'ACTIVE', extensions: [] });
    expect(after.pendingExtension).toBeUndefined();
    expect(await suite.world.notifier.told('grant-failed')).toEqual([
      expect.objectContaining({ details: { code: 'LatchkeyGrantRefused', extension: true } }),
    ]);
    expect(suite.world.port.writes()).toEqual(['createShareLink']);

    await suite.world.advance(HOUR + 60_000);
    expect((await sut.result()).status).toBe('EXPIRED');
    await recordHistory(sut, 'extension-link-refused');
  });

  it('a revoke while the new link of an extension is being made ends access, and the new link is never handed out', async () => {
    const sut = await started({ grant: shareLinkGrant(), durationMs: HOUR });
    const approved = await approve(sut, people.alice);
    let release!: () => void;
    suite.world.port.holdAfterEffect(
      'createShareLink',
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    );
    const extend = refusalOf(sut.executeUpdate(extendUpdate, { args: [toSign({ actor: people.bob, addMs: HOUR })] }));
    await eventually(() => Promise.resolve(expect(suite.world.port.callsOf('createShareLink')).toHaveLength(2)));
    expect((await stateOf(sut)).pendingExtension).toMatchObject({ addedMs: HOUR, makingLinkSince: expect.any(String) });
    // Nothing else decides or extends meanwhile.
    expect(await refusalOf(approve(sut, people.alice))).toBe(REFUSAL.conflict);

    expect((await sut.executeUpdate(revokeUpdate, { args: [toSign({ actor: people.bob })] })).status).toBe('REVOKED');
    release();
    expect(await extend).toBe(REFUSAL.conflict);
    const final = await sut.result();
    expect(final).toMatchObject({ status: 'REVOKED', extensions: [], grant: { endsAt: approved.grant!.endsAt } });
    expect(final.grant!.providerExpiresAt).toBe(approved.grant!.providerExpiresAt);
    expect(final.pendingExtension).toBeUndefined();
    expect(suite.world.notifier.ofKind('access-extended')).toEqual([]);
    await recordHistory(sut, 'extension-revoked-while-linking');
  });

  it('the catalog workflow lists every vault and item, on a schedule and on demand', async () => {
    const sut = await suite.world.client.workflow.start(catalogWorkflow, {
      workflowId: `${CATALOG_WORKFLOW_ID}-${suite.world.integration}`,
      taskQueue: suite.world.taskQueue,
      args: [{ integrations: [suite.world.integration], refreshIntervalMs: HOUR }],
    });
    const first = await eventually(async () => {
      const catalog = await sut.query(catalogQuery);
      expect(catalog).toBeDefined();
      return catalog!;
    });
    expect(first.vaults.map((vault) => vault.vaultId)).toEqual(['vlt_prod', 'vlt_staging', 'vlt_oncall', 'vlt_logins']);
    expect(first.items.map((item) => item.itemId)).toEqual(
      expect.arrayContaining(['itm_prod_db', 'itm_stripe_key', 'itm_staging_db', 'itm_runbook']),
    );
    expect(first.items.find((item) => item.itemId === 'itm_prod_db')).toMatchObject({
      integration: suite.world.integration,
      tags: ['owner:security', 'env:prod'],
    });
    expect(suite.world.port.callsOf('listVaults')).toHaveLength(1);
    const refreshed = await sut.executeUpdate(refreshCatalogUpdate);
    expect(refreshed.vaults).toHaveLength(4);
    expect(suite.world.port.callsOf('listVaults')).toHaveLength(2);
    await suite.world.advance(HOUR + 60_000);
    await eventually(() => Promise.resolve(expect(suite.world.port.callsOf('listVaults')).toHaveLength(3)));
    await suite.world.terminate(sut.workflowId, 'test finished');
  });

  it('a worker killed while 1Password made the link: one link handed out, the unanswered one counted', async () => {
    let releaseHeldCall!: () => void;
    const { doomed, sut } = await approvedOnAWorkerToKill((port) =>
      port.holdAfterEffect('createShareLink', new Promise<void>((resolve) => (releaseHeldCall = resolve))),
    );
    // 1Password made the link, but the worker dies before it could report the result.
    await eventually(() => Promise.resolve(expect(suite.world.port.callsOf('createShareLink')).toHaveLength(1)));
    await doomed.kill();
    releaseHeldCall();

    await suite.world.startWorker();
    // The lost attempt times out on its heartbeat and is retried on the new worker. 1Password has no
    // idempotency key and cannot list links: the retry cannot find the first link, so it makes a second one
    // once the first call can no longer be writing, and the request counts the first as never received.
    await eventually(async () => expect((await stateOf(sut)).status).toBe('ACTIVE'), 60_000);
    const calls = suite.world.port.callsOf('createShareLink');
    expect(calls).toHaveLength(2);
    const [unreceived, delivered] = (await suite.world.port.local.readState()).shareLinks;
    expect(Date.parse(delivered.createdAt) - Date.parse(unreceived.createdAt)).toBeGreaterThanOrEqual(
      SHARE_CALL_DEADLINE_MS,
    );
    const access = await sut.query(grantAccessQuery);
    expect(access!.shareUrl).toContain(delivered.id);
    const { grant } = await stateOf(sut);
    expect(grant).toMatchObject({ unreceivedLinks: 1, providerExpiresAt: delivered.expiresAt });
    // Nobody holds the first link's URL, it goes to the same person only and expires before the one handed out.
    expect(unreceived.recipients).toEqual(delivered.recipients);
    expect(unreceived.expiry).toBe(delivered.expiry);
    expect(Date.parse(unreceived.expiresAt)).toBeLessThan(Date.parse(grant!.providerExpiresAt!));

    await suite.world.advance(8 * HOUR);
    expect((await sut.result()).status).toBe('EXPIRED');
    expect((await suite.world.port.local.readState()).shareLinks).toHaveLength(2);
    await recordHistory(sut, 'worker-killed-during-grant');
  });

  it('link calls that took effect and then failed, one after another: each counted, and no retry waits', async () => {
    // The worker's own heartbeats would not do: the SDK holds back all but an attempt's first and sends none
    // with a failure, so the second attempt's "creating" would be lost with it and the third would count one.
    const answerLost = () => new OnePasswordError('unavailable', 'the answer was lost after the write');
    suite.world.port.applyThenFail('createShareLink', answerLost(), answerLost());
    const sut = await suite.world.start(requestInput(flow({ grant: shareLinkGrant() })));
    const startedAt = Date.now();
    await approve(sut, people.alice);

    await eventually(async () => expect((await stateOf(sut)).status).toBe('ACTIVE'), 90_000);
    const links = (await suite.world.port.local.readState()).shareLinks;
    expect(links).toHaveLength(3);
    const { grant } = await stateOf(sut);
    expect(grant).toMatchObject({ unreceivedLinks: 2, providerExpiresAt: links[2].expiresAt });
    expect((await sut.query(grantAccessQuery))!.shareUrl).toContain(links[2].id);
    // Each failed call answered, so no attempt had to wait out the one before it.
    expect(Date.now() - startedAt).toBeLessThan(SHARE_CALL_DEADLINE_MS);
    await suite.world.terminate(sut.workflowId, 'test finished');
  });

  it('a worker killed while a retried link call was writing: both unanswered calls counted', async () => {
    const { doomed, sut, port } = await approvedOnAWorkerToKill((port) =>
      port.applyThenFail('createShareLink', new OnePasswordError('unavailable', 'the answer was lost after the write')),
    );
    // The first call fails after its write; the retry's call is held after its write, and its worker dies.
    await eventually(() => Promise.resolve(expect(port.callsOf('createShareLink')[0]?.outcome).toBe('failed')));
    let releaseHeldCall!: () => void;
    port.holdAfterEffect('createShareLink', new Promise<void>((resolve) => (releaseHeldCall = resolve)));
    await eventually(() => Promise.resolve(expect(port.callsOf('createShareLink')).toHaveLength(2)), 45_000);
    await doomed.kill();
    releaseHeldCall();

    await suite.world.startWorker();
    await eventually(async () => expect((await stateOf(sut)).status).toBe('ACTIVE'), 90_000);
    const links = (await port.local.readState()).shareLinks;
    expect(links).toHaveLength(3);
    expect((await stateOf(sut)).grant).toMatchObject({ unreceivedLinks: 2, providerExpiresAt: links[2].expiresAt });
    await suite.world.terminate(sut.workflowId, 'test finished');
  });
});
