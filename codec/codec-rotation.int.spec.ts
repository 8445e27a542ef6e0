import type { WorkflowHandle } from '@temporalio/client';
import { KEY_ID_METADATA } from './encryption-codec';
import { codecKeyring } from './codec-key';
import { approve, eventually, reject, revoke, stateOf, useTimeSkippingWorld } from '../test/support/time-skipping';
import { WorkflowTestWorld } from '../test/support/workflow-world';
import { DAY, HOUR, people, shareLinkGrant } from '../test/support/snapshots';
import type { accessRequestWorkflow } from '../workflows/access-request/workflow';

/**
 * The payload key rotated while requests wait and while grants run (docs/security.md, "Rotating the payload
 * key"): a worker and a client that encrypt with key B and still know key A take over, and every request
 * ends as it should, its history from then on encrypted under B.
 */
const suite = useTimeSkippingWorld();
const KEY_A = { id: 'rotation-a', key: Buffer.alloc(32, 0x0a) };
const KEY_B = { id: 'rotation-b', key: Buffer.alloc(32, 0x0b) };

type Handle = WorkflowHandle<typeof accessRequestWorkflow>;

/** The key id of every encrypted payload in a history, by event id. */
async function payloadKeyIds(handle: Handle): Promise<Array<{ eventId: number; keyId: string }>> {
  const found: Array<{ eventId: number; keyId: string }> = [];
  const visit = (value: unknown, eventId: number): void => {
    if (!value || typeof value !== 'object') return;
    const metadata = (value as { metadata?: Record<string, Uint8Array> }).metadata;
    const keyId = metadata?.[KEY_ID_METADATA];
    if (keyId) found.push({ eventId, keyId: Buffer.from(keyId).toString() });
    for (const item of Object.values(value)) visit(item, eventId);
  };
  for (const event of (await handle.fetchHistory()).events ?? []) visit(event, Number(event.eventId));
  return found;
}

/** No activity and no workflow task in flight, as the history itself says: every one scheduled has ended. */
async function atRest(handle: Handle): Promise<boolean> {
  const open = { activities: 0, tasks: 0 };
  for (const event of (await handle.fetchHistory()).events ?? []) {
    if (event.activityTaskScheduledEventAttributes) open.activities += 1;
    if (
      event.activityTaskCompletedEventAttributes ||
      event.activityTaskFailedEventAttributes ||
      event.activityTaskTimedOutEventAttributes ||
      event.activityTaskCanceledEventAttributes
    )
      open.activities -= 1;
    if (event.workflowTaskScheduledEventAttributes) open.tasks += 1;
    if (
      event.workflowTaskCompletedEventAttributes ||
      event.workflowTaskFailedEventAttributes ||
      event.workflowTaskTimedOutEventAttributes
    )
      open.tasks -= 1;
  }
  return open.activities === 0 && open.tasks === 0;
}

async function lastEventId(handle: Handle): Promise<number> {
  return Number((await handle.fetchHistory()).events!.at(-1)!.eventId);
}

describe('payload codec key rotation (time-skipping server)', () => {
  it('requests pending and active under key A all end correctly once key B is current, A decode-only', async () => {
    await suite.world.dispose();
    const world = await WorkflowTestWorld.create(suite.env); // workers of its own, with the keys of the test
    suite.world = world;
    world.useCodecKeys(KEY_A);
    // No workflow cache: the Java test server never moves a sticky workflow task to the normal queue.
    await world.startWorker({ maxCachedWorkflows: 0 });
    const flow = { grant: shareLinkGrant() };
    const toApprove = await suite.started(flow);
    const toReject = await suite.started(flow);
    const toTimeOut = await suite.started(flow);
    const toRevoke = await suite.started(flow);
    const toExpire = await suite.started(flow);
    expect((await approve(toRevoke, people.alice)).status).toBe('ACTIVE');
    expect((await approve(toExpire, people.alice)).status).toBe('ACTIVE');
    const handles = [toApprove, toReject, toTimeOut, toRevoke, toExpire];
    const rotatedAfter = new Map<string, number>();
    for (const handle of handles) {
      // At rest first: notifications go out in the background, and one in flight, or the workflow task that
      // reads its result, would finish under A after the boundary.
      await eventually(async () => expect(await atRest(handle)).toBe(true));
      rotatedAfter.set(handle.workflowId, await lastEventId(handle));
    }
    await world.stopWorkers();

    world.useCodecKeys(codecKeyring(KEY_B, [KEY_A]));
    await world.startWorker();
    const [approved, rejected, timedOut, revoked, expired] = handles.map((handle) =>
      world.client.workflow.getHandle<typeof accessRequestWorkflow>(handle.workflowId),
    );
    // Made under A, read under B's keyring.
    expect((await stateOf(revoked)).status).toBe('ACTIVE');
    expect((await approve(approved, people.alice, 'after the rotation')).status).toBe('ACTIVE');
    expect((await reject(rejected, people.alice, 'no')).status).toBe('REJECTED');
    expect((await revoke(revoked, people.admin, 'done')).status).toBe('REVOKED');

    await world.advance(8 * HOUR + 60_000);
    expect((await expired.result()).status).toBe('EXPIRED');
    expect((await approved.result()).status).toBe('EXPIRED');
    await world.advance(7 * DAY);
    expect((await timedOut.result()).status).toBe('TIMED_OUT');
    expect((await rejected.result()).status).toBe('REJECTED');
    expect((await revoked.result()).status).toBe('REVOKED');

    for (const handle of [approved, rejected, timedOut, revoked, expired]) {
      const keyIds = await payloadKeyIds(handle);
      const rotation = rotatedAfter.get(handle.workflowId)!;
      const before = new Set(keyIds.filter(({ eventId }) => eventId <= rotation).map(({ keyId }) => keyId));
      const after = keyIds.filter(({ eventId }) => eventId > rotation);
      expect({ workflowId: handle.workflowId, before: [...before] }).toEqual({
        workflowId: handle.workflowId,
        before: [KEY_A.id],
      });
      expect(after.length).toBeGreaterThan(0);
      expect({ workflowId: handle.workflowId, after: [...new Set(after.map(({ keyId }) => keyId))] }).toEqual({
        workflowId: handle.workflowId,
        after: [KEY_B.id],
      });
    }
  });
});
