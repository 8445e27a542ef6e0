import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '.';
import { OnePasswordError } from '../onepassword/port';
import { RecordingPort } from '../test/support/recording-port';
import { RecordingNotifier, silentLogger } from '../test/support/workflow-world';
import { SHARE_CALL_DEADLINE_MS } from './share-links';

const input = {
  idempotencyKey: 'AccessRequest:req_unit:grant',
  integration: 'demo',
  vaultId: 'vlt_prod',
  itemId: 'itm_prod_db',
  recipientEmail: 'bob.requester@example.com',
  durationMs: 3_600_000,
  oneTimeView: true,
};

describe('createShareLink across attempts', () => {
  let port: RecordingPort;
  let sut: ReturnType<typeof createActivities>;

  beforeEach(async () => {
    port = await RecordingPort.create();
    sut = createActivities({ onePassword: () => port, notifier: new RecordingNotifier(), logger: silentLogger });
  });
  afterEach(() => port.dispose());

  it('records the link it made in its heartbeat details, for an attempt that outlives it', async () => {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(details));
    const link = await env.run(sut.createShareLink, input);
    expect(beats.at(-1)).toEqual({ link });
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
    await env.run(sut.createShareLink, input);
    const [call] = port.callsOf('createShareLink');
    expect(call).toBeDefined();
    expect(Date.now()).toBeGreaterThanOrEqual(creatingSince + SHARE_CALL_DEADLINE_MS);
    expect((await port.local.readState()).shareLinks).toHaveLength(1);
  });

  it('writes nothing once asked to stop (the request was withdrawn) before the write', async () => {
    const env = new MockActivityEnvironment();
    port.holdAfterEffect('getSharePolicy', new Promise<void>((resolve) => setTimeout(resolve, 50)));
    const running = env.run(sut.createShareLink, input);
    env.cancel();
    await expect(running).rejects.toThrow();
    expect(port.callsOf('createShareLink')).toEqual([]);
  });

  it('maps a refusal to a failure that says why without naming the recipient', async () => {
    port.failNext('createShareLink', new OnePasswordError('policy-refused', 'recipient not allowed'));
    const failure = await new MockActivityEnvironment().run(sut.createShareLink, input).catch((error: Error) => error);
    expect(failure).toMatchObject({ type: 'OnePassword.policy-refused', nonRetryable: true });
    expect(String((failure as Error).message)).not.toContain('bob.requester');
  });
});
