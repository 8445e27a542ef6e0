import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadCliSignInSettings } from '../../../config/cli';
import { repoRoot } from '../../../config/config';
import { ApiWorld } from '../../../test/support/api-world';
import { runLoginCommand } from './login';
import { runRequesterCommand } from './requester';

interface Run {
  code: number;
  out: string[];
  err: string[];
}

/**
 * The requester's CLI in-process, over HTTP only, against a real API, worker and Temporal dev server: alice
 * asks and waits while bob, in security, finds the request in his inbox and approves it, all with the CLI.
 */
describe('the requester CLI through a whole request, against the API', () => {
  let world: ApiWorld;
  let home: string;
  const progress: string[] = [];

  beforeAll(async () => {
    world = await ApiWorld.create('cli');
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-cli-sessions-'));
    for (const person of ['alice', 'bob']) {
      const config = {
        ...world.config,
        auth: world.config.auth,
        directoryFile: path.join(repoRoot(), 'config', 'people.yaml'),
        cli: { apiUrl: world.baseUrl, sessionFile: sessionOf(person) },
      };
      const out: string[] = [];
      const code = await runLoginCommand(
        ['--as', person],
        { out: (s) => out.push(s), err: (s) => out.push(s) },
        {
          config,
          signIn: loadCliSignInSettings({}),
        },
      );
      if (code !== 0) throw new Error(`login --as ${person}: ${out.join('\n')}`);
    }
  }, 120_000);
  afterAll(async () => {
    await world?.dispose();
    fs.rmSync(home, { recursive: true, force: true });
  }, 60_000);

  function sessionOf(person: string): string {
    return path.join(home, person, 'session.json');
  }

  /** One CLI command as `person`; `live` sees its output as it comes (for a command that waits). */
  function cli(person: string, command: string, argv: string[], live?: Run): Promise<Run> {
    const run = live ?? { code: -1, out: [], err: [] };
    return runRequesterCommand(
      command,
      argv,
      { out: (s) => run.out.push(s), err: (s) => run.err.push(s) },
      {
        sessionFile: sessionOf(person),
        progress: { isTTY: false, write: (s: string) => progress.push(s) },
        pollIntervalMs: 250,
      },
    ).then((code) => Object.assign(run, { code }));
  }

  async function until<T>(probe: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
    const value = await world.eventually(probe, check, 30_000);
    if (!check(value)) throw new Error(`gave up waiting: ${JSON.stringify(value)}`);
    return value;
  }

  it('login, request --wait while bob approves from his inbox, status, grant, extend, give-back', async () => {
    // alice asks for an hour and waits; her request id is printed before the wait.
    const asking: Run = { code: -1, out: [], err: [] };
    const waited = cli(
      'alice',
      'request',
      ['prod-db', '--for', '1h', '--why', 'Investigating INC-4211 slow queries', '--ticket', 'INC-4211', '--wait'],
      asking,
    );
    await until(
      () => Promise.resolve(asking.out.length),
      (lines) => lines > 0,
    );
    const [id, created] = asking.out[0].split(' ');
    expect(id).toMatch(/^req_[0-9a-z]{26}$/);
    expect(created).toBe('PENDING_APPROVAL:');

    // bob sees it in his inbox (visibility lags a second), with what he needs to decide.
    const inbox = await until(
      () => cli('bob', 'inbox', []),
      (run) => run.out.join('\n').includes(id),
    );
    expect(inbox.code).toBe(0);
    const [header, ...rows] = inbox.out[0].split('\n');
    expect(header).toMatch(/^ID\s+REQUESTER\s+RESOURCE\s+TIER\s+JUSTIFICATION\s+TICKET\s+DEADLINE$/);
    expect(rows.find((row) => row.startsWith(id))).toMatch(
      new RegExp(
        `^${id}\\s+alice\\s+prod-db\\s+1\\s+Investigating INC-4211 slow queries\\s+INC-4211\\s+\\d{4}-\\d\\d-\\d\\dT[\\d:]+Z$`,
      ),
    );

    const approved = await cli('bob', 'approve', [id, '--comment', 'OK for INC-4211']);
    expect(approved).toMatchObject({ code: 0, err: [] });
    expect(approved.out[0]).toMatch(new RegExp(`^${id} ACTIVE: access until \\S+Z$`));

    // alice's wait ends with access, says how to read it, and showed its progress meanwhile.
    await expect(waited).resolves.toMatchObject({ code: 0 });
    expect(asking.out.at(-1)).toMatch(
      new RegExp(`^${id} ACTIVE: access until \\S+Z\\nRead the way in with: latchkey grant ${id}$`),
    );
    expect(progress).toContain(
      `${id} PENDING_APPROVAL: waiting for approval (0 of 1), to be decided by ${instant(progress)}\n`,
    );

    const detail = await cli('alice', 'status', [id]);
    expect(detail.code).toBe(0);
    expect(detail.out[0]).toContain(`${id}  prod-db  ACTIVE: access until`);
    expect(detail.out[0]).toMatch(/^\s+requester\s+alice, at \S+Z, for 1h$/m);
    expect(detail.out[0]).toMatch(/^\s+ticket\s+INC-4211$/m);
    expect(detail.out[0]).toMatch(/^\s+approvals\s+1 of 1; bob at \S+Z "OK for INC-4211"$/m);

    const mine = await until(
      () => cli('alice', 'status', []),
      (run) => run.out.join('\n').includes(id),
    );
    expect(mine.out[0]).toMatch(new RegExp(`^${id}\\s+prod-db\\s+ACTIVE\\s+\\S+Z\\s+\\S+Z$`, 'm'));

    // The way in: the share link, to alice's own terminal; bob may not read it.
    const grant = await cli('alice', 'grant', [id]);
    expect(grant.code).toBe(0);
    expect(grant.out[0]).toMatch(/^share link\s+https:\/\/\S+$/m);
    expect(grant.out[0]).toMatch(/^details\s+Connect through the bastion/m);
    const notBobs = await cli('bob', 'grant', [id]);
    expect(notBobs).toMatchObject({ code: 1, out: [] });
    expect(notBobs.err[0]).toMatch(/^grant: .*\[forbidden, HTTP 403\]$/);

    // Thirty minutes more, which this flow has approved again.
    const extended = await cli('alice', 'extend', [id, '--by', '30m', '--why', 'The fix needs a second look']);
    expect(extended.out[0]).toMatch(/ACTIVE: access until \S+Z; 30m more waits for approval$/);
    const extensionApproved = await cli('bob', 'approve', [id]);
    expect(extensionApproved.code).toBe(0);
    const after = await cli('alice', 'status', [id]);
    expect(after.out[0]).toMatch(/^\s+extensions\s+\+30m by alice/m);

    const givenBack = await cli('alice', 'give-back', [id, '--why', 'done']);
    expect(givenBack).toMatchObject({ code: 0, err: [] });
    expect(givenBack.out[0]).toBe(`${id} REVOKED by alice: "done" (link-left-to-expire)`);
    const gone = await cli('alice', 'grant', [id]);
    expect(gone.code).toBe(1);
    expect(gone.err[0]).toMatch(/\[grant-ended, HTTP 410\]$/);
  }, 120_000);

  it('request --wait ends with exit 1 when bob rejects, saying who and why', async () => {
    const asking: Run = { code: -1, out: [], err: [] };
    const waited = cli(
      'alice',
      'request',
      ['prod-db', '--for', '90m', '--why', 'Checking the nightly export', '--wait'],
      asking,
    );
    await until(
      () => Promise.resolve(asking.out.length),
      (lines) => lines > 0,
    );
    const id = asking.out[0].split(' ')[0];
    await until(
      () => cli('bob', 'inbox', []),
      (run) => run.out.join('\n').includes(id),
    );
    const rejected = await cli('bob', 'reject', [id, '--comment', 'Use the replica']);
    expect(rejected.out[0]).toBe(`${id} REJECTED by bob: "Use the replica"`);
    await expect(waited).resolves.toMatchObject({ code: 1 });
    expect(asking.err).toEqual([`${id} REJECTED by bob: "Use the replica"`]);
  }, 120_000);
});

/** The decision deadline the progress line showed, to match the whole line. */
function instant(lines: string[]): string {
  return /to be decided by (\S+Z)/.exec(lines.join(''))?.[1] ?? 'none';
}
