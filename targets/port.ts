/**
 * The systems behind the secrets: where a rotation, or a database login of a request's own, takes effect.
 * 1Password only holds a credential; a rotate-on-revoke grant ends for real only when the target refuses the
 * old one. Activities receive these ports per target named in the policy; workflows never see them.
 */

/** Makes the system behind a rotate-on-revoke item accept a new secret and refuse the old one. */
export interface Rotator {
  /**
   * Makes the target accept `secret` for its account and refuse every earlier one. Idempotent: setting the
   * secret the target already has succeeds and changes nothing. `reference` (workflow id + step) is passed
   * to the target where it can record it; never the secret's place.
   */
  setSecret(secret: string, reference: string): Promise<void>;
  /**
   * Whether the target now accepts `secret` and refuses `previous`, checked by logging in with each; a
   * rotator that cannot log in (a command) answers `checked: false`.
   */
  verify(secret: string, previous: string | undefined): Promise<RotationCheck>;
}

export type RotationCheck =
  | { checked: false }
  | {
      checked: true;
      newAccepted: boolean;
      /** `undefined` when there was no previous secret to try. */
      previousRefused?: boolean;
    };

/** Where a login connects, written into the 1Password item that carries it (no secret in here). */
export interface ConnectionInfo {
  host: string;
  port: number;
  database: string;
}

export interface DatabaseLoginParams {
  /** The role's name, `lk_<request id>`: made from ids only, checked against `DATABASE_LOGIN_PATTERN`. */
  role: string;
  password: string;
  /** ISO instant: the database refuses the password after it (`VALID UNTIL`). */
  validUntil: string;
  /** Roles whose privileges the login gets (`GRANT <role> TO <login>`). */
  memberOf: string[];
  connectionLimit: number;
}

/** Database logins of a request's own (grant mode `database-role`), on a PostgreSQL target. */
export interface DatabaseLogins {
  /**
   * Creates the login, or brings an existing one to exactly these settings (a retried attempt after one
   * whose answer was lost). Idempotent.
   */
  ensureLogin(params: DatabaseLoginParams): Promise<void>;
  /** Moves `VALID UNTIL` (an extension). Fails with kind `not-found` when the role does not exist. */
  setValidUntil(role: string, validUntil: string): Promise<void>;
  /**
   * Ends the login: memberships revoked, the role's sessions ended, the role dropped. Idempotent: a role
   * that does not exist succeeds with `existed: false`.
   */
  dropLogin(role: string): Promise<{ existed: boolean; sessionsEnded: number }>;
  /** Every role whose name starts with `prefix`: what the reconciler compares with the open grants. */
  listLogins(prefix: string): Promise<Array<{ role: string; validUntil?: string }>>;
  connectionInfo(): ConnectionInfo;
}

/** What every login role latchkey makes starts with (`lk_<request id>`). */
export const DATABASE_LOGIN_PREFIX = 'lk_';

/** Login role names latchkey makes: `lk_` then lowercase letters, digits and `_` (PostgreSQL's 63-byte limit). */
export const DATABASE_LOGIN_PATTERN = /^lk_[a-z0-9_]{1,60}$/;

export const TARGET_ERROR_KINDS = [
  /** Unreachable, timed out, too many connections, shutting down: retry. */
  'unavailable',
  /** latchkey's own admin credential is refused: retry (a person fixes it) and alert. */
  'auth',
  /** The role or account does not exist. */
  'not-found',
  /** The target refused the change (permissions, a command's non-zero exit). */
  'refused',
  /** latchkey asked for something malformed (a bad role name): a bug or a policy error. */
  'invalid-argument',
] as const;
export type TargetErrorKind = (typeof TARGET_ERROR_KINDS)[number];

/**
 * A target's failure. The message is safe to log: it never contains a secret; of a command's output it
 * quotes at most the first 200 characters of its stderr, with the secret blanked out.
 */
export class TargetError extends Error {
  constructor(
    readonly kind: TargetErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'TargetError';
  }
}
