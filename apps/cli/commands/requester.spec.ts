import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RequestState } from '../api-client';
import { type Session, writeSession } from '../session';
import { runRequesterCommand } from './requester';

const ID = 'req_01h0000000000000000000000a';

function state(status: RequestState['status'], extra: Partial<RequestState> = {}): RequestState {
  return {
    requestId: ID,
    status,
    requesterId: 'alice',
    resourceId: 'prod-db',
    integration: 'demo',
    flowName: 'prod-access',
    policyVersion: 'sha256:0',
    updatedAt: '2026-05-01T09:00:00.000Z',
    justification: 'Investigating INC-4211',
    requestedAt: '2026-05-01T09:00:00.000Z',
    durationMs: 3_600_000,
    pendingDeadline: '2026-05-08T09:00:00.000Z',
    currentTier: 0,
    approvalsRequired: 1,
    approvals: [],
    extensions: [],
    ...extra,
  };
}

/** A stand-in for the API: each route answers what the test says, and every call is recorded. */
class FakeApi {
  readonly calls: Array<{ method: string; url: string; authorization?: string; body: unknown }> = [];
  readonly answers = new Map<string, Array<{ status: number; body: unknown }>>();
  private readonly server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const key = `${request.method} ${request.url}`;
      this.calls.push({
        method: request.method!,
        url: request.url!,
        authorization: request.headers.authorization,
        body: text ? JSON.parse(text) : undefined,
      });
      const queue = this.answers.get(key) ?? [];
      const answer = queue.length > 1 ? queue.shift()! : queue[0];
      response.statusCode = answer?.status ?? 404;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify(answer?.body ?? { error: { code: 'not-found', message: 'No such route.' } }));
    });
  });

  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  answer(route: string, ...answers: Array<{ status: number; body: unknown }>): void {
    this.answers.set(route, answers);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe(runRequesterCommand.name, () => {
  let dir: string;
  let sessionFile: string;
  let api: FakeApi;
  const written: string[] = [];

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-requester-'));
    sessionFile = path.join(dir, 'session.json');
    api = new FakeApi();
    await api.start();
    signIn({});
    written.length = 0;
  });
  afterEach(async () => {
    await api.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function signIn(change: Partial<Session>): void {
    writeSession(sessionFile, {
      apiUrl: api.url,
      token: 'the-token',
      expiresAt: '2099-01-01T00:00:00.000Z',
      who: { id: 'alice' },
      via: 'local',
      ...change,
    });
  }

  async function run(command: string, argv: string[], tty = false) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runRequesterCommand(
      command,
      argv,
      { out: (s) => out.push(s), err: (s) => err.push(s) },
      {
        sessionFile,
        progress: { isTTY: tty, write: (s: string) => written.push(s) },
        pollIntervalMs: 5,
        now: () => new Date('2026-05-01T09:00:00Z'),
      },
    );
    return { code, out, err };
  }

  it('asks with the ISO duration, the justification and the ticket, with the session’s token', async () => {
    api.answer('POST /v1/requests', { status: 201, body: state('PENDING_APPROVAL') });
    const sut = await run('request', [
      'prod-db',
      '--for',
      '1h30m',
      '--why',
      'Investigating INC-4211',
      '--ticket',
      'INC-4211',
    ]);
    expect(sut).toEqual({
      code: 0,
      out: [`${ID} PENDING_APPROVAL: waiting for approval (0 of 1), to be decided by 2026-05-08T09:00:00Z`],
      err: [],
    });
    expect(api.calls).toEqual([
      {
        method: 'POST',
        url: '/v1/requests',
        authorization: 'Bearer the-token',
        body: {
          resourceId: 'prod-db',
          duration: 'PT1H30M',
          justification: 'Investigating INC-4211',
          ticket: 'INC-4211',
        },
      },
    ]);
  });

  it('--wait rewrites one progress line on a terminal until access is granted', async () => {
    api.answer('POST /v1/requests', { status: 201, body: state('PENDING_APPROVAL') });
    api.answer(
      `GET /v1/requests/${ID}`,
      { status: 200, body: state('PENDING_APPROVAL') },
      { status: 503, body: { error: { code: 'temporal-unavailable', message: 'Temporal is not reachable.' } } },
      { status: 200, body: state('APPROVED') },
      {
        status: 200,
        body: state('ACTIVE', {
          grant: {
            grantedAt: '2026-05-01T09:00:00.000Z',
            endsAt: '2026-05-01T10:00:00.000Z',
            guarantee: { mode: 'share-link', statement: 'viewable once' },
          },
        }),
      },
    );
    const sut = await run('request', ['prod-db', '--why', 'Investigating INC-4211', '--wait'], true);
    expect(sut.code).toBe(0);
    expect(sut.out.at(-1)).toBe(
      `${ID} ACTIVE: access until 2026-05-01T10:00:00Z\nRead the way in with: latchkey grant ${ID}`,
    );
    expect(written.every((text) => text.startsWith('\r') || text === '\n')).toBe(true);
    expect(written.join('')).toContain('(the API did not answer: Temporal is not reachable.; asking again)');
    expect(written.at(-2)).toBe(`\r${ID} APPROVED: access is being granted · 0s\x1b[K`);
    expect(written.at(-1)).toBe('\n');
  });

  it.each([
    [
      'REJECTED',
      { rejection: { by: 'bob', at: '2026-05-01T09:01:00Z', comment: 'Use the replica' } },
      'REJECTED by bob: "Use the replica"',
    ],
    ['TIMED_OUT', {}, 'TIMED_OUT: nobody decided in time'],
    [
      'FAILED',
      { failure: { code: 'not-eligible-at-start', message: 'No longer allowed.' } },
      'FAILED: No longer allowed. [not-eligible-at-start]',
    ],
    ['CANCELLED', { cancellation: { by: 'alice', at: '2026-05-01T09:01:00Z' } }, 'CANCELLED by alice'],
  ] as const)('--wait exits 1 when the request ends %s', async (status, extra, said) => {
    api.answer('POST /v1/requests', { status: 201, body: state('PENDING_APPROVAL') });
    api.answer(`GET /v1/requests/${ID}`, { status: 200, body: state(status, extra) });
    const sut = await run('request', ['prod-db', '--why', 'Investigating INC-4211', '--wait']);
    expect(sut.code).toBe(1);
    expect(sut.err).toEqual([`${ID} ${said}`]);
    // Not a terminal: one plain line per change, no ticks.
    expect(written).toEqual([
      `${ID} PENDING_APPROVAL: waiting for approval (0 of 1), to be decided by 2026-05-08T09:00:00Z\n`,
    ]);
  });

  it('shows the API’s own message and code, with the fields a form mistake names, and exits 1', async () => {
    api.answer('POST /v1/requests', {
      status: 422,
      body: {
        error: {
          code: 'duration-too-long',
          message: 'At most PT8H.',
          details: { rule: 'flows.prod-access.duration.max' },
        },
      },
    });
    await expect(run('request', ['prod-db', '--for', '9h', '--why', 'Investigating INC-4211'])).resolves.toEqual({
      code: 1,
      out: [],
      err: ['request: At most PT8H. [duration-too-long, HTTP 422]'],
    });
    api.answer(`POST /v1/requests/${ID}/extend`, {
      status: 400,
      body: {
        error: {
          code: 'validation-failed',
          message: 'The body is not valid.',
          details: [{ field: 'justification', problems: ['must be shorter than or equal to 1000 characters'] }],
        },
      },
    });
    await expect(run('extend', [ID, '--by', '1h', '--why', 'x'])).resolves.toMatchObject({
      code: 1,
      err: [
        'extend: The body is not valid. [validation-failed, HTTP 400]\n  justification: must be shorter than or equal to 1000 characters',
      ],
    });
  });

  it('says to sign in again when the API refuses the token', async () => {
    api.answer('GET /v1/requests?pendingMyApproval=true&pageSize=50', {
      status: 401,
      body: { error: { code: 'unauthorized', message: 'The token has expired.' } },
    });
    await expect(run('inbox', [])).resolves.toMatchObject({
      code: 1,
      err: ['inbox: The token has expired. [unauthorized, HTTP 401] (run latchkey login)'],
    });
  });

  it('an expired session: exit 1 and "run latchkey login", before any call', async () => {
    signIn({ expiresAt: '2026-05-01T08:59:59.000Z' });
    await expect(run('status', [])).resolves.toEqual({
      code: 1,
      out: [],
      err: ['status: your session as alice ended at 2026-05-01T08:59:59.000Z: run latchkey login'],
    });
    fs.rmSync(sessionFile);
    await expect(run('inbox', [])).resolves.toMatchObject({
      code: 1,
      err: ['inbox: not signed in: run latchkey login'],
    });
    expect(api.calls).toEqual([]);
  });

  it('names the URL it could not reach', async () => {
    await api.close();
    const sut = await run('status', [ID]);
    expect(sut.code).toBe(1);
    expect(sut.err[0]).toBe(`status: cannot reach the latchkey API at ${api.url}/v1/requests/${ID}: ECONNREFUSED`);
  });

  it.each([
    ['request', ['prod-db', '--for', '2 hours', '--why', 'x'], '--for: "2 hours" is not a duration'],
    ['request', [], 'missing argument'],
    ['approve', ['42'], '"42" is not a request id'],
    ['reject', [ID], '--comment says why: it is required'],
    ['extend', [ID], '--by says how much longer: it is required'],
    ['status', [ID, ID], 'unexpected'],
    ['inbox', ['--bogus'], "Unknown option '--bogus'"],
  ])('%s %j is a usage error: exit 2, and no call', async (command, argv, message) => {
    const sut = await run(command, argv);
    expect(sut.code).toBe(2);
    expect(sut.err[0]).toContain(message);
    expect(sut.err[0]).toContain(`usage: latchkey ${command}`);
    expect(api.calls).toEqual([]);
  });

  it('inbox: a table of what waits, with the justification, the ticket and the deadline of each', async () => {
    api.answer('GET /v1/requests?pendingMyApproval=true&pageSize=50', {
      status: 200,
      body: { items: [{ requestId: ID, status: 'PENDING_APPROVAL', requesterId: 'alice', resourceId: 'prod-db' }] },
    });
    api.answer(`GET /v1/requests/${ID}`, {
      status: 200,
      body: state('PENDING_APPROVAL', { ticket: 'INC-4211', currentTier: 1 }),
    });
    await expect(run('inbox', [])).resolves.toEqual({
      code: 0,
      out: [
        'ID                              REQUESTER  RESOURCE  TIER  JUSTIFICATION           TICKET    DEADLINE\n' +
          `${ID}  alice      prod-db   2     Investigating INC-4211  INC-4211  2026-05-08T09:00:00Z`,
      ],
      err: [],
    });
  });

  it('grant: the share link and the access details, to this terminal', async () => {
    api.answer(`GET /v1/requests/${ID}/grant`, {
      status: 200,
      body: {
        mode: 'share-link',
        shareUrl: 'https://share.example/s/abc',
        accessDetails: 'ssh bastion, then psql',
        endsAt: '2026-05-01T10:00:00.000Z',
        guarantee: { mode: 'share-link', statement: 'viewable once, by alice@example.com' },
      },
    });
    await expect(run('grant', [ID])).resolves.toEqual({
      code: 0,
      out: [
        'share link    https://share.example/s/abc\n' +
          'details       ssh bastion, then psql\n' +
          'until         2026-05-01T10:00:00Z\n' +
          'guarantee     viewable once, by alice@example.com',
      ],
      err: [],
    });
  });
});
