import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  ApiClient,
  ApiProblem,
  ApiUnreachable,
  type GrantAccess,
  type RequestState,
  type RequestStatus,
  type RequestSummary,
} from '../api-client';
import { formatDurationShort, isoDurationOf } from '../duration-text';
import { type CommandIo, formatTable } from '../io';
import { ProgressLine, type ProgressStream } from '../progress';
import { readSession, SessionError } from '../session';

/**
 * The requester's and the approver's commands: each one call (or a few) to the public HTTP API with the
 * session's token, and what came back, said for people.
 */
export interface RequesterContext {
  sessionFile: string;
  /** Where `request --wait` draws its progress line (stderr). */
  progress: ProgressStream;
  /** How often `--wait` asks; 2 s unless a test says otherwise. */
  pollIntervalMs?: number;
  now?: () => Date;
}

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | undefined>;

interface Invocation {
  values: Values;
  positionals: string[];
  io: CommandIo;
  context: RequesterContext;
  /** The API, with the session's token; reading the session waits until the arguments are known to be good. */
  api: () => ApiClient;
}

interface CommandSpec {
  usage: string;
  options: Options;
  /** Positional arguments: how many at least, and at most. */
  positionals: [number, number];
  run(invocation: Invocation): Promise<number>;
}

/** A mistake in the command line: exit 2, with the command's usage. */
class UsageError extends Error {}

const REQUEST_ID = /^req_[0-9a-z]{26}$/;
/** Statuses after which `--wait` has nothing more to wait for, and access is not there. */
const ENDED_WITHOUT_ACCESS: readonly RequestStatus[] = [
  'REJECTED',
  'TIMED_OUT',
  'CANCELLED',
  'FAILED',
  'EXPIRED',
  'REVOKED',
  'ENDING',
];

const COMMANDS: Record<string, CommandSpec> = {
  request: {
    usage: 'latchkey request RESOURCE [--for 2h] --why "..." [--ticket T] [--wait]',
    options: {
      for: { type: 'string' },
      why: { type: 'string' },
      ticket: { type: 'string' },
      wait: { type: 'boolean' },
    },
    positionals: [1, 1],
    run: requestAccess,
  },
  inbox: { usage: 'latchkey inbox [--json]', options: { json: { type: 'boolean' } }, positionals: [0, 0], run: inbox },
  approve: {
    usage: 'latchkey approve ID [--comment "..."]',
    options: { comment: { type: 'string' } },
    positionals: [1, 1],
    run: async ({ positionals: [id], values, io, api }) => {
      io.out(outcome(await api().approve(requestId(id), text(values.comment))));
      return 0;
    },
  },
  reject: {
    usage: 'latchkey reject ID --comment "..."',
    options: { comment: { type: 'string' } },
    positionals: [1, 1],
    run: async ({ positionals: [id], values, io, api }) => {
      const comment = required(values.comment, '--comment says why');
      io.out(outcome(await api().reject(requestId(id), comment)));
      return 0;
    },
  },
  status: {
    usage: 'latchkey status [ID] [--json]',
    options: { json: { type: 'boolean' } },
    positionals: [0, 1],
    run: status,
  },
  grant: {
    usage: 'latchkey grant ID',
    options: {},
    positionals: [1, 1],
    run: async ({ positionals: [id], io, api }) => {
      io.out(describeGrant(await api().grant(requestId(id))));
      return 0;
    },
  },
  extend: {
    usage: 'latchkey extend ID --by 1h [--why "..."]',
    options: { by: { type: 'string' }, why: { type: 'string' } },
    positionals: [1, 1],
    run: async ({ positionals: [id], values, io, api }) => {
      const duration = durationOption(required(values.by, '--by says how much longer'), '--by');
      io.out(outcome(await api().extend(requestId(id), duration, text(values.why))));
      return 0;
    },
  },
  'give-back': {
    usage: 'latchkey give-back ID [--why "..."]',
    options: { why: { type: 'string' } },
    positionals: [1, 1],
    run: async ({ positionals: [id], values, io, api }) => {
      io.out(outcome(await api().revoke(requestId(id), text(values.why))));
      return 0;
    },
  },
  withdraw: {
    usage: 'latchkey withdraw ID [--why "..."]',
    options: { why: { type: 'string' } },
    positionals: [1, 1],
    run: async ({ positionals: [id], values, io, api }) => {
      io.out(outcome(await api().cancel(requestId(id), text(values.why))));
      return 0;
    },
  },
};

export const REQUESTER_COMMANDS = Object.keys(COMMANDS);

/** `latchkey <name> ...` for one of REQUESTER_COMMANDS; resolves to the exit code. */
export async function runRequesterCommand(
  name: string,
  argv: string[],
  io: CommandIo,
  context: RequesterContext,
): Promise<number> {
  const spec = COMMANDS[name];
  if (!spec) throw new Error(`no requester command "${name}"`);
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    });
    if (values.help) {
      io.err(`usage: ${spec.usage}`);
      return 0;
    }
    const [least, most] = spec.positionals;
    if (positionals.length < least || positionals.length > most) {
      throw new UsageError(positionals.length < least ? 'missing argument' : `unexpected "${positionals[most]}"`);
    }
    let api: ApiClient | undefined;
    return await spec.run({
      values,
      positionals,
      io,
      context,
      api: () => {
        const session = readSession(context.sessionFile, (context.now ?? (() => new Date()))());
        api ??= new ApiClient(session.apiUrl, session.token);
        return api;
      },
    });
  } catch (err) {
    return failure(err, name, spec.usage, io);
  }
}

function failure(err: unknown, name: string, usage: string, io: CommandIo): number {
  const code = (err as { code?: unknown }).code;
  if (err instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
    io.err(`${name}: ${(err as Error).message}\nusage: ${usage}`);
    return 2;
  }
  if (err instanceof SessionError || err instanceof ApiUnreachable) {
    io.err(`${name}: ${err.message}`);
    return 1;
  }
  if (err instanceof ApiProblem) {
    io.err(`${name}: ${problemText(err)}`);
    return 1;
  }
  throw err;
}

/** The API's own words, its code, and for a form mistake the fields it names. */
function problemText(problem: ApiProblem): string {
  const fields = Array.isArray(problem.details)
    ? (problem.details as Array<{ field?: unknown; problems?: unknown }>)
        .filter((detail) => typeof detail.field === 'string' && Array.isArray(detail.problems))
        .map((detail) => `\n  ${String(detail.field)}: ${(detail.problems as unknown[]).join('; ')}`)
        .join('')
    : '';
  const hint = problem.status === 401 ? ' (run latchkey login)' : '';
  return `${problem.message} [${problem.code}, HTTP ${problem.status}]${hint}${fields}`;
}

// ----- the commands -----

async function requestAccess({ positionals: [resourceId], values, io, context, api }: Invocation): Promise<number> {
  const duration = values.for === undefined ? undefined : durationOption(String(values.for), '--for');
  const created = await api().createRequest({
    resourceId,
    ...(duration ? { duration } : {}),
    ...(text(values.why) ? { justification: text(values.why) } : {}),
    ...(text(values.ticket) ? { ticket: text(values.ticket) } : {}),
  });
  io.out(outcome(created));
  if (!values.wait) return 0;
  const final = await waitForAccess(created, api(), context);
  if (final.status !== 'ACTIVE') {
    io.err(`${final.requestId} ${describeState(final)}`);
    return 1;
  }
  io.out(`${final.requestId} ${describeState(final)}\nRead the way in with: latchkey grant ${final.requestId}`);
  return 0;
}

/** Asks again every few seconds until the request is ACTIVE or has ended; an API that blinks is waited for. */
async function waitForAccess(start: RequestState, api: ApiClient, context: RequesterContext): Promise<RequestState> {
  const now = context.now ?? (() => new Date());
  const interval = context.pollIntervalMs ?? 2_000;
  const line = new ProgressLine(context.progress);
  const began = now().getTime();
  let state = start;
  let trouble = '';
  try {
    while (state.status !== 'ACTIVE' && !ENDED_WITHOUT_ACCESS.includes(state.status)) {
      line.update(
        `${state.requestId} ${describeState(state)}${trouble}`,
        ` · ${formatDurationShort(now().getTime() - began)}`,
      );
      await new Promise((resolve) => setTimeout(resolve, interval));
      try {
        state = await api.getRequest(state.requestId);
        trouble = '';
      } catch (err) {
        const transient =
          err instanceof ApiUnreachable || (err instanceof ApiProblem && (err.status >= 500 || err.status === 429));
        if (!transient) throw err;
        trouble = ` (the API did not answer: ${err.message}; asking again)`;
      }
    }
  } finally {
    line.end();
  }
  return state;
}

async function inbox({ values, io, api }: Invocation): Promise<number> {
  const client = api();
  const page = await client.listRequests({ pendingMyApproval: true, pageSize: 50 });
  // The list holds what Temporal's visibility keeps; the justification and the deadline are in each state.
  const states = await Promise.all(page.items.map((item) => client.getRequest(item.requestId).catch(() => undefined)));
  if (values.json) {
    io.out(
      JSON.stringify(
        states.map((state, index) => state ?? page.items[index]),
        null,
        2,
      ),
    );
    return 0;
  }
  if (page.items.length === 0) {
    io.out('Nothing waits for your approval.');
    return 0;
  }
  const rows = page.items.map((item, index) => inboxRow(item, states[index]));
  io.out(formatTable([['ID', 'REQUESTER', 'RESOURCE', 'TIER', 'JUSTIFICATION', 'TICKET', 'DEADLINE'], ...rows]));
  if (page.nextPageToken) io.out(`(the first ${page.items.length}; more wait)`);
  return 0;
}

function inboxRow(item: RequestSummary, state: RequestState | undefined): string[] {
  const ratifying = item.breakGlass === 'awaiting-ratification';
  return [
    item.requestId,
    state?.requesterId ?? item.requesterId ?? '-',
    state?.resourceId ?? item.resourceId ?? '-',
    ratifying ? 'break-glass' : state ? String(state.currentTier + 1) : '-',
    state ? shorten(state.justification, 40) : '-',
    state?.ticket ?? '-',
    instant(ratifying ? state?.breakGlass?.ratifyBy : state?.pendingDeadline) ?? '-',
  ];
}

async function status({ positionals: [id], values, io, api }: Invocation): Promise<number> {
  if (id !== undefined) {
    const state = await api().getRequest(requestId(id));
    io.out(values.json ? JSON.stringify(state, null, 2) : describeInDetail(state));
    return 0;
  }
  const page = await api().listRequests({ mine: true, pageSize: 20 });
  if (values.json) {
    io.out(JSON.stringify(page.items, null, 2));
    return 0;
  }
  if (page.items.length === 0) {
    io.out('You have no requests.');
    return 0;
  }
  const rows = page.items.map((item) => [
    item.requestId,
    item.resourceId ?? '-',
    item.status ?? '-',
    instant(item.startedAt) ?? '-',
    instant(item.grantEndsAt) ?? '-',
  ]);
  io.out(formatTable([['ID', 'RESOURCE', 'STATUS', 'ASKED', 'ACCESS ENDS'], ...rows]));
  if (page.nextPageToken) io.out(`(the newest ${page.items.length})`);
  return 0;
}

// ----- arguments -----

function requestId(id: string): string {
  if (!REQUEST_ID.test(id)) throw new UsageError(`"${id}" is not a request id (req_ and 26 letters or digits)`);
  return id;
}

function durationOption(value: string, option: string): string {
  try {
    return isoDurationOf(value);
  } catch (err) {
    throw new UsageError(`${option}: ${(err as Error).message}`);
  }
}

function text(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' && value.trim() ? value : undefined;
}

function required(value: string | boolean | undefined, why: string): string {
  const given = text(value);
  if (given === undefined) throw new UsageError(`${why}: it is required`);
  return given;
}

// ----- saying it -----

/** `2026-05-01T10:00:00.000Z` → `2026-05-01T10:00:00Z`. */
function instant(iso: string | undefined): string | undefined {
  return iso?.replace(/\.\d{3}Z$/, 'Z');
}

function shorten(value: string, max: number): string {
  const flat = value.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function said(decision: { by: string; comment?: string }): string {
  return `by ${decision.by}${decision.comment ? `: "${decision.comment}"` : ''}`;
}

/** What a request is at, in one line. */
export function describeState(state: RequestState): string {
  const { status } = state;
  switch (status) {
    case 'PENDING_APPROVAL':
      return (
        `${status}: waiting for approval (${state.approvals.length} of ${state.approvalsRequired})` +
        (state.pendingDeadline ? `, to be decided by ${instant(state.pendingDeadline)}` : '')
      );
    case 'APPROVED':
      return state.scheduledStart
        ? `${status}: access starts at ${instant(state.scheduledStart)}`
        : `${status}: access is being granted`;
    case 'ACTIVE': {
      const extension = state.pendingExtension
        ? `; ${formatDurationShort(state.pendingExtension.addedMs)} more waits for approval`
        : '';
      return `${status}: access until ${instant(state.grant?.endsAt)}${extension}`;
    }
    case 'ENDING':
      return `${status}: access is being ended`;
    case 'REJECTED':
      return `${status} ${state.rejection ? said(state.rejection) : ''}`.trimEnd();
    case 'TIMED_OUT':
      return `${status}: nobody decided in time`;
    case 'CANCELLED':
      return `${status}${state.cancellation ? ` ${said(state.cancellation)}` : ''}`;
    case 'EXPIRED':
      return `${status}: access ended at ${instant(state.grant?.revokedAt ?? state.grant?.endsAt)}`;
    case 'REVOKED':
      return (
        `${status}${state.revocation ? ` ${said(state.revocation)}` : ''}` +
        (state.grant?.endedBy ? ` (${state.grant.endedBy})` : '')
      );
    case 'FAILED':
      return `${status}: ${state.failure ? `${state.failure.message} [${state.failure.code}]` : 'see latchkey status'}`;
  }
}

/** After a change: the request id and where it is now. */
function outcome(state: RequestState): string {
  return `${state.requestId} ${describeState(state)}`;
}

function describeInDetail(state: RequestState): string {
  const lines: Array<[string, string | undefined]> = [
    [
      'requester',
      `${state.requesterId}, at ${instant(state.requestedAt)}, for ${formatDurationShort(state.durationMs)}`,
    ],
    ['flow', state.flowName],
    ['justification', state.justification || undefined],
    ['ticket', state.ticket],
    ['decision due', state.status === 'PENDING_APPROVAL' ? instant(state.pendingDeadline) : undefined],
    [
      'approvals',
      `${state.approvals.length} of ${state.approvalsRequired}` +
        state.approvals
          .map((a) => `; ${a.approverId} at ${instant(a.at)}${a.comment ? ` "${a.comment}"` : ''}`)
          .join(''),
    ],
    ['starts', instant(state.scheduledStart)],
    [
      'access',
      state.grant &&
        `granted ${instant(state.grant.grantedAt)}, ends ${instant(state.grant.endsAt)}; ${state.grant.guarantee.statement}`,
    ],
    [
      'extensions',
      state.extensions
        .map((e) => `+${formatDurationShort(e.addedMs)} by ${e.by} (to ${instant(e.newEndsAt)})`)
        .join('; ') || undefined,
    ],
    [
      'extension asked',
      state.pendingExtension &&
        `+${formatDurationShort(state.pendingExtension.addedMs)} by ${state.pendingExtension.requestedBy}`,
    ],
    ['rejected', state.rejection && `${said(state.rejection)} at ${instant(state.rejection.at)}`],
    ['withdrawn', state.cancellation && `${said(state.cancellation)} at ${instant(state.cancellation.at)}`],
    ['ended', state.revocation && `${said(state.revocation)} at ${instant(state.revocation.at)}`],
    ['ended by', state.grant?.endedBy],
    ['break-glass', state.breakGlass && breakGlassText(state.breakGlass)],
    ['failure', state.failure && `${state.failure.message} [${state.failure.code}]`],
  ];
  const shown = lines.filter((line): line is [string, string] => line[1] !== undefined);
  const width = Math.max(...shown.map(([label]) => label.length));
  return [
    `${state.requestId}  ${state.resourceId}  ${describeState(state)}`,
    ...shown.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
  ].join('\n');
}

function breakGlassText(breakGlass: NonNullable<RequestState['breakGlass']>): string {
  if (breakGlass.ratification) return `ratified ${said(breakGlass.ratification)}`;
  if (breakGlass.refusal) return `not ratified (${said(breakGlass.refusal)})`;
  return `to be ratified by ${instant(breakGlass.ratifyBy)}`;
}

/** The way in. The share link is a secret: it goes to this terminal only, at the requester's asking. */
function describeGrant(grant: GrantAccess): string {
  const lines = [
    grant.shareUrl && `share link    ${grant.shareUrl}`,
    grant.databaseRole && `database role ${grant.databaseRole} (its password is in the shared item)`,
    grant.vaultId && `vault         ${grant.vaultId}`,
    grant.accessDetails && `details       ${grant.accessDetails}`,
    `until         ${instant(grant.endsAt)}`,
    `guarantee     ${grant.guarantee.statement}`,
  ];
  return lines.filter(Boolean).join('\n');
}
