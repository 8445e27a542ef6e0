import { sinceInstant } from './policy-simulate';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runPolicyCommand } from './policy';

const POLICY = path.join(__dirname, '..', '..', '..', 'config', 'policy.yaml');

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runPolicyCommand(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('latchkey policy check', () => {
  it('summarises a valid policy and exits 0', async () => {
    const sut = await run('check', POLICY);
    expect(sut.code).toBe(0);
    expect(sut.out).toContain(`${POLICY}: valid`);
    expect(sut.out).toMatch(/version {7}sha256:[0-9a-f]{64}/);
    expect(sut.out).toContain('integrations  1\n  demo (local, service account latchkey-demo, no token)');
    expect(sut.out).toContain('resources     6');
    expect(sut.out).toContain('  oncall-vault: vault vlt_oncall (demo, vault-group)');
    expect(sut.out).toContain(
      'flows         4 (tried in this order)\n  staging-self-service: staging-db; automatic; up to PT8H',
    );
  });

  it('lists every issue as file:line:col key: message and exits 1', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-cli-'));
    try {
      const file = path.join(dir, 'policy.yaml');
      const broken = fs
        .readFileSync(POLICY, 'utf8')
        .replace(
          'resources: [stripe-key, reporting-db, oncall-vault]',
          'resources: [stripe-key, reporting-db, oncall-vaults]',
        )
        .replace("accessDetails: 'Connect", `token: secret-in-the-file\n    accessDetails: 'Connect`);
      fs.writeFileSync(file, broken);
      const at = (text: string, needle: string) => {
        const before = text.slice(0, text.indexOf(needle)).split('\n');
        return `${before.length}:${before[before.length - 1].length + 1}`;
      };

      const sut = await run('check', file);
      expect(sut.code).toBe(1);
      expect(sut.out).toBe('');
      expect(sut.err).toContain(
        `${file}:${at(broken, 'token: secret')} integrations[0].token: must be { env: VARIABLE_NAME } or { file: PATH }`,
      );
      expect(sut.err).not.toContain('secret-in-the-file');
      expect(sut.err).toContain('1 issue: the policy cannot be used');

      const rest = broken.replace('    token: secret-in-the-file\n', '');
      fs.writeFileSync(file, rest);
      const second = await run('check', file);
      expect(second.err).toContain(
        `${file}:${at(rest, 'oncall-vaults]')} flows[3].resources[2]: resource "oncall-vaults" is not defined`,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 without exactly one file', async () => {
    expect((await run('check')).code).toBe(2);
  });
});

describe('latchkey policy explain', () => {
  const alice = ['--user', 'alice', '--groups', 'engineering', '--policy', POLICY];

  it('alice/prod-db for PT2H: the security group approves, then security-leads', async () => {
    const sut = await run('explain', ...alice, '--resource', 'prod-db', '--duration', 'PT2H');
    expect(sut.code).toBe(0);
    expect(sut.out).toContain('decision      ALLOWED by flow prod-access');
    expect(sut.out).toContain("owner         group security (from the item's owner tag)");
    expect(sut.out).toContain('approval      tier 0: group security; any one approval');
    expect(sut.out).toContain('              tier 1: group security-leads; any one approval');
    expect(sut.out).toContain('self-approval not allowed');
    expect(sut.out).toContain('duration      PT2H (this flow allows PT1M to PT8H, default PT1H)');
    expect(sut.out).toContain('tier 1 is asked PT4H after the request');
    expect(sut.out).toContain('the request times out P7D after');
    expect(sut.out).toContain('expiring after 1d');
    expect(sut.out).toContain(
      `guarantee     "viewable once, by the requester's e-mail, until T; a share link cannot be withdrawn early" (T = 1d after the grant)`,
    );
  });

  it('explains a vault-group grant and its guarantee', async () => {
    const sut = await run('explain', ...alice, '--resource', 'oncall-vault');
    expect(sut.code).toBe(0);
    expect(sut.out).toContain(
      'grant         vault-group: 1Password group grp_engineering gets read_items, reveal_item_password on vault vlt_oncall',
    );
    expect(sut.out).toContain('"1Password access removed at T" (T = PT1H after the grant)');
  });

  it('explains an automatic flow', async () => {
    const sut = await run(
      'explain',
      ...alice,
      '--resource',
      'staging-db',
      '--justification',
      'load test of the new index',
    );
    expect(sut.code).toBe(0);
    expect(sut.out).toContain('approval      automatic: granted without approval');
    expect(sut.out).toContain('(checked)');
  });

  it('says why a request would be refused, and exits 1', async () => {
    const tooLong = await run('explain', ...alice, '--resource', 'prod-db', '--duration', 'P1D');
    expect(tooLong.code).toBe(1);
    expect(tooLong.out).toContain(
      'decision      REFUSED (duration-too-long)\nrule          flows.prod-access.duration.max\nwhy           P1D is longer than the longest access this flow allows, PT8H',
    );

    const outsider = await run(
      'explain',
      '--user',
      'erin',
      '--groups',
      'payments',
      '--resource',
      'prod-db',
      '--policy',
      POLICY,
    );
    expect(outsider.out).toContain('REFUSED (not-eligible)');
  });

  it('checks a justification when one is given', async () => {
    const sut = await run('explain', ...alice, '--resource', 'prod-db', '--justification', 'short');
    expect(sut.code).toBe(1);
    expect(sut.out).toContain('REFUSED (justification-mismatch)');
  });

  it('prints the evaluation as JSON with --json', async () => {
    const sut = await run('explain', ...alice, '--resource', 'prod-db', '--json');
    const parsed = JSON.parse(sut.out) as { ok: boolean; snapshot: { flowName: string; durationMs: number } };
    expect(parsed).toMatchObject({ ok: true, snapshot: { flowName: 'prod-access', durationMs: 3_600_000 } });
  });

  it('exits 2 on missing or unknown options', async () => {
    expect((await run('explain', '--user', 'alice')).code).toBe(2);
    const unknown = await run('explain', '--bogus');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("Unknown option '--bogus'");
    expect((await run()).code).toBe(2);
  });
});

describe(sinceInstant.name, () => {
  const now = Date.parse('2026-11-30T12:00:00.000Z');
  it('reads 30d, 12h, 45m, ISO 8601 durations and instants', () => {
    expect(sinceInstant('30d', now).toISOString()).toBe('2026-10-31T12:00:00.000Z');
    expect(sinceInstant('12h', now).toISOString()).toBe('2026-11-30T00:00:00.000Z');
    expect(sinceInstant('45m', now).toISOString()).toBe('2026-11-30T11:15:00.000Z');
    expect(sinceInstant('P1D', now).toISOString()).toBe('2026-11-29T12:00:00.000Z');
    expect(sinceInstant('2026-11-01T00:00:00Z', now).toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(() => sinceInstant('yesterday', now)).toThrow('--since must be like 30d, P30D or an ISO 8601 instant');
  });
});
