import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * What `latchkey login` leaves for the requester's other commands: the bearer token and where it is good.
 * The file holds a credential, so it is written for its owner alone (0600, in a 0700 folder it makes).
 */
export interface Session {
  /** The API the token was obtained for; every command calls this one. */
  apiUrl: string;
  /** The bearer token. Never printed. */
  token: string;
  /** When the token stops being accepted; absent when the provider did not say. */
  expiresAt?: string;
  /** Who the token says the caller is, to show (the API decides from the token itself). */
  who: { id: string; email?: string; name?: string };
  /** How it was obtained: the local signing key, or an OpenID provider's device flow. */
  via: 'local' | 'oidc';
}

/** No usable session: the message says what to do. */
export class SessionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SessionError';
  }
}

const SIGN_IN = 'run latchkey login';

export function writeSession(file: string, session: Session): void {
  // Folders it makes are its owner's alone; an existing folder (a home, /tmp) is left as it is.
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Written beside, then renamed over: a reader never sees half a file, and an older file's mode does not stay.
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${crypto.randomBytes(6).toString('hex')}`);
  try {
    fs.writeFileSync(temporary, `${JSON.stringify(session, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    fs.chmodSync(temporary, 0o600);
    fs.renameSync(temporary, file);
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

/** The session, if there is one and it has not expired at `now`; otherwise a SessionError saying to sign in. */
export function readSession(file: string, now: Date = new Date()): Session {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new SessionError(`not signed in: ${SIGN_IN}`);
    throw new SessionError(
      `cannot read the session ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): ${SIGN_IN}`,
    );
  }
  const session = parseSession(text);
  if (!session) throw new SessionError(`the session ${file} is not one latchkey wrote: ${SIGN_IN}`);
  if (session.expiresAt && Date.parse(session.expiresAt) <= now.getTime()) {
    throw new SessionError(`your session as ${session.who.id} ended at ${session.expiresAt}: ${SIGN_IN}`);
  }
  return session;
}

/** Removes the session; false when there was none. */
export function removeSession(file: string): boolean {
  try {
    fs.unlinkSync(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

function parseSession(text: string): Session | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { apiUrl, token, expiresAt, who, via } = value as Record<string, unknown>;
  const whoId = (who as { id?: unknown } | null | undefined)?.id;
  if (typeof apiUrl !== 'string' || typeof token !== 'string' || !token || typeof whoId !== 'string') return undefined;
  if (expiresAt !== undefined && (typeof expiresAt !== 'string' || Number.isNaN(Date.parse(expiresAt))))
    return undefined;
  if (via !== 'local' && via !== 'oidc') return undefined;
  return value as Session;
}
