import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../../config/config';
import { ApiWorld, PEOPLE } from '../../../test/support/api-world';
import type { CommandIo } from '../io';
import { runPolicyCommand } from './policy';

function capture(): CommandIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (text) => stdout.push(text), err: (text) => stderr.push(text) };
}

/** The demo policy with one flow's block edited: `from` must occur in that block. */
function editFlow(text: string, flow: string, from: string, to: string): string {
  const start = text.indexOf(`  - name: ${flow}\n`);
  const end = text.indexOf('\n  - name: ', start + 1);
  const block = text.slice(start, end < 0 ? undefined : end);
  if (start < 0 || !block.includes(from)) throw new Error(`flow ${flow} has no "${from}"`);
  return text.slice(0, start) + block.replace(from, to) + (end < 0 ? '' : text.slice(end));
}

describe('latchkey policy simulate, over requests made through the API', () => {
  let world: ApiWorld;
  let dir: string;
  let stricter: string;
  const made: Record<'longProd' | 'stripe' | 'staging' | 'shortProd', string> = {} as never;

  beforeAll(async () => {
    world = await ApiWorld.create('cli-simulate');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-simulate-'));
    const asked = {
      longProd: { as: PEOPLE.alice, resourceId: 'prod-db', duration: 'PT2H' },
      stripe: { as: PEOPLE.frank, resourceId: 'stripe-key', duration: 'PT1H' },
      staging: { as: PEOPLE.alice, resourceId: 'staging-db', duration: 'PT30M' },
      shortProd: { as: PEOPLE.alice, resourceId: 'prod-db', duration: 'PT30M' },
    } as const;
    for (const [name, { as, ...json }] of Object.entries(asked)) {
      const created = await world.call('POST', '/v1/requests', {
        as,
        json: { ...json, justification: 'simulation test: a real request' },
      });
      expect(created.status).toBe(201);
      made[name as keyof typeof made] = created.body.requestId as string;
    }
    await world.eventually(
      () => world.requestCount(),
      (count) => count === 4,
    );
    // Stricter: production for an hour at most; the Stripe key and its neighbours for security only.
    let text = fs.readFileSync(path.join(repoRoot(), 'config', 'policy.yaml'), 'utf8');
    text = editFlow(text, 'prod-access', 'max: PT8H', 'max: PT1H');
    text = editFlow(text, 'prod-access', 'maxCount: 1, maxDuration: PT2H', 'maxCount: 1, maxDuration: PT30M');
    text = editFlow(text, 'security-approved', '- group: engineering', '- group: security');
    stricter = path.join(dir, 'stricter.yaml');
    fs.writeFileSync(stricter, text);
  }, 120_000);

  afterAll(async () => {
    await world.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const simulate = async (...argv: string[]) => {
    const io = capture();
    const code = await runPolicyCommand(['simulate', '--policy', stricter, ...argv], io, () => world.config);
    return { code, io };
  };

  it('reports exactly the requests the stricter policy would refuse, and why, with the ones it would change', async () => {
    const { code, io } = await simulate('--json');
    expect(io.stderr).toEqual([]);
    expect(code).toBe(1);
    const report = JSON.parse(io.stdout.join('')) as {
      totals: Record<string, number>;
      requests: Array<{ requestId: string; simulation: { outcome: string; refusal?: unknown; changes?: string[] } }>;
    };
    expect(report.totals).toEqual({ requests: 4, refused: 2, changed: 1 });
    const outcomes = Object.fromEntries(report.requests.map((request) => [request.requestId, request.simulation]));
    expect(outcomes[made.longProd]).toEqual({
      outcome: 'refused',
      refusal: {
        code: 'duration-too-long',
        rule: 'flows.prod-access.duration.max',
        message: 'PT2H is longer than the longest access this flow allows, PT1H',
      },
    });
    expect(outcomes[made.stripe]).toMatchObject({
      outcome: 'refused',
      refusal: { code: 'not-eligible', rule: 'flows.security-approved.requesters' },
    });
    expect(outcomes[made.shortProd]).toEqual({ outcome: 'changed', changes: ['maximum PT8H → PT1H'] });
    expect(outcomes[made.staging]).toEqual({ outcome: 'unchanged' });
  });

  it('prints a table of what changes, and exits as --fail-on says', async () => {
    const { code, io } = await simulate();
    expect(code).toBe(1);
    const text = io.stdout.join('\n');
    expect(text).toContain(`${made.longProd}  alice`);
    expect(text).toMatch(/refused: not-eligible \(flows\.security-approved\.requesters\)/);
    expect(text).not.toContain(made.staging);
    expect(text).toMatch(/4 requests since .*: 2 refused, 1 changed, 1 unchanged$/);
    expect((await simulate('--fail-on', 'never')).code).toBe(0);
    // Narrowed to the staging request, which nothing touches: nothing to fail on.
    expect((await simulate('--query', "LatchkeyResource = 'staging-db'", '--fail-on', 'changed')).code).toBe(0);
    expect((await simulate('--since', 'yesterday')).code).toBe(2);
  });
});
