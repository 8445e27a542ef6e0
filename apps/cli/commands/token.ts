import { parseArgs } from 'node:util';
import type { LatchkeyConfig } from '../../../config/config';
import type { Role } from '../../../contracts/identity';
import { GROUP_PATTERN, PLAIN_SUBJECT_PATTERN, ROLES } from '../../api/identity/caller';
import { loadOrCreateLocalSigningKey, mintLocalToken } from '../../api/identity/local-signing-key';

const HELP = `latchkey token: mint a development bearer token (local auth mode only)

  token --sub ID --email E [--groups a,b] [--roles auditor,admin] [--ttl 8h]

  Prints the token and nothing else, so that TOKEN=$(npm run --silent token -- ...) works.
  The token is signed with the local key (made on first use) and carries sub, email, groups
  and roles; --ttl is a number followed by s, m, h or d (default 8h, at most 30d).`;

const TTL = /^(\d{1,6})([smhd])$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
const MAX_TTL_SECONDS = 30 * 86_400;
const EMAIL = /^[^\s@"'<>]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$/;

interface Io {
  out(s: string): void;
  err(s: string): void;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** `latchkey token ...`: `argv` holds the words after `token`. Resolves to the exit code. */
export async function runTokenCommand(argv: string[], io: Io, config: LatchkeyConfig): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        sub: { type: 'string' },
        email: { type: 'string' },
        groups: { type: 'string' },
        roles: { type: 'string' },
        ttl: { type: 'string', default: '8h' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    io.err(HELP);
    return 0;
  }
  if (config.auth.mode !== 'local') {
    io.err('token: LATCHKEY_AUTH_MODE is oidc; tokens come from your identity provider, not from latchkey.');
    return 2;
  }

  const problems: string[] = [];
  const sub = values.sub ?? '';
  const email = values.email ?? '';
  const groups = list(values.groups);
  const roles = list(values.roles);
  const ttl = TTL.exec(values.ttl);
  if (!PLAIN_SUBJECT_PATTERN.test(sub)) problems.push('--sub is required: letters, digits and . _ : | + - (no @)');
  if (!EMAIL.test(email)) problems.push('--email is required and must be an e-mail address');
  for (const group of groups) if (!GROUP_PATTERN.test(group)) problems.push(`--groups: "${group}" is not a group id`);
  for (const role of roles) {
    if (!(ROLES as readonly string[]).includes(role))
      problems.push(`--roles: "${role}" is not one of ${ROLES.join(', ')}`);
  }
  const ttlSeconds = ttl ? Number(ttl[1]) * UNIT_SECONDS[ttl[2]] : 0;
  if (!ttl || ttlSeconds < 1 || ttlSeconds > MAX_TTL_SECONDS)
    problems.push('--ttl must be like 30m, 8h or 7d (at most 30d)');
  if (problems.length > 0) {
    io.err(`${problems.join('\n')}\n\n${HELP}`);
    return 2;
  }

  const key = await loadOrCreateLocalSigningKey(config.auth.signingKeyFile, config.auth.publicKeyFile);
  const token = await mintLocalToken(
    key,
    config.auth.issuer,
    config.auth.audience,
    { sub, email, groups, roles: roles as Role[] },
    ttlSeconds,
  );
  io.out(token);
  return 0;
}
