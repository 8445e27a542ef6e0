import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '.';
import type { ResourceCatalog } from '../contracts/catalog';
import { OnePasswordError } from '../onepassword/port';
import { RecordingPort } from '../test/support/recording-port';
import { RecordingNotifier, silentLogger } from '../test/support/workflow-world';

describe('refreshCatalog', () => {
  let port: RecordingPort;
  afterEach(() => port.dispose());

  const activities = (groupIds: string[]) =>
    createActivities({
      onePassword: () => port,
      notifier: new RecordingNotifier(),
      logger: silentLogger,
      integrations: [{ name: 'demo', repair: true, groupIds }],
    });

  it('names the groups the policy maps, whom vault-group grants reach, and leaves out one 1Password does not know', async () => {
    port = await RecordingPort.create();
    const sut = activities(['grp_engineering', 'grp_gone']);
    const catalog: ResourceCatalog = await new MockActivityEnvironment().run(sut.refreshCatalog, ['demo']);
    expect(catalog.groups).toEqual([
      { integration: 'demo', groupId: 'grp_engineering', title: 'Engineering', type: 'userDefined' },
    ]);
    expect(catalog.vaults.map((vault) => vault.vaultId)).toEqual([
      'vlt_prod',
      'vlt_staging',
      'vlt_oncall',
      'vlt_logins',
    ]);
  });

  it('fails (to be retried) when 1Password is unavailable while describing a group', async () => {
    port = await RecordingPort.create();
    port.failNext('describeGroup', new OnePasswordError('unavailable', '1Password is unavailable right now'));
    await expect(
      new MockActivityEnvironment().run(activities(['grp_engineering']).refreshCatalog, ['demo']),
    ).rejects.toMatchObject({ type: 'OnePassword.unavailable', nonRetryable: false });
  });
});
