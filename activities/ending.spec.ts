import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '.';
import { OnePasswordError } from '../onepassword/port';
import { RecordingPort } from '../test/support/recording-port';
import { RecordingNotifier, silentLogger } from '../test/support/workflow-world';

const key = { integration: 'demo', vaultId: 'vlt_oncall', groupId: 'grp_engineering', idempotencyKey: 'lease:revoke' };

describe('ending access in 1Password', () => {
  let port: RecordingPort;
  let notifier: RecordingNotifier;
  let sut: ReturnType<typeof createActivities>;

  beforeEach(async () => {
    port = await RecordingPort.create();
    notifier = new RecordingNotifier();
    sut = createActivities({ onePassword: () => port, notifier, logger: silentLogger });
  });
  afterEach(() => port.dispose());

  it('counts a deleted vault as access ended with it, and tells admins', async () => {
    await port.local.administer((state) => {
      state.vaults = state.vaults.filter((vault) => vault.id !== 'vlt_oncall');
    });
    await expect(new MockActivityEnvironment().run(sut.revokeGroupPermissions, key)).resolves.toEqual({
      effect: 'gone',
    });
    expect(notifier.ofKind('resource-gone')).toEqual([expect.objectContaining({ recipients: ['role:admin'] })]);
  });

  it('reports a blocked end to admins at attempts 1, 2, 4, 8, never silently and never in a flood', async () => {
    const forbidden = () => new OnePasswordError('forbidden', 'the service account lost this vault');
    for (const attempt of [1, 2, 3, 4, 5, 6, 7, 8]) {
      port.failNext('revokeGroupPermissions', forbidden());
      await expect(new MockActivityEnvironment({ attempt }).run(sut.revokeGroupPermissions, key)).rejects.toMatchObject(
        {
          type: 'OnePassword.forbidden',
          nonRetryable: false,
        },
      );
    }
    expect(notifier.ofKind('revoke-blocked').map((event) => event.details?.attempt)).toEqual([1, 2, 4, 8]);
  });

  it('rotates an item, and says so when the item is gone instead', async () => {
    const rotate = { integration: 'demo', vaultId: 'vlt_prod', itemId: 'itm_prod_db', idempotencyKey: 'r:rotate' };
    await expect(new MockActivityEnvironment().run(sut.rotateItemSecret, rotate)).resolves.toMatchObject({
      version: 2,
    });
    const gone = { ...rotate, itemId: 'itm_deleted', idempotencyKey: 'r2:rotate' };
    await expect(new MockActivityEnvironment().run(sut.rotateItemSecret, gone)).resolves.toMatchObject({ gone: true });
  });
});
