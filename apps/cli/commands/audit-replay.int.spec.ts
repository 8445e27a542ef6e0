import { publicJwkOf } from '../../../trust/command-keys';
import { TEST_ONLY_COMMAND_KEY } from '../../../test/support/commands';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateKeyPairSync, sign } from 'node:crypto';
import { ChainWriter } from '../../../audit/chain';
import { repoRoot } from '../../../config/config';
import { ApiWorld, PEOPLE } from '../../../test/support/api-world';
import type { CommandIo } from '../io';
import { runAuditCommand } from './audit';
import { runReplayCommand } from './replay';

/** A CommandIo that keeps what a command printed, for assertions. */
function capture(): CommandIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (text) => stdout.push(text), err: (text) => stderr.push(text) };
}

describe('latchkey audit export / verify and replay, over requests made through the API', () => {
  let world: ApiWorld;
  let dir: string;
  const requestIds: string[] = [];

  beforeAll(async () => {
    world = await ApiWorld.create('cli-audit');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-audit-'));
    // Three lifecycles: granted then revoked early, rejected, and one still waiting.
    for (const outcome of ['revoked', 'rejected', 'pending'] as const) {
      const created = await world.call('POST', '/v1/requests', {
        as: PEOPLE.alice,
        json: { resourceId: 'prod-db', duration: 'PT1H', justification: `audit trail test: ${outcome}` },
      });
      expect(created.status).toBe(201);
      const id = created.body.requestId as string;
      requestIds.push(id);
      if (outcome === 'revoked') {
        expect((await world.call('POST', `/v1/requests/${id}/approve`, { as: PEOPLE.bob, json: {} })).status).toBe(200);
        expect((await world.call('POST', `/v1/requests/${id}/revoke`, { as: PEOPLE.alice, json: {} })).status).toBe(
          200,
        );
      }
      if (outcome === 'rejected') {
        const rejected = await world.call('POST', `/v1/requests/${id}/reject`, {
          as: PEOPLE.carol,
          json: { comment: 'no' },
        });
        expect(rejected.status).toBe(200);
      }
    }
    await world.eventually(
      () => world.requestCount(),
      (count) => count === 3,
    );
  });

  afterAll(async () => {
    await world.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function exportTo(file: string): Promise<string[]> {
    const io = capture();
    expect(await runAuditCommand(['export', '--out', file], io, world.config)).toBe(0);
    expect(io.stderr.join('\n')).toContain('exported 3 requests (6 records)');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    return fs.readFileSync(file, 'utf8').trim().split('\n');
  }

  /** The audit key's public half, as an auditor receives it. */
  async function auditKeys(): Promise<string> {
    const io = capture();
    expect(await runAuditCommand(['public-key'], io, world.config)).toBe(0);
    const file = path.join(dir, 'audit-keys.json');
    fs.writeFileSync(file, io.stdout.join('\n'));
    return file;
  }

  /** The public half of the key the API signs commands with (the test API's: the TEST-ONLY key). */
  function commandKeys(): string {
    const file = path.join(dir, 'command-keys.json');
    fs.writeFileSync(file, JSON.stringify({ keys: [publicJwkOf(TEST_ONLY_COMMAND_KEY)] }));
    return file;
  }

  async function verify(file: string): Promise<{ code: number; out: string }> {
    const io = capture();
    const keys = ['--keys', await auditKeys(), '--keys', commandKeys()];
    const code = await runAuditCommand(['verify', file, ...keys], io, world.config);
    return { code, out: io.stdout.join('\n') };
  }

  it('exports every request as its history and its timeline, with no share link or e-mail in the file', async () => {
    const lines = await exportTo(path.join(dir, 'export.jsonl'));
    expect(lines).toHaveLength(7);
    const [head, ...records] = lines
      .map((line) => (JSON.parse(line) as { record: { type: string; requestId: string } }).record)
      .reverse();
    expect(head).toEqual({ type: 'head', records: 6 });
    expect(new Set(records.map((record) => record.requestId))).toEqual(new Set(requestIds));
    expect(records.filter((record) => record.type === 'timeline')).toHaveLength(3);
    const text = lines.join('\n');
    expect(text).not.toMatch(/https:\/\/share\./);
    expect(text).not.toContain('alice@example.com');
  });

  it('verifies an untouched export, and detects a deleted line and an edited line', async () => {
    const file = path.join(dir, 'verify.jsonl');
    const lines = await exportTo(file);
    expect(lines).toHaveLength(7);
    const intact = await verify(file);
    expect(intact).toEqual({
      code: 0,
      out: expect.stringContaining('ok: 6 records, chain intact, head signed by audit-'),
    });
    // Every decision was made through the API, which signed it: each is checked, none is unsigned.
    expect(intact.out).toMatch(
      /decisions: [1-9]\d* signed and verified, 0 unsigned \(recorded before signed commands\)/,
    );

    const deleted = path.join(dir, 'deleted.jsonl');
    fs.writeFileSync(deleted, [...lines.slice(0, 2), ...lines.slice(3)].join('\n'));
    expect(await verify(deleted)).toEqual({ code: 1, out: expect.stringContaining('TAMPERED: line 3') });

    const edited = path.join(dir, 'edited.jsonl');
    fs.writeFileSync(
      edited,
      lines.map((line, i) => (i === 1 ? line.replace('audit trail test', 'audit trial test') : line)).join('\n'),
    );
    expect(await verify(edited)).toEqual({ code: 1, out: expect.stringContaining('TAMPERED: line 2') });
  });

  it('an export edited and chained again with fresh hashes fails, naming the first bad line', async () => {
    const file = path.join(dir, 'rechained.jsonl');
    const lines = await exportTo(file);
    const { keyId } = JSON.parse(lines[0]) as { keyId: string };
    // The forger keeps the real key id and the untouched first line, and signs the rest with a key of their own.
    const { privateKey } = generateKeyPairSync('ed25519');
    const forger = new ChainWriter<object>({ keyId, sign: (data) => sign(null, data, privateKey).toString('hex') });
    const bodies = lines.slice(0, -1).map((line) => (JSON.parse(line) as { record: object }).record);
    const forged = bodies.map((body, i) =>
      forger.line(
        i === 1 ? (JSON.parse(JSON.stringify(body).replace('audit trail test', 'audit trial test')) as object) : body,
      ),
    );
    fs.writeFileSync(file + '.forged', [lines[0], ...forged.slice(1), forger.headLine()].join('\n'));
    expect(await verify(file + '.forged')).toEqual({
      code: 1,
      out: expect.stringMatching(/^TAMPERED: line 2: signature mismatch/),
    });
  });

  it('replays every workflow on the server against the current code with no non-determinism', async () => {
    const io = capture();
    expect(await runReplayCommand(['--all'], io, world.config)).toBe(0);
    for (const id of requestIds) expect(io.stdout).toContain(`ok   ${id}`);
    expect(io.stdout.at(-1)).toMatch(/0 failed$/);
  });

  it('reports each request whose history a deliberately changed workflow can no longer replay', async () => {
    const changed = path.join(repoRoot(), 'workflows', '__fixtures__', 'versions', 'unpatched-change.ts');
    const io = capture();
    expect(await runReplayCommand(['--all', '--workflows', changed], io, world.config)).toBe(1);
    for (const id of requestIds) {
      expect(io.stdout).toContainEqual(expect.stringMatching(new RegExp(`^FAIL ${id}: non-determinism: `)));
    }
    expect(io.stdout.at(-1)).toMatch(/3 failed$/);
  });

  it('replays one request, and the histories of an export file', async () => {
    const one = capture();
    expect(await runReplayCommand(['--request', requestIds[0]], one, world.config)).toBe(0);
    expect(one.stdout).toEqual([`ok   ${requestIds[0]}`, 'replayed 1 histories: 1 clean, 0 failed']);

    const file = path.join(dir, 'replay.jsonl');
    await exportTo(file);
    const fromFile = capture();
    expect(await runReplayCommand(['--file', file], fromFile, world.config)).toBe(0);
    expect(fromFile.stdout.at(-1)).toBe('replayed 3 histories: 3 clean, 0 failed');
  });
});
