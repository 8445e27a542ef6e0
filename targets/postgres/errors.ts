import { DatabaseError } from 'pg';
import { TargetError, type TargetErrorKind } from '../port';

/** SQLSTATEs with a meaning of their own for latchkey (PostgreSQL's appendix A). */
const BY_SQLSTATE: Record<string, TargetErrorKind> = {
  '57P01': 'unavailable', // admin_shutdown
  '57P02': 'unavailable', // crash_shutdown
  '57P03': 'unavailable', // cannot_connect_now: starting up or shutting down
  '57014': 'unavailable', // query_canceled: our statement_timeout
  '55P03': 'unavailable', // lock_not_available
  '40001': 'unavailable', // serialization_failure
  '40P01': 'unavailable', // deadlock_detected
  '42710': 'unavailable', // duplicate_object: a concurrent attempt made the role; the retry alters it
  '23505': 'unavailable', // unique_violation: the same race, caught by pg_authid's index
  '3D000': 'auth', // invalid_catalog_name: the admin URL names a database that does not exist
  '42704': 'not-found', // undefined_object
  '42501': 'refused', // insufficient_privilege
  '2BP01': 'refused', // dependent_objects_still_exist (objects of the role in another database)
  '22007': 'invalid-argument', // invalid_datetime_format
  '22008': 'invalid-argument', // datetime_field_overflow
  '22023': 'invalid-argument', // invalid_parameter_value
  '42601': 'invalid-argument', // syntax_error: a bug of ours
};

/** SQLSTATE classes (their first two characters). */
const BY_CLASS: Record<string, TargetErrorKind> = {
  '08': 'unavailable', // connection_exception
  '53': 'unavailable', // insufficient_resources, 53300 too_many_connections among them
  '58': 'unavailable', // system_error (I/O)
  '28': 'auth', // invalid_authorization_specification, 28P01 invalid_password: latchkey's admin login
};

/** Node's socket and name errors: the server cannot be reached right now. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** What the pg driver throws, without a code, when a connection or a query runs out of time or is cut. */
const DRIVER_GAVE_UP = /timeout|timed out|Connection terminated/i;

/**
 * A failure of a call on the admin connection as a TargetError: `context` says what was done where (never a
 * secret); every string in `secrets` is blanked out of the driver's words, in case the server quoted one.
 */
export function toTargetError(error: unknown, context: string, secrets: readonly string[] = []): TargetError {
  if (error instanceof TargetError) return error;
  const { kind, reason } = classify(error);
  return new TargetError(kind, redact(`${context}: ${reason}`, secrets));
}

function classify(error: unknown): { kind: TargetErrorKind; reason: string } {
  if (error instanceof DatabaseError) {
    const code = error.code ?? '';
    // Anything else the server answered is a refusal: trying again would get the same answer.
    const kind = BY_SQLSTATE[code] ?? BY_CLASS[code.slice(0, 2)] ?? 'refused';
    // The detail says which objects a DROP ROLE trips on, which role a grant lacks.
    const detail = error.detail ? `; ${error.detail}` : '';
    return { kind, reason: `${error.message} (SQLSTATE ${code})${detail}` };
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if ((code && UNREACHABLE.has(code)) || DRIVER_GAVE_UP.test(message)) {
    return { kind: 'unavailable', reason: `unreachable (${message})` };
  }
  // TLS and other failures of the client side: retried, so a person can fix them.
  return { kind: 'unavailable', reason: message };
}

export function redact(text: string, secrets: readonly string[]): string {
  return secrets.filter(Boolean).reduce((result, secret) => result.split(secret).join('[redacted]'), text);
}

/** Whether a login was refused for its credentials (wrong or expired password, or a role that may not log in). */
export function isLoginRefused(error: unknown): boolean {
  return error instanceof DatabaseError && (error.code === '28P01' || error.code === '28000');
}
