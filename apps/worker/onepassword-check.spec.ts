import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, repoRoot } from '../../config/config';
import { integrationUnusable } from '../../onepassword/check';
import { LocalOnePassword } from '../../onepassword/local/local-onepassword';
import { parsePolicy } from '../../policy';
import { checkIntegration, describeCheck } from './onepassword-check';
import { createWorkerPorts } from './ports';

const demoPolicy = fs.readFileSync(path.join(repoRoot(), 'config', 'policy.yaml'), 'utf8');

describe(checkIntegration.name, () => {
  let dataDir: string;
  let config: ReturnType<typeof loadConfig>;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-check-'));
    config = loadConfig({ LATCHKEY_DATA_DIR: dataDir });
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('finds nothing the demo integration cannot serve, and says whom its vault-group grant reaches', async () => {
    const policy = parsePolicy(demoPolicy, 'policy.yaml');
    const report = await checkIntegration(policy, createWorkerPorts(policy, config), 'demo');

    expect(report.findings).toEqual([]);
    expect(report.signedIn).toBe(true);
    expect(report.managedVaults).toEqual([{ id: 'vlt_oncall', manageable: true }]);
    expect(report.groups).toEqual([
      {
        resource: 'oncall-vault',
        identityGroup: 'engineering',
        id: 'grp_engineering',
        title: 'Engineering',
        type: 'userDefined',
      },
    ]);
    expect(report.sharedItems.length).toBeGreaterThan(0);
    expect(describeCheck(report)).toContain(
      '  oncall-vault: engineering -> 1Password group "Engineering" grp_engineering (userDefined): a grant reaches every member of it',
    );
  });

  it('names what the policy asks that the account cannot serve: a missing item, an unmanaged vault, an unknown group', async () => {
    const text = demoPolicy
      .replace('item: itm_staging_db', 'item: itm_gone')
      .replace('vault: vlt_oncall', 'vault: vlt_prod')
      .replace('engineering: grp_engineering', 'engineering: grp_gone');
    const policy = parsePolicy(text, 'policy.yaml');
    const report = await checkIntegration(policy, createWorkerPorts(policy, config), 'demo');

    expect(report.findings.map(({ severity, subject }) => `${severity} ${subject}`)).toEqual([
      'error staging-db',
      'error oncall-vault',
      'error oncall-vault',
    ]);
    expect(report.findings[1].message).toMatch(/cannot manage group permissions on vault vlt_prod/);
    expect(report.findings[2].message).toMatch(/^group grp_gone: local 1Password: no such group$/);
    expect(integrationUnusable(report)).toBe(false);
  });

  it('calls an integration whose token 1Password refuses unusable, and an outage only a warning', async () => {
    const policy = parsePolicy(demoPolicy, 'policy.yaml');
    const local = new LocalOnePassword({ stateFile: config.localOnePassword.stateFile });
    await local.setFaults({ tokenRevoked: true });
    const revoked = await checkIntegration(policy, createWorkerPorts(policy, config), 'demo');
    expect(revoked.findings).toEqual([
      { severity: 'error', subject: 'integration', message: expect.stringMatching(/^cannot list vaults/) },
    ]);
    expect(integrationUnusable(revoked)).toBe(true);

    await local.setFaults({ outageUntil: '9999-01-01T00:00:00.000Z' });
    const down = await checkIntegration(policy, createWorkerPorts(policy, config), 'demo');
    expect(down.findings.map((finding) => finding.severity)).toEqual(['warning']);
    expect(integrationUnusable(down)).toBe(false);
  });
});

describe('WorkerPorts.refuseGrants', () => {
  it('refuses new grants while the integration cannot work, never ends of access, and lifts once it works again', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-refuse-'));
    try {
      const policy = parsePolicy(demoPolicy, 'policy.yaml');
      const config = loadConfig({ LATCHKEY_DATA_DIR: dataDir });
      const ports = createWorkerPorts(policy, config);
      const local = new LocalOnePassword({ stateFile: config.localOnePassword.stateFile });
      const grant = { vaultId: 'vlt_oncall', groupId: 'grp_engineering', permissions: ['read_items'] };
      await ports.forIntegration('demo').grantGroupPermissions(grant);
      await local.setFaults({ tokenRevoked: true });
      ports.refuseGrants('demo', 'integration "demo" failed its 1Password check');
      const port = ports.forIntegration('demo');

      await expect(port.grantGroupPermissions(grant)).rejects.toMatchObject({
        kind: 'forbidden',
        message: 'integration "demo" failed its 1Password check',
      });
      // Ending access still goes to 1Password (which refuses it for now, and the activity retries).
      await expect(
        port.revokeGroupPermissions({ vaultId: 'vlt_oncall', groupId: 'grp_engineering' }),
      ).rejects.toMatchObject({
        kind: 'auth',
      });

      await local.setFaults({});
      await port.revokeGroupPermissions({ vaultId: 'vlt_oncall', groupId: 'grp_engineering' });
      await port.grantGroupPermissions(grant);
      expect(await port.listGroupPermissions('vlt_oncall')).toEqual([
        expect.objectContaining({ groupId: 'grp_engineering', permissions: ['read_items'] }),
      ]);
      expect(ports.forIntegration('demo')).toBeInstanceOf(LocalOnePassword);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
