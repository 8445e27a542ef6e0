import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, repoRoot } from '../../config/config';
import { LocalOnePassword } from '../../onepassword/local/local-onepassword';
import { OnePasswordSdkAdapter } from '../../onepassword/sdk/sdk-adapter';
import { parsePolicy } from '../../policy';
import { createWorkerPorts } from './ports';

const demoPolicy = fs.readFileSync(path.join(repoRoot(), 'config', 'policy.yaml'), 'utf8');
// The demo policy plus a real 1Password account with a vault-group resource.
const policyText = demoPolicy
  .replace(
    /^integrations:\n/m,
    `integrations:
  - name: acme
    kind: onepassword
    serviceAccount: latchkey-acme
    token: { env: ACME_OP_TOKEN }
    owners:
      - group: security
`,
  )
  .replace(
    /^resources:\n/m,
    `resources:
  - id: acme-ops
    integration: acme
    vault: vlt_acme_ops
    grant: vault-group
    permissions: [read_items]
    grantsWholeGroup: true
    groups:
      engineering: grp_acme_eng
`,
  );

describe(createWorkerPorts.name, () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-ports-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig({ LATCHKEY_DATA_DIR: dataDir });
  const sut = createWorkerPorts(parsePolicy(policyText, 'policy.yaml'), config);

  it('gives local integrations the local 1Password and onepassword integrations the SDK adapter', () => {
    expect(sut.forIntegration('demo')).toBeInstanceOf(LocalOnePassword);
    expect(sut.forIntegration('acme')).toBeInstanceOf(OnePasswordSdkAdapter);
    expect([...sut.sdkAdapters.keys()]).toEqual(['acme']);
  });

  it('knows the vaults the service account created from the vault-group resources, and reads tokens only when needed', async () => {
    const acme = sut.forIntegration('acme');
    const attempt = (vaultId: string) =>
      acme.grantGroupPermissions({ vaultId, groupId: 'grp_acme_eng', permissions: ['read_items'] }).then(
        () => 'granted',
        (error: Error) => error.message,
      );
    expect(await attempt('vlt_not_ours')).toContain('only on vaults it created');
    // A policy vault gets as far as the SDK client, which needs the token from its source.
    expect(await attempt('vlt_acme_ops')).toContain('ACME_OP_TOKEN');
  });

  it('refuses an integration the policy does not define', () => {
    expect(() => sut.forIntegration('nope')).toThrow('no 1Password port for integration "nope"');
  });
});
