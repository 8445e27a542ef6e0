import { parseArgs } from 'node:util';
import { decodeJwt } from 'jose';
import type { LatchkeyConfig } from '../../../config/config';
import type { CliSignInSettings } from '../../../config/cli';
import { loadDirectory, type Person } from '../../../config/directory';
import type { OidcAuthConfig } from '../../../config/identity';
import { loadOrCreateLocalSigningKey, mintLocalToken } from '../../api/identity/local-signing-key';
import { ApiClient, ApiProblem, ApiUnreachable } from '../api-client';
import { formatDurationShort, parseDurationText } from '../duration-text';
import { type CommandIo, formatTable } from '../io';
import { removeSession, type Session, writeSession } from '../session';

export interface LoginContext {
  config: Pick<LatchkeyConfig, 'auth' | 'directoryFile' | 'cli'>;
  signIn: CliSignInSettings;
  now?: () => Date;
}

const HELP = `latchkey login: sign in for the requester commands (request, inbox, approve, status, grant, ...)

  login --as ID [--ttl 8h]    local auth mode: be one of the people of the directory file (without --as: list them)
  login                       oidc mode: sign in at your identity provider with a code (the device flow)

  The session (a bearer token, its expiry, who, the API's URL) is kept in LATCHKEY_CLI_SESSION_FILE
  (default ~/.config/latchkey/session.json), readable by you alone. latchkey logout removes it.`;

/** Local tokens: the token command's limit; the API refuses tokens older than LATCHKEY_AUTH_MAX_TOKEN_AGE anyway. */
const MAX_LOCAL_TTL_MS = 30 * 86_400_000;

/** `latchkey login ...`: resolves to the exit code. */
export async function runLoginCommand(argv: string[], io: CommandIo, context: LoginContext): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        as: { type: 'string' },
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
  const { auth } = context.config;
  if (auth.mode === 'local') return localLogin(auth, values.as, values.ttl, io, context);
  if (values.as !== undefined) {
    io.err('login: --as is for local auth mode; with an identity provider you sign in as yourself, there.');
    return 2;
  }
  return deviceLogin(auth, io, context);
}

/** `latchkey logout`: forgets the session (a provider's token is not revoked; it lapses at its expiry). */
export function runLogoutCommand(argv: string[], io: CommandIo, sessionFile: string): Promise<number> {
  if (argv.length > 0) {
    io.err('usage: latchkey logout');
    return Promise.resolve(2);
  }
  io.out(removeSession(sessionFile) ? `signed out (removed ${sessionFile})` : 'not signed in');
  return Promise.resolve(0);
}

type LocalAuthConfig = Extract<LatchkeyConfig['auth'], { mode: 'local' }>;

async function localLogin(
  auth: LocalAuthConfig,
  as: string | undefined,
  ttlText: string,
  io: CommandIo,
  { config, now = () => new Date() }: LoginContext,
): Promise<number> {
  if (!config.directoryFile) {
    io.err('login: no directory of people (LATCHKEY_DIRECTORY_FILE) to sign in as');
    return 2;
  }
  const directory = loadDirectory(config.directoryFile);
  if (as === undefined) {
    io.err(`Pick who you are: latchkey login --as ID (the people of ${config.directoryFile})`);
    io.out(peopleTable(directory.people));
    return 2;
  }
  const person = directory.person(as);
  if (!person) {
    io.err(
      `login: nobody is "${as}" in ${config.directoryFile}; pick one of: ${directory.people.map((p) => p.id).join(', ')}`,
    );
    return 2;
  }
  let ttlMs: number;
  try {
    ttlMs = parseDurationText(ttlText);
  } catch (err) {
    io.err(`login: --ttl: ${(err as Error).message}`);
    return 2;
  }
  if (ttlMs < 60_000 || ttlMs > MAX_LOCAL_TTL_MS) {
    io.err('login: --ttl must be from 1m to 30d');
    return 2;
  }
  // Exactly what `latchkey token` mints, for this person.
  const key = await loadOrCreateLocalSigningKey(auth.signingKeyFile, auth.publicKeyFile);
  const token = await mintLocalToken(
    key,
    auth.issuer,
    auth.audience,
    { sub: person.id, email: person.email, groups: person.groups, roles: person.roles },
    Math.floor(ttlMs / 1000),
  );
  const session: Session = {
    apiUrl: config.cli.apiUrl,
    token,
    expiresAt: new Date(now().getTime() + ttlMs).toISOString(),
    who: { id: person.id, email: person.email, ...(person.name ? { name: person.name } : {}) },
    via: 'local',
  };
  writeSession(config.cli.sessionFile, session);
  io.out(signedIn(session, config.cli.sessionFile));
  return 0;
}

function peopleTable(people: readonly Person[]): string {
  const rows = [
    ['ID', 'NAME', 'EMAIL', 'GROUPS', 'ROLES'],
    ...people.map((p) => [p.id, p.name ?? '', p.email, p.groups.join(','), p.roles.join(',')]),
  ];
  return formatTable(rows);
}

function signedIn(session: Session, file: string): string {
  const who = session.who.email ? `${session.who.id} (${session.who.email})` : session.who.id;
  const until = session.expiresAt ? ` until ${session.expiresAt.replace(/\.\d{3}Z$/, 'Z')}` : '';
  return `signed in as ${who} for ${session.apiUrl}${until}; session in ${file}`;
}

/** Whether the device flow may talk plain HTTP to the provider: only on this machine (a test or a demo). */
function isLoopback(url: URL): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) || url.hostname.startsWith('127.');
}

/** The OAuth 2.0 Device Authorization Grant (RFC 8628) with the CLI's public client. */
async function deviceLogin(auth: OidcAuthConfig, io: CommandIo, context: LoginContext): Promise<number> {
  const { signIn, config, now = () => new Date() } = context;
  if (!signIn.clientId) {
    io.err(
      'login: set LATCHKEY_CLI_CLIENT_ID to the CLI’s client at your identity provider ' +
        '(a public client, no secret, with the device flow allowed; docs/cli.md)',
    );
    return 2;
  }
  // An ECMAScript module, loaded only when the device flow runs.
  const client = await import('openid-client');
  const issuer = new URL(auth.issuer);
  let server;
  try {
    server = await client.discovery(
      issuer,
      signIn.clientId,
      undefined,
      client.None(),
      issuer.protocol === 'http:' && isLoopback(issuer) ? { execute: [client.allowInsecureRequests] } : undefined,
    );
  } catch (err) {
    io.err(`login: cannot use the identity provider ${auth.issuer}: ${oauthReason(err)}`);
    return 1;
  }
  const parameters: Record<string, string> = { scope: signIn.scope };
  if (signIn.resource) parameters.resource = signIn.resource;
  // Auth0 issues an access token for an API only when its identifier is asked for as `audience`.
  if (auth.profile === 'auth0') parameters.audience = auth.audience;

  let tokens;
  try {
    const device = await client.initiateDeviceAuthorization(server, parameters);
    io.err(`To sign in, open ${device.verification_uri} and enter the code ${device.user_code}`);
    if (device.verification_uri_complete) io.err(`  (or open ${device.verification_uri_complete})`);
    io.err(`Waiting for the sign-in (the code is good for ${formatDurationShort(device.expires_in * 1000)})...`);
    tokens = await client.pollDeviceAuthorizationGrant(
      server,
      device,
      signIn.resource ? { resource: signIn.resource } : undefined,
    );
  } catch (err) {
    io.err(`login: ${deviceFlowFailure(err)}`);
    return 1;
  }

  const token = tokens.access_token;
  const expiresAt = expiryOf(token, tokens.expiresIn(), now());
  const idClaims = tokens.claims();
  let who: Session['who'];
  try {
    // The API says who it takes the token for, and so proves that it accepts it.
    const me = await new ApiClient(config.cli.apiUrl, token).me();
    who = { id: me.id, email: me.email, ...(typeof idClaims?.name === 'string' ? { name: idClaims.name } : {}) };
  } catch (err) {
    if (err instanceof ApiProblem && err.status === 401) {
      io.err(
        `login: the API at ${config.cli.apiUrl} refuses the token ${auth.issuer} gave: ${err.message} ` +
          `(is it an access token for the audience ${auth.audience}? LATCHKEY_CLI_RESOURCE, LATCHKEY_CLI_SCOPE; docs/cli.md)`,
      );
      return 1;
    }
    if (!(err instanceof ApiUnreachable || err instanceof ApiProblem)) throw err;
    io.err(`login: signed in, but not checked with the API: ${err.message}`);
    const email = typeof idClaims?.email === 'string' ? idClaims.email : undefined;
    who = { id: String(idClaims?.sub ?? 'unknown'), ...(email ? { email } : {}) };
  }
  const session: Session = { apiUrl: config.cli.apiUrl, token, expiresAt, who, via: 'oidc' };
  writeSession(config.cli.sessionFile, session);
  io.out(signedIn(session, config.cli.sessionFile));
  return 0;
}

/** From `expires_in`, or else the JWT's own `exp`; unknown for an opaque token without `expires_in`. */
function expiryOf(token: string, expiresIn: number | undefined, now: Date): string | undefined {
  if (expiresIn !== undefined) return new Date(now.getTime() + expiresIn * 1000).toISOString();
  try {
    const { exp } = decodeJwt(token);
    return exp ? new Date(exp * 1000).toISOString() : undefined;
  } catch {
    return undefined;
  }
}

/** openid-client's errors carry the provider's OAuth error (RFC 8628 §3.5) in their fields. */
function deviceFlowFailure(err: unknown): string {
  const { error, name } = err as { error?: unknown; name?: unknown };
  if (error === 'access_denied') return 'the sign-in was refused at the identity provider';
  if (error === 'expired_token') return 'the code expired before the sign-in finished: run latchkey login again';
  if (name === 'TimeoutError') return 'the code expired before the sign-in finished: run latchkey login again';
  return `the device flow failed: ${oauthReason(err)}`;
}

function oauthReason(err: unknown): string {
  const { error, error_description: description, message, cause } = err as Record<string, unknown>;
  if (typeof error === 'string') return typeof description === 'string' ? `${error}: ${description}` : error;
  const causeCode = (cause as { code?: unknown } | undefined)?.code;
  const text = typeof message === 'string' ? message : String(err);
  return typeof causeCode === 'string' ? `${text} (${causeCode})` : text;
}
