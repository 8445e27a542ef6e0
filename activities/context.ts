import type { Client } from '@temporalio/client';
import type { WorkerTrust } from '../contracts/command';
import type { Notifier } from '../notify/notifier';
import type { OnePasswordPort } from '../onepassword/port';
import type { DatabaseLogins, Rotator } from '../targets/port';
import type { EligibilityInput, EligibilityVerdict } from './types';

/** The systems behind the secrets, by the policy's target name (`targets:`); throws for one it does not define. */
export interface TargetPorts {
  /** What changes the credential of a rotate-on-revoke item: a role's password on a postgres target, or a command. */
  rotator(spec: { target: string; role?: string; endSessions?: boolean }): Rotator;
  databaseLogins(target: string): DatabaseLogins;
}

/** The logging surface activities use (pino's, narrowed). Never pass a secret or an e-mail in a field. */
export interface ActivityLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ActivityDeps {
  /** The 1Password port of an integration (local or SDK adapter). */
  onePassword: (integration: string) => OnePasswordPort;
  notifier: Notifier;
  logger: ActivityLogger;
  /** Needed by rotations that reach the target and by database-role grants. */
  targets?: TargetPorts;
  /** Needed by the vault-lease activity (signal-with-start) and the reconciler (visibility, queries). */
  temporal?: Client;
  /**
   * The integrations the reconciler reads, whether it may repair what it finds (policy: `reconcile`), and
   * the 1Password groups its vault-group resources name (the catalog says whom they reach).
   */
  integrations?: Array<{ name: string; repair: boolean; groupIds?: string[] }>;
  /**
   * What this worker trusts (its configuration): the API keys whose signed starts it accepts, and the key of
   * vault-lease messages. Without it every start is refused and no lease message can be sent.
   */
  trust?: WorkerTrust;
  /**
   * Asks the policy the worker holds whether a scheduled request's requester may still have it
   * (apps/worker/eligibility.ts). Without it a scheduled request is never granted: eligibility cannot be shown.
   */
  eligibility?: (input: EligibilityInput) => Promise<EligibilityVerdict>;
  now?: () => Date;
}

/** What each group of activities receives: the dependencies, and a logger that adds the workflow id. */
export interface ActivityContext extends ActivityDeps {
  log: (msg: string, fields: object) => void;
  clock: () => Date;
}
