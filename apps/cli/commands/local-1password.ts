import { parseArgs } from 'node:util';
import { parseIsoDuration } from '../../../domain/duration';
import { describeAccess } from '../../../onepassword/local/describe-access';
import { LocalOnePassword, shareLinkUrl } from '../../../onepassword/local/local-onepassword';
import {
  LOCAL_OPERATIONS,
  type LocalFaults,
  type LocalOperation,
  type LocalState,
} from '../../../onepassword/local/state';

const HELP = `latchkey local-1password: inspect or drive the local 1Password

  local-1password state [--reveal]
      The whole state as JSON. Secrets and share links are redacted (links to their id) unless --reveal.
  local-1password access [--json]
      Who can reach a secret right now: live share links with views left, and vault group permissions.
  local-1password faults [--rate-limit-every N] [--fail-every N] [--latency-ms N] [--fail-next N]
                         [--apply-then-fail-every N] [--outage-for PT10M] [--token-revoked]
                         [--operations op1,op2] [--retry-after-ms N] | --clear
      Switch fault injection for every process using the state file (replaces the current faults).
      Operations: ${LOCAL_OPERATIONS.join(', ')}.
  local-1password open URL --as EMAIL [--env]
      Open a share link as its recipient would (a one-view link has then been viewed) and print the item's
      fields; with --env, a database login as shell exports for psql (PGHOST, PGPORT, PGDATABASE, PGUSER,
      PGPASSWORD), for eval "$(...)".
  local-1password reset
      Seed the demo account again (new random secrets, no links, no grants).`;

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

class UsageError extends Error {}

/** `latchkey local-1password ...`: `argv` holds the words after `local-1password`. Resolves to the exit code. */
export async function runLocalOnePasswordCommand(argv: string[], io: Io, stateFile: string): Promise<number> {
  const [sub, ...rest] = argv;
  const local = new LocalOnePassword({ stateFile });
  try {
    switch (sub) {
      case 'state': {
        const { values } = parseArgs({ args: rest, options: { reveal: { type: 'boolean' } }, strict: true });
        const state = await local.readState();
        io.out(JSON.stringify(values.reveal ? revealed(state) : redacted(state), null, 2));
        return 0;
      }
      case 'access': {
        const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } }, strict: true });
        const report = describeAccess(await local.readState());
        io.out(values.json ? JSON.stringify(report, null, 2) : formatAccess(report));
        return 0;
      }
      case 'faults': {
        const faults = parseFaults(rest);
        await local.setFaults(faults);
        io.out(JSON.stringify({ faults }, null, 2));
        return 0;
      }
      case 'open': {
        const { values, positionals } = parseArgs({
          args: rest,
          options: { as: { type: 'string' }, env: { type: 'boolean' } },
          allowPositionals: true,
          strict: true,
        });
        if (positionals.length !== 1 || !values.as) throw new UsageError('open takes a share link URL and --as EMAIL');
        const view = await local.viewShareLink(positionals[0], values.as);
        io.out(values.env ? databaseLoginExports(view.fields) : formatView(view));
        return 0;
      }
      case 'reset': {
        if (rest.length > 0) throw new UsageError('reset takes no arguments');
        await local.reset();
        io.out(`local 1Password re-seeded with the demo account: ${stateFile}`);
        return 0;
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(HELP);
        return sub ? 0 : 2;
      default:
        throw new UsageError(`unknown subcommand "${sub}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`local-1password: ${(error as Error).message}\n\n${HELP}`);
      return 2;
    }
    throw error;
  }
}

function formatView(view: { title: string; fields: Array<{ title: string; value: string }> }): string {
  return [view.title, ...view.fields.map((field) => `  ${field.title}: ${field.value}`)].join('\n');
}

/** The fields of a 1Password database item, named as libpq's environment variables. */
const LIBPQ_VARIABLES: Record<string, string> = {
  server: 'PGHOST',
  host: 'PGHOST',
  hostname: 'PGHOST',
  port: 'PGPORT',
  database: 'PGDATABASE',
  username: 'PGUSER',
  password: 'PGPASSWORD',
};

function databaseLoginExports(fields: Array<{ title: string; value: string }>): string {
  const exports = fields.flatMap((field) => {
    const variable = LIBPQ_VARIABLES[field.title.toLowerCase()];
    return variable ? [`export ${variable}='${field.value.replaceAll("'", "'\\''")}'`] : [];
  });
  if (!exports.some((line) => line.startsWith('export PGPASSWORD=')))
    throw new UsageError('the shared item is not a database login (it has no password field)');
  return exports.join('\n');
}

function positiveInt(name: string, raw: string | undefined, min = 1): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${name} must be an integer of at least ${min}`);
  return value;
}

function outageUntil(duration: string | undefined): string | undefined {
  if (duration === undefined) return undefined;
  let ms: number;
  try {
    ms = parseIsoDuration(duration);
  } catch {
    throw new UsageError('--outage-for must be an ISO 8601 duration such as PT10M');
  }
  return new Date(Date.now() + ms).toISOString();
}

function parseFaults(args: string[]): LocalFaults {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      'rate-limit-every': { type: 'string' },
      'fail-every': { type: 'string' },
      'latency-ms': { type: 'string' },
      'fail-next': { type: 'string' },
      operations: { type: 'string' },
      'retry-after-ms': { type: 'string' },
      'apply-then-fail-every': { type: 'string' },
      'outage-for': { type: 'string' },
      'token-revoked': { type: 'boolean' },
      clear: { type: 'boolean' },
    },
  });
  const { clear, ...settings } = values;
  if (clear) {
    if (Object.keys(settings).length > 0) throw new UsageError('--clear cannot be combined with other fault options');
    return {};
  }
  if (Object.keys(settings).length === 0) throw new UsageError('faults needs at least one option, or --clear');
  const operations = settings.operations?.split(',').map((operation) => operation.trim());
  const unknown = operations?.filter((operation) => !(LOCAL_OPERATIONS as readonly string[]).includes(operation));
  if (unknown && unknown.length > 0) throw new UsageError(`unknown operations: ${unknown.join(', ')}`);
  const faults: LocalFaults = {
    rateLimitEvery: positiveInt('rate-limit-every', settings['rate-limit-every']),
    failEvery: positiveInt('fail-every', settings['fail-every']),
    latencyMs: positiveInt('latency-ms', settings['latency-ms'], 0),
    failNextCalls: positiveInt('fail-next', settings['fail-next']),
    failOperations: operations as LocalOperation[] | undefined,
    rateLimitRetryAfterMs: positiveInt('retry-after-ms', settings['retry-after-ms'], 0),
    applyThenFailEvery: positiveInt('apply-then-fail-every', settings['apply-then-fail-every']),
    outageUntil: outageUntil(settings['outage-for']),
    tokenRevoked: settings['token-revoked'],
  };
  return JSON.parse(JSON.stringify(faults)) as LocalFaults;
}

const CONCEALED = '[concealed]';

/** Secrets and links stay out of terminals and logs unless asked for; the link id still identifies it. */
function redacted(state: LocalState): unknown {
  return {
    ...state,
    items: state.items.map((item) => ({
      ...item,
      fields: item.fields.map((field) => (field.type === 'concealed' ? { ...field, value: CONCEALED } : field)),
    })),
    shareLinks: state.shareLinks.map(({ token: _token, snapshot, ...link }) => ({
      ...link,
      url: `[redacted share link ${link.id}]`,
      snapshot: { title: snapshot.title, fields: snapshot.fields.map(({ title }) => ({ title, value: CONCEALED })) },
    })),
  };
}

function revealed(state: LocalState): unknown {
  return { ...state, shareLinks: state.shareLinks.map((link) => ({ ...link, url: shareLinkUrl(link) })) };
}

function formatAccess(report: ReturnType<typeof describeAccess>): string {
  const lines = [`Access right now (${report.at})`, '', 'Share links:'];
  if (report.shareLinks.length === 0) lines.push('  none');
  for (const link of report.shareLinks) {
    const recipients = link.recipients
      .map(
        (r) =>
          `${r.email} (${r.viewsLeft === null ? 'unlimited views' : `${r.viewsLeft} view${r.viewsLeft === 1 ? '' : 's'} left`})`,
      )
      .join(', ');
    lines.push(
      `  ${link.shareId}  ${link.vaultId}/${link.itemId} "${link.itemTitle}"  until ${link.expiresAt}  to ${recipients}`,
    );
  }
  lines.push('', 'Vault group permissions:');
  if (report.groupPermissions.length === 0) lines.push('  none');
  for (const grant of report.groupPermissions) {
    lines.push(
      `  ${grant.groupId} on ${grant.vaultId} "${grant.vaultTitle}": ${grant.permissions.join(', ')} (since ${grant.grantedAt})`,
    );
  }
  return lines.join('\n');
}
