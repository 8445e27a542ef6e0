import { randomBytes } from 'node:crypto';
import type { ExpiryBucket } from '../../domain/share-links';
import type { SharePolicy } from '../port';

/**
 * The local 1Password's state file: the parts of a 1Password account latchkey uses, plus fault
 * settings and call counters. Plain JSON so a person (or a chaos script) can read and edit it.
 */
export const LOCAL_STATE_SCHEMA_VERSION = 1;

export const LOCAL_READ_OPERATIONS = [
  'listVaults',
  'listItems',
  'getItem',
  'getSharePolicy',
  'getItemSecret',
  'listGroupPermissions',
  'describeGroup',
] as const;
export const LOCAL_WRITE_OPERATIONS = [
  'createShareLink',
  'grantGroupPermissions',
  'revokeGroupPermissions',
  'rotateItemSecret',
  'setItemSecret',
  'createItem',
  'deleteItem',
] as const;
export type LocalOperation = (typeof LOCAL_READ_OPERATIONS)[number] | (typeof LOCAL_WRITE_OPERATIONS)[number];
export const LOCAL_OPERATIONS: readonly LocalOperation[] = [...LOCAL_READ_OPERATIONS, ...LOCAL_WRITE_OPERATIONS];

export interface LocalField {
  id: string;
  title: string;
  type: 'text' | 'concealed';
  value: string;
}

export interface LocalItem {
  id: string;
  vaultId: string;
  title: string;
  category: string;
  tags: string[];
  version: number;
  fields: LocalField[];
  /** File attachments by name (contents are not modelled; only whether an item has files matters). */
  files: string[];
  createdAt: string;
  updatedAt: string;
}

export interface LocalGroupPermission {
  groupId: string;
  permissions: string[];
  grantedAt: string;
  updatedAt: string;
}

export interface LocalVault {
  id: string;
  title: string;
  createdByServiceAccount: boolean;
  groupPermissions: LocalGroupPermission[];
}

export interface LocalShareRecipient {
  email: string;
  /** `null`: unlimited views until expiry. */
  viewsLeft: number | null;
  viewedAt: string[];
}

export interface LocalShareLink {
  id: string;
  /** The secret half of the link; with the id it forms the URL. */
  token: string;
  vaultId: string;
  itemId: string;
  /** A share is a snapshot: later changes to the item (a rotation) do not reach it. */
  itemVersion: number;
  snapshot: { title: string; fields: Array<{ title: string; value: string }> };
  recipients: LocalShareRecipient[];
  expiry: ExpiryBucket;
  oneTimeOnly: boolean;
  createdAt: string;
  expiresAt: string;
  /** Who asked (workflow id + step): kept for the record, never used to deduplicate. */
  reference: string;
}

/** A change of an item's secret: by `rotateItemSecret`, or by a `setItemSecret` that wrote. */
export interface LocalRotation {
  /** Who asked (workflow id + step), as for share links. */
  reference: string;
  vaultId: string;
  itemId: string;
  version: number;
  at: string;
}

/** Switchable fault injection; the same section can be edited by another process (a chaos script). */
export interface LocalFaults {
  /** Every n-th call fails with `rate-limited`. */
  rateLimitEvery?: number;
  /** Every n-th call fails with `unavailable`. */
  failEvery?: number;
  /** Added to every call. */
  latencyMs?: number;
  /** The next n calls fail with `unavailable` (counts down). */
  failNextCalls?: number;
  /** When set, faults apply only to these operations. */
  failOperations?: LocalOperation[];
  /** Retry-after carried by injected rate limits (default 1 s, so tests do not wait an hour). */
  rateLimitRetryAfterMs?: number;
  /**
   * Every n-th write takes effect, then fails with `unavailable`: a call that 1Password applied but whose
   * answer never arrived (a time-out after the write).
   */
  applyThenFailEvery?: number;
  /** Every call fails with `unavailable` until this instant: an outage of a given length. */
  outageUntil?: string;
  /** The service account's token was revoked: every call is refused as unauthenticated until this is cleared. */
  tokenRevoked?: boolean;
}

export interface LocalCounters {
  reads: Partial<Record<LocalOperation, number>>;
  writes: Partial<Record<LocalOperation, number>>;
  /** Calls refused by injected faults, per operation. */
  faulted: Partial<Record<LocalOperation, number>>;
  /** Writes that took effect (counted for `applyThenFailEvery`), and those that then failed. */
  appliedWrites?: number;
  appliedThenFailed?: number;
  /** Share-link views by recipients (not calls by latchkey). */
  shareViews: number;
}

export interface LocalState {
  schemaVersion: number;
  integration: string;
  serviceAccount: string;
  vaults: LocalVault[];
  items: LocalItem[];
  groups: Array<{ id: string; title: string }>;
  sharePolicy: SharePolicy;
  shareLinks: LocalShareLink[];
  rotations: LocalRotation[];
  faults: LocalFaults;
  /** Calls that faults were counted against (the n of "every n-th"). */
  faultCalls: number;
  counters: LocalCounters;
}

/** Secrets differ on every seed, so no secret value is ever written in the repository. */
export function generateSecret(): string {
  return randomBytes(24).toString('base64url');
}

function item(now: string, fields: Omit<LocalItem, 'version' | 'files' | 'createdAt' | 'updatedAt'>): LocalItem {
  return { ...fields, version: 1, files: [], createdAt: now, updatedAt: now };
}

/** The demo account of docs/demo-data.md, which the example policy refers to by these ids. */
export function seedState(now: Date): LocalState {
  const at = now.toISOString();
  return {
    schemaVersion: LOCAL_STATE_SCHEMA_VERSION,
    integration: 'demo',
    serviceAccount: 'latchkey-demo',
    vaults: [
      { id: 'vlt_prod', title: 'Production', createdByServiceAccount: false, groupPermissions: [] },
      { id: 'vlt_staging', title: 'Staging', createdByServiceAccount: false, groupPermissions: [] },
      { id: 'vlt_oncall', title: 'On-call runbooks', createdByServiceAccount: true, groupPermissions: [] },
      // Where latchkey makes each request's own database login.
      { id: 'vlt_logins', title: 'latchkey database logins', createdByServiceAccount: true, groupPermissions: [] },
    ],
    items: [
      item(at, {
        id: 'itm_prod_db',
        vaultId: 'vlt_prod',
        title: 'Production database',
        category: 'Database',
        tags: ['owner:security', 'env:prod'],
        fields: [
          { id: 'username', title: 'username', type: 'text', value: 'app_prod' },
          { id: 'password', title: 'password', type: 'concealed', value: generateSecret() },
        ],
      }),
      item(at, {
        id: 'itm_stripe_key',
        vaultId: 'vlt_prod',
        title: 'Stripe API key',
        category: 'ApiCredentials',
        tags: ['owner:payments', 'env:prod'],
        fields: [{ id: 'credential', title: 'credential', type: 'concealed', value: generateSecret() }],
      }),
      // The login of a real database: the demo gives its PostgreSQL role this password at start.
      item(at, {
        id: 'itm_reporting_db',
        vaultId: 'vlt_prod',
        title: 'Reporting database',
        category: 'Database',
        tags: ['owner:security'],
        fields: [
          { id: 'username', title: 'username', type: 'text', value: 'reporting' },
          { id: 'password', title: 'password', type: 'concealed', value: generateSecret() },
          { id: 'host', title: 'host', type: 'text', value: '127.0.0.1' },
          // Where `npm start` runs it by default; the dev runner writes the port it really uses.
          { id: 'port', title: 'port', type: 'text', value: '5433' },
          { id: 'database', title: 'database', type: 'text', value: 'demo' },
        ],
      }),
      item(at, {
        id: 'itm_staging_db',
        vaultId: 'vlt_staging',
        title: 'Staging database',
        category: 'Database',
        tags: ['env:staging'],
        fields: [
          { id: 'username', title: 'username', type: 'text', value: 'app_staging' },
          { id: 'password', title: 'password', type: 'concealed', value: generateSecret() },
        ],
      }),
      item(at, {
        id: 'itm_runbook',
        vaultId: 'vlt_oncall',
        title: 'Runbook',
        category: 'SecureNote',
        tags: ['env:prod'],
        fields: [
          { id: 'notes', title: 'notes', type: 'text', value: 'Page the on-call engineer, then follow the steps.' },
        ],
      }),
    ],
    groups: [
      { id: 'grp_engineering', title: 'Engineering' },
      { id: 'grp_security', title: 'Security' },
    ],
    sharePolicy: {
      maxExpiry: '30d',
      defaultExpiry: '7d',
      allowedRecipientDomains: ['example.com'],
      allowedTypes: ['authenticated'],
      oneTimeOnly: false,
      filesAllowed: false,
    },
    shareLinks: [],
    rotations: [],
    faults: {},
    faultCalls: 0,
    counters: { reads: {}, writes: {}, faulted: {}, shareViews: 0 },
  };
}

/**
 * The demo seed's vaults and items that a state file made by an earlier latchkey lacks (the seed grew
 * since), added with fresh secrets; nothing the file already holds is changed. Returns the ids added.
 */
export function addMissingSeed(state: LocalState, now: Date): string[] {
  const seed = seedState(now);
  const added: string[] = [];
  for (const vault of seed.vaults) {
    if (!state.vaults.some((existing) => existing.id === vault.id)) {
      state.vaults.push(vault);
      added.push(vault.id);
    }
  }
  for (const seeded of seed.items) {
    if (!state.items.some((existing) => existing.id === seeded.id)) {
      state.items.push(seeded);
      added.push(seeded.id);
    }
  }
  return added;
}
