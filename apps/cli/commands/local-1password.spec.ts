import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LocalOnePassword } from '../../../onepassword/local/local-onepassword';
import { runLocalOnePasswordCommand } from './local-1password';

describe(runLocalOnePasswordCommand.name, () => {
  let dir: string;
  let stateFile: string;
  let out: string[];
  let err: string[];
  const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s) };
  const run = (...argv: string[]): Promise<number> => runLocalOnePasswordCommand(argv, io, stateFile);

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'latchkey-cli-local-1password-'));
    stateFile = path.join(dir, 'state.json');
    out = [];
    err = [];
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function grantSome(): Promise<{ url: string; secret: string }> {
    const local = new LocalOnePassword({ stateFile });
    const link = await local.createShareLink({
      vaultId: 'vlt_prod',
      itemId: 'itm_prod_db',
      recipients: ['alice@example.com'],
      expiry: '1d',
      oneTimeOnly: true,
      reference: 'k',
    });
    await local.grantGroupPermissions({
      vaultId: 'vlt_oncall',
      groupId: 'grp_engineering',
      permissions: ['read_items'],
    });
    return { url: link.url, secret: await local.getItemSecret('vlt_prod', 'itm_prod_db') };
  }

  it('prints the state as JSON with secrets and share links redacted to their id', async () => {
    const { url, secret } = await grantSome();
    expect(await run('state')).toBe(0);
    const printed = out.join('\n');
    const state = JSON.parse(printed) as { vaults: unknown[]; shareLinks: Array<{ id: string; url: string }> };
    expect(state.vaults).toHaveLength(4);
    expect(state.shareLinks[0].url).toBe(`[redacted share link ${state.shareLinks[0].id}]`);
    expect(printed).not.toContain(url.split('#')[1]);
    expect(printed).not.toContain(secret);
  });

  it('reveals links and secrets only when asked', async () => {
    const { url, secret } = await grantSome();
    expect(await run('state', '--reveal')).toBe(0);
    expect(out.join('\n')).toContain(url);
    expect(out.join('\n')).toContain(secret);
  });

  it('tells who has access right now', async () => {
    await grantSome();
    expect(await run('access')).toBe(0);
    expect(out.join('\n')).toMatch(
      /vlt_prod\/itm_prod_db "Production database" .* to alice@example\.com \(1 view left\)/,
    );
    expect(out.join('\n')).toContain('grp_engineering on vlt_oncall "On-call runbooks": read_items');
    out = [];
    expect(await run('access', '--json')).toBe(0);
    expect(JSON.parse(out.join('\n'))).toMatchObject({ shareLinks: [{ itemId: 'itm_prod_db' }] });
  });

  it('switches faults on and off for every process using the file', async () => {
    expect(await run('faults', '--rate-limit-every', '3', '--latency-ms', '0', '--operations', 'getItem')).toBe(0);
    expect((await new LocalOnePassword({ stateFile }).readState()).faults).toEqual({
      rateLimitEvery: 3,
      latencyMs: 0,
      failOperations: ['getItem'],
    });
    expect(await run('faults', '--clear')).toBe(0);
    expect((await new LocalOnePassword({ stateFile }).readState()).faults).toEqual({});
  });

  it('refuses bad fault options with usage', async () => {
    expect(await run('faults', '--fail-every', '0')).toBe(2);
    expect(await run('faults', '--operations', 'dropTables')).toBe(2);
    expect(await run('faults')).toBe(2);
    expect(await run('faults', '--clear', '--fail-every', '2')).toBe(2);
    expect(err.join('\n')).toContain('unknown operations: dropTables');
  });

  it('re-seeds on reset', async () => {
    const { secret } = await grantSome();
    expect(await run('reset')).toBe(0);
    const local = new LocalOnePassword({ stateFile });
    expect((await local.readState()).shareLinks).toEqual([]);
    expect(await local.getItemSecret('vlt_prod', 'itm_prod_db')).not.toBe(secret);
  });

  it('answers an unknown subcommand with usage and exit code 2', async () => {
    expect(await run('drop')).toBe(2);
    expect(err.join('\n')).toContain('unknown subcommand "drop"');
  });
});
