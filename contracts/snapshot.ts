import type { Principal } from './identity';

/**
 * The resolved flow snapshot: everything a request needs from policy, pinned into the workflow's
 * input when the request is made. The workflow reads nothing else, so a policy change never alters a
 * request already in flight. Durations are milliseconds; instants are ISO 8601 strings.
 */
export interface FlowSnapshot {
  /** Content hash of the policy text that produced this snapshot (`sha256:<hex>`). */
  policyVersion: string;
  flowName: string;
  integration: IntegrationSnapshot;
  resource: ResourceSnapshot;
  grant: GrantSpec;
  approval: ApprovalSpec;
  /** Approved access length; the clock starts when access is granted, not when requested. */
  durationMs: number;
  /** Longest access the flow allows for one request (also caps extensions in total). */
  maxDurationMs: number;
  /** How long the request may wait for a decision before it ends TIMED_OUT. */
  pendingTimeoutMs: number;
  /** How often pending approvers are reminded; absent means no reminders. */
  reminderIntervalMs?: number;
  /**
   * How long ending access may take (1Password failing) before admins are alerted; latchkey keeps
   * trying. Absent in requests made before it existed: 15 minutes then.
   */
  revokeAlertAfterMs?: number;
  extensions: ExtensionSpec;
  /** Whom and how the flow's notifications reach; absent in requests made before it existed (no warning then). */
  notify?: NotifySpec;
  /** A break-glass request (absent for every other): granted at once, then ratified in time or ended. */
  breakGlass?: BreakGlassSpec;
}

/** The channels a notification may take; each is used only where the deployment configures it. */
export const NOTIFY_CHANNELS = ['email', 'slack', 'webhook'] as const;
export type NotifyChannel = (typeof NOTIFY_CHANNELS)[number];

export interface NotifySpec {
  /** How long before access ends the requester is warned (with a way to extend); absent: no warning. */
  warnBeforeEndMs?: number;
  channels: NotifyChannel[];
  /** A Slack channel id: approval requests are posted there (one message with buttons) instead of to each approver. */
  slackChannel?: string;
}

/**
 * Break-glass: access is granted without waiting for approval, every approver is told at once, and one of
 * the ratifiers must ratify it within `ratifyWithinMs` of the request; otherwise access ends then.
 */
export interface BreakGlassSpec {
  ratifyWithinMs: number;
  /** Resolved (resource owner applied); the requester is never among those who can ratify. */
  ratifiers: Principal[];
  /** `end-and-rotate`: an unratified grant's item has its secret replaced as access ends. */
  onNotRatified: 'end' | 'end-and-rotate';
}

export interface IntegrationSnapshot {
  name: string;
  kind: 'onepassword' | 'local';
  /** Shown to requesters with the grant; at most 400 characters. */
  accessDetails?: string;
}

export interface ResourceSnapshot {
  /** Stable id the API uses, e.g. `demo-db-password`. */
  id: string;
  name: string;
  /** `database`: a login of the requester's own on a PostgreSQL target (its item is made per grant). */
  type: 'item' | 'vault' | 'database';
  /** For a database login: the vault where its item is made. */
  vaultId: string;
  /** Present for items. */
  itemId?: string;
  /** The resource owner resolved from the item tag rule, when one was found. */
  owner?: Principal;
}

/** How access is granted, and therefore what 1Password really guarantees at the end. */
export type GrantSpec = ShareLinkGrantSpec | VaultGroupGrantSpec | DatabaseRoleGrantSpec;

/**
 * What changes a rotate-on-revoke credential where it is used: a PostgreSQL role's password, a command
 * latchkey runs, or nothing (the policy said `rotator: none`: only the 1Password item changes).
 */
export type RotatorSpec =
  | { kind: 'none' }
  | { kind: 'postgres'; target: string; role: string; endSessions: boolean }
  | { kind: 'command'; target: string };

export interface ShareLinkGrantSpec {
  mode: 'share-link';
  vaultId: string;
  itemId: string;
  /** One view per recipient. Always true for latchkey-made links. */
  oneTimeView: boolean;
  /** Rotate the item's secret when the grant ends (mode "rotate-on-revoke" of the brief). */
  rotateOnRevoke: boolean;
  /**
   * With rotateOnRevoke: what changes the credential where it is used. Absent in requests made before
   * rotation reached the target: their end only replaces the item's secret, as it did then.
   */
  rotator?: RotatorSpec;
}

/**
 * A PostgreSQL login of the requester's own: a role made for the grant with `VALID UNTIL` its end, shared
 * through a one-view link to an item made in `vaultId`, and dropped when access ends.
 */
export interface DatabaseRoleGrantSpec {
  mode: 'database-role';
  /** The postgres target (policy `targets:`) whose admin connection the worker holds. */
  target: string;
  vaultId: string;
  memberOf: string[];
  connectionLimit: number;
}

export interface VaultGroupGrantSpec {
  mode: 'vault-group';
  vaultId: string;
  /** The 1Password group that receives the permissions, mapped from the requester's identity groups. */
  groupId: string;
  /**
   * Its name and kind as the catalog knew them when the request was made: every member of the group gets
   * the permissions, not only the requester. Absent when the catalog had not described the group.
   */
  groupTitle?: string;
  groupType?: string;
  /** 1Password vault permission names, e.g. `read_items`, `reveal_item_password`. */
  permissions: string[];
}

export type ThresholdSpec = { kind: 'any' } | { kind: 'all' } | { kind: 'atLeast'; count: number };

export interface ApprovalTier {
  /** Who may approve at this tier (groups mean any member). Resolved: resource owner or fallback already applied. */
  approvers: Principal[];
  threshold: ThresholdSpec;
  /** Time after the request (or the previous escalation) when the next tier is asked; absent on the last tier. */
  escalateAfterMs?: number;
}

export interface ApprovalSpec {
  /** An automatic flow grants without approval. */
  automatic: boolean;
  /** At least one tier unless automatic. Escalation adds the next tier's approvers; earlier tiers keep their right. */
  tiers: ApprovalTier[];
  /** The requester may approve their own request only if this is true (never by default). */
  allowSelfApproval: boolean;
}

export interface ExtensionSpec {
  /** How many extensions one request may have; 0 means none. */
  maxCount: number;
  /** Longest single extension. */
  maxExtensionMs: number;
  /** Whether an extension must be approved again (by the same tiers) before it takes effect. */
  requireApproval: boolean;
}
