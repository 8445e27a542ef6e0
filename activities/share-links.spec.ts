import { ActivityCancelledError, type Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '.';
import { OnePasswordError } from '../onepassword/port';
import { RecordingPort } from '../test/support/recording-port';
import { RecordingNotifier, silentLogger } from '../test/support/workflow-world';
import { SHARE_CALL_DEADLINE_MS, SLOW_READ_MS } from './share-links';
import type { ShareLinkGrantResult } from './types';
import { eventually } from '../test/support/time-skipping';

const input = {
  idempotencyKey: 'AccessRequest:req_unit:grant',
  integration: 'demo',
  vaultId: 'vlt_prod',
  itemId: 'itm_prod_db',
  recipientEmail: 'bob.requester@example.com',
  durationMs: 3_600_000,
  oneTimeView: true,
};

/** The beats the server acknowledged, by attempt (its task token). */
type Beats = Array<{ attempt: string; details: unknown }>;

/** The one call the activity makes on its client: a heartbeat, answered once the server holds it. */
function acknowledgingClient(beats: Beats): Client {
  const heartbeat = (taskToken: Uint8Array, details: unknown) => {
    beats.push({ attempt: Buffer.from(taskToken).toString(), details });
    return Promise.resolve();
  };
  return {
    connection: { withDeadline: (_deadline: number, call: () => Promise<void>) => call() },
    activity: { heartbeat },
  } as unknown as Client;
}

const lastOf = (beats: Beats, attempt = 'test') => beats.filter((beat) => beat.attempt === attempt).at(-1)?.details;

describe('createShareLink across attempts', () => {
  let port: RecordingPort;
  let beats: Beats;
  let sut: ReturnType<typeof createActivities>;

  beforeEach(async () => {
    port = await RecordingPort.create();
    beats = [];
    sut = createActivities({
      onePassword: () => port,
      notifier: new RecordingNotifier(),
      logger: silentLogger,
      temporal: acknowledgingClient(beats),
    });
  });
  afterEach(() => port.dispose());

  it('records the link it made in its heartbeat details, for an attempt that outlives it', async () => {
    const link = await new MockActivityEnvironment().run(sut.createShareLink, input);
    await eventually(() => Promise.resolve(expect(lastOf(beats)).toEqual({ link })));
  });

  it('has the server hold the time its call began before the call, since a failure takes unsent beats along', async () => {
    let release!: () => void;
    port.holdAfterEffect('createShareLink', new Promise<void>((resolve) => (release = resolve)));
    const running = new MockActivityEnvironment().run(sut.createShareLink, input);
    await eventually(() => Promise.resolve(expect(port.callsOf('createShareLink')).toHaveLength(1)));
    expect(lastOf(beats)).toEqual({ creatingSince: expect.any(Number), unreceived: 0 });
    release();
    await running;
  });

  it('counts a call that failed after it may have written, so the next attempt need not wait', async () => {
    port.applyThenFail('createShareLink', new OnePasswordError('unavailable', 'answer lost'));
    await expect(new MockActivityEnvironment().run(sut.createShareLink, input)).rejects.toMatchObject({
      type: 'OnePassword.unavailable',
    });
    expect(lastOf(beats)).toEqual({ unreceived: 1 });
    const next = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: lastOf(beats) });
    const started = Date.now();
    await expect(next.run(sut.createShareLink, input)).resolves.toMatchObject({ unreceivedLinks: 1 });
    expect(Date.now() - started).toBeLessThan(SHARE_CALL_DEADLINE_MS);
    expect((await port.local.readState()).shareLinks).toHaveLength(2);
  });

  it('records the time its write may begin while it reads, and takes it back when the read fails', async () => {
    port.failNext('getSharePolicy', new OnePasswordError('unavailable', 'no answer'));
    await expect(new MockActivityEnvironment().run(sut.createShareLink, input)).rejects.toMatchObject({
      type: 'OnePassword.unavailable',
    });
    expect(beats.map((beat) => beat.details)).toEqual([
      { creatingSince: expect.any(Number), unreceived: 0 },
      { unreceived: 0 },
    ]);
    // The next attempt neither waits for a write that never began nor counts a link for it.
    const next = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: lastOf(beats) });
    const started = Date.now();
    const link: ShareLinkGrantResult = await next.run(sut.createShareLink, input);
    expect(Date.now() - started).toBeLessThan(SHARE_CALL_DEADLINE_MS);
    expect(link).not.toHaveProperty('unreceivedLinks');
  });

  it('records the time again after a slow read, so that the write keeps its whole deadline', async () => {
    port.holdAfterEffect('getSharePolicy', new Promise<void>((resolve) => setTimeout(resolve, SLOW_READ_MS + 200)));
    await new MockActivityEnvironment().run(sut.createShareLink, input);
    const [first, second] = beats.map((beat) => beat.details as { creatingSince?: number });
    expect(second.creatingSince! - first.creatingSince!).toBeGreaterThan(SLOW_READ_MS);
    const [call] = port.callsOf('createShareLink');
    expect(call.at.getTime()).toBeGreaterThanOrEqual(second.creatingSince!);
  });

  it('counts nothing for a call 1Password refused (it wrote nothing), and leaves nothing to wait for', async () => {
    port.failNext('createShareLink', new OnePasswordError('rate-limited', 'slow down', 1_000));
    await expect(new MockActivityEnvironment().run(sut.createShareLink, input)).rejects.toThrow();
    expect(lastOf(beats)).toEqual({ unreceived: 0 });
  });

  it('returns the link an earlier attempt recorded, without asking 1Password for another', async () => {
    const earlier = { url: 'https://share.local-1password.invalid/s/shr_x#t', bucket: '1h', expiresAt: 'T' };
    const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { link: earlier } });
    await expect(env.run(sut.createShareLink, input)).resolves.toEqual(earlier);
    expect(port.calls).toEqual([]);
  });

  it('waits until an earlier attempt that was still creating can no longer be writing, then writes once', async () => {
    const creatingSince = Date.now() - SHARE_CALL_DEADLINE_MS + 300;
    const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { creatingSince } });
    const link: ShareLinkGrantResult = await env.run(sut.createShareLink, input);
    const [call] = port.callsOf('createShareLink');
    expect(call).toBeDefined();
    expect(call.at.getTime()).toBeGreaterThanOrEqual(creatingSince + SHARE_CALL_DEADLINE_MS);
    expect((await port.local.readState()).shareLinks).toHaveLength(1);
    // The earlier call's answer never arrived: it may have made a link nobody received, and the result says so.
    expect(link.unreceivedLinks).toBe(1);
  });

  it('a late attempt and its retry, run at once as Temporal does after a missed heartbeat, never write together', async () => {
    let releaseFirst!: () => void;
    port.holdAfterEffect('createShareLink', new Promise<void>((resolve) => (releaseFirst = resolve)));
    const late = new MockActivityEnvironment().run(sut.createShareLink, input);
    await eventually(() => Promise.resolve(expect(port.callsOf('createShareLink')).toHaveLength(1)));

    // The server gave up on the first attempt (as if its heartbeat timeout had passed: the call began 29 s
    // ago) and the retry starts from the details the first one last recorded.
    const { creatingSince } = lastOf(beats) as { creatingSince: number };
    const heartbeatDetails = { creatingSince: creatingSince - SHARE_CALL_DEADLINE_MS + 1_000 };
    const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails, taskToken: Buffer.from('retry') });
    const retried = retry.run(sut.createShareLink, input);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(port.callsOf('createShareLink')).toHaveLength(1);
    releaseFirst();
    await late; // its answer reaches nobody: Temporal refuses the completion of an attempt it timed out
    const link = (await retried) as ShareLinkGrantResult;

    const links = (await port.local.readState()).shareLinks;
    expect(links).toHaveLength(2);
    const [, secondCall] = port.callsOf('createShareLink');
    expect(secondCall.at.getTime()).toBeGreaterThanOrEqual(heartbeatDetails.creatingSince + SHARE_CALL_DEADLINE_MS);
    expect(link.unreceivedLinks).toBe(1);
    expect(links.map((made) => made.recipients[0].email)).toEqual([input.recipientEmail, input.recipientEmail]);
  });

  it('counts an unanswered call once, however many attempts follow it', async () => {
    const afterWait = new MockActivityEnvironment({ attempt: 3, heartbeatDetails: { unreceived: 1 } });
    await expect(afterWait.run(sut.createShareLink, input)).resolves.toMatchObject({ unreceivedLinks: 1 });

    const waiting = new MockActivityEnvironment({
      attempt: 2,
      heartbeatDetails: { creatingSince: Date.now() - SHARE_CALL_DEADLINE_MS, unreceived: 1 },
    });
    await expect(waiting.run(sut.createShareLink, input)).resolves.toMatchObject({ unreceivedLinks: 2 });
    // What an attempt dying after the wait would leave: the earlier call counted, no longer pending.
    expect(beats.map((beat) => beat.details)).toContainEqual({ unreceived: 2 });
  });

  it('reports no unreceived link when every call was answered', async () => {
    const link = await new MockActivityEnvironment().run(sut.createShareLink, input);
    expect(link).not.toHaveProperty('unreceivedLinks');
  });

  it('writes nothing once asked to stop (the request was withdrawn) before the write', async () => {
    const env = new MockActivityEnvironment();
    port.holdAfterEffect('getSharePolicy', new Promise<void>((resolve) => setTimeout(resolve, 50)));
    const running = env.run(sut.createShareLink, input);
    env.cancel();
    await expect(running).rejects.toThrow();
    expect(port.callsOf('createShareLink')).toEqual([]);
  });

  it('writes nothing when the server answers the beat before the write with a cancellation', async () => {
    const cancelling = {
      connection: { withDeadline: (_deadline: number, call: () => Promise<void>) => call() },
      activity: {
        heartbeat: () => Promise.reject(new ActivityCancelledError('cancelled')),
      },
    } as unknown as Client;
    const activities = createActivities({
      onePassword: () => port,
      notifier: new RecordingNotifier(),
      logger: silentLogger,
      temporal: cancelling,
    });
    await expect(new MockActivityEnvironment().run(activities.createShareLink, input)).rejects.toThrow();
    expect(port.callsOf('createShareLink')).toEqual([]);
  });

  it('maps a refusal to a failure that says why without naming the recipient', async () => {
    port.failNext('createShareLink', new OnePasswordError('policy-refused', 'recipient not allowed'));
    const failure = await new MockActivityEnvironment().run(sut.createShareLink, input).catch((error: Error) => error);
    expect(failure).toMatchObject({ type: 'OnePassword.policy-refused', nonRetryable: true });
    expect(String((failure as Error).message)).not.toContain('bob.requester');
  });
});
