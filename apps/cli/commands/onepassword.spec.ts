import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../config/config';
import { runOnePasswordCommand } from './onepassword';

describe(runOnePasswordCommand.name, () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-cli-check-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
    const out: string[] = [];
    const code = await runOnePasswordCommand(
      argv,
      { out: (text) => out.push(text), err: (text) => out.push(text) },
      loadConfig({ LATCHKEY_DATA_DIR: dataDir, ...env }),
    );
    return { code, out: out.join('\n') };
  }

  it('reports the demo integration and exits 0 when everything can be served', async () => {
    const { code, out } = await run(['check', '--integration', 'demo', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual([expect.objectContaining({ integration: 'demo', signedIn: true, findings: [] })]);
  });

  it('exits 1 when the policy asks for something the account cannot serve', async () => {
    const policyFile = path.join(dataDir, 'policy.yaml');
    const demo = fs.readFileSync(loadConfig({}).policyFile, 'utf8');
    fs.writeFileSync(policyFile, demo.replace('item: itm_staging_db', 'item: itm_gone'));
    const { code, out } = await run(['check'], { LATCHKEY_POLICY_FILE: policyFile });
    expect(code).toBe(1);
    expect(out).toContain('error: staging-db: item itm_gone:');
  });

  it('explains itself and exits 2 without a subcommand', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['--help'])).code).toBe(0);
  });
});
