import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { TargetError } from '../port';

/** PostgreSQL's own default (`scram_iterations`), and RFC 7677's minimum. */
export const SCRAM_ITERATIONS = 4096;
const SALT_BYTES = 16;

export interface ScramKeys {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

/**
 * The SCRAM-SHA-256 keys a server keeps for `password` (RFC 5802 §3 with SHA-256, RFC 7677): the server
 * can check a login with them but cannot recover the password.
 */
export function scramSha256Keys(
  password: string,
  salt: Buffer = randomBytes(SALT_BYTES),
  iterations = SCRAM_ITERATIONS,
): ScramKeys {
  // PostgreSQL runs the password through SASLprep, which leaves ASCII unchanged; SASLprep for the rest is
  // not written here, so a password outside ASCII is refused rather than hashed differently from a login.
  if ([...password].some((char) => char.charCodeAt(0) > 0x7f)) {
    throw new TargetError('invalid-argument', 'a PostgreSQL password made by latchkey must be ASCII');
  }
  const saltedPassword = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', saltedPassword).update('Client Key').digest();
  return {
    salt,
    iterations,
    storedKey: createHash('sha256').update(clientKey).digest(),
    serverKey: createHmac('sha256', saltedPassword).update('Server Key').digest(),
  };
}

/**
 * What `ALTER ROLE … PASSWORD` is given instead of the password, in PostgreSQL's format
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64). The server stores a verifier as
 * it is, so the password itself never travels in a statement nor lands in the server's log.
 */
export function scramSha256Verifier(password: string, salt?: Buffer, iterations?: number): string {
  const keys = scramSha256Keys(password, salt, iterations);
  const b64 = (bytes: Buffer) => bytes.toString('base64');
  return `SCRAM-SHA-256$${keys.iterations}:${b64(keys.salt)}$${b64(keys.storedKey)}:${b64(keys.serverKey)}`;
}
