import type { Client } from '@temporalio/client';
import type { Notifier } from '../notify/notifier';
import type { OnePasswordPort } from '../onepassword/port';

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
  /** Needed by the vault-lease activity (signal-with-start) and the reconciler (visibility, queries). */
  temporal?: Client;
  /**
   * The integrations the reconciler reads, whether it may repair what it finds (policy: `reconcile`), and
   * the 1Password groups its vault-group resources name (the catalog says whom they reach).
   */
  integrations?: Array<{ name: string; repair: boolean; groupIds?: string[] }>;
  now?: () => Date;
}

/** What each group of activities receives: the dependencies, and a logger that adds the workflow id. */
export interface ActivityContext extends ActivityDeps {
  log: (msg: string, fields: object) => void;
  clock: () => Date;
}
