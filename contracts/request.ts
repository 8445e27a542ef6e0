import type { Actor, Identity } from './identity';
import type { FlowSnapshot } from './snapshot';
import type { SignedCommand } from './command';

export const REQUEST_STATUSES = [
  'PENDING_APPROVAL',
  'APPROVED',
  'ACTIVE',
  'ENDING',
  'REJECTED',
  'TIMED_OUT',
  'CANCELLED',
  'EXPIRED',
  'REVOKED',
  'FAILED',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** Workflow input: one person asking for one resource for one duration. */
export interface AccessRequestInput {
  requestId: string;
  requester: Identity;
  justification: string;
  ticket?: string;
  /** ISO 8601 instant at which the API accepted the request. */
  requestedAt: string;
  snapshot: FlowSnapshot;
  /**
   * A scheduled request: ISO 8601 instant at which access starts. It is approved ahead, granted then and not
   * before, and only if the policy, evaluated again then, still lets its requester have it. Absent: at once.
   */
  startAt?: string;
  /**
   * The API's signed `start`: the requester, bound to this input by its digest. Absent only in requests
   * started before signed commands; a request started with a missing or bad one grants nothing.
   */
  command?: SignedCommand;
}

export interface ApprovalRecord {
  approverId: string;
  at: string;
  comment?: string;
  /** Tier index (0-based) whose right the approver used. */
  tier: number;
  /**
   * Every approver principal of the flow (`user:<id>`, `group:<id>`, any tier) the approver matched
   * when approving; thresholds are evaluated from these, so a later escalation is judged fairly.
   */
  matchedPrincipals?: string[];
}

export interface DecisionRecord {
  by: string;
  at: string;
  comment?: string;
}

export interface ExtensionRecord {
  by: string;
  at: string;
  addedMs: number;
  justification?: string;
  /** The end of access after this extension. */
  newEndsAt: string;
  /**
   * Share links only: when the link before expired before `newEndsAt`, this extension made a new link (handed
   * out through the grant query in place of the old one); its expiry. Absent when the link before covered it.
   */
  linkExpiresAt?: string;
}

export type GrantMode = 'share-link' | 'vault-group' | 'rotate-on-revoke' | 'database-role';

/** What latchkey promises about the end of access, stated honestly per grant mode. */
export interface GrantGuarantee {
  mode: GrantMode;
  /** Human-readable promise, e.g. "viewable once, by this e-mail, until 2026-11-28T10:00:00Z". */
  statement: string;
}

/** Public view of a grant. Never contains the share link itself. */
export interface GrantView {
  grantedAt: string;
  /** When latchkey ends access (approved duration from grantedAt, plus extensions). */
  endsAt: string;
  /**
   * When 1Password itself stops honouring the grant (the expiry bucket of the latest share link: an extension past
   * a link's expiry makes a new one); may be later than endsAt.
   */
  providerExpiresAt?: string;
  guarantee: GrantGuarantee;
  /**
   * Share links only: calls to create the link whose answer never reached latchkey (a time-out after the
   * write, a worker that died), and an extension's link made after access had ended. Each may have made a
   * link nobody received: its URL was never handed to anyone, it goes to the same recipient,
   * and it expires before providerExpiresAt (the extension's link: at the end that extension asked for).
   * 1Password cannot list or withdraw links, so latchkey can only count them (docs/onepassword.md says how
   * exactly). Absent when there were none.
   */
  unreceivedLinks?: number;
  /** When latchkey ended access and 1Password confirmed it (or, for a share link, when latchkey stopped offering it). */
  revokedAt?: string;
  /**
   * What ending the grant really did in 1Password: group permissions removed, the secret rotated, or
   * nothing possible (a share link stays viewable until providerExpiresAt; 1Password cannot withdraw it).
   * `group-still-held-by-other-grants`: this request's lease ended, but other active requests for the
   * same group and vault still hold the permissions (they go when the last one ends).
   * `vault-gone` / `item-gone`: the vault (with every permission on it) or the item was deleted in
   * 1Password before access ended; admins are told, since an item that is gone cannot be rotated.
   * `item-secret-replaced`: rotate-on-revoke with `rotator: none`, only the item's secret changed.
   * `login-dropped`: the database login's sessions were ended and the role dropped.
   */
  endedBy?:
    | 'group-permissions-removed'
    | 'secret-rotated'
    | 'item-secret-replaced'
    | 'login-dropped'
    | 'link-left-to-expire'
    | 'group-still-held-by-other-grants'
    | 'vault-gone'
    | 'item-gone';
}

/** Full state, as returned by the state query and by every Update. */
export interface AccessRequestState {
  requestId: string;
  status: RequestStatus;
  requesterId: string;
  resourceId: string;
  integration: string;
  flowName: string;
  policyVersion: string;
  justification: string;
  ticket?: string;
  requestedAt: string;
  durationMs: number;
  /** Deadline for a decision while pending. */
  pendingDeadline?: string;
  /** Index of the highest tier currently asked (escalation raises it). */
  currentTier: number;
  approvalsRequired: number;
  approvals: ApprovalRecord[];
  rejection?: DecisionRecord;
  cancellation?: DecisionRecord;
  revocation?: DecisionRecord;
  extensions: ExtensionRecord[];
  /**
   * An extension not in effect yet: waiting for re-approval, if the flow requires it, or, once approved, for the
   * new share link it needs, or a database login's new `VALID UNTIL` (`makingLinkSince`; no decision applies then).
   */
  pendingExtension?: {
    requestedBy: string;
    at: string;
    addedMs: number;
    approvals: ApprovalRecord[];
    makingLinkSince?: string;
  };
  grant?: GrantView;
  /** Why the request FAILED, in words safe to show (never a 1Password message verbatim). */
  failure?: { code: string; message: string };
  /**
   * While ENDING: since when latchkey has been ending access, and when admins were alerted that it takes
   * longer than the flow allows (1Password keeps failing; the attempts go on without limit).
   */
  ending?: { since: string; alertedAt?: string };
  /** Scheduled requests only: when access starts (the grant waits for it, after approval). */
  scheduledStart?: string;
  /** Break-glass requests only: granted without approval, to be ratified by `ratifyBy`. */
  breakGlass?: BreakGlassState;
  /** Failed revoke attempts (requests started before 0.2, whose workflow counts them itself). */
  revokeAttempts?: number;
  /** Set once revoke attempts reached the alert threshold (requests started before 0.2). */
  revokeAlerted?: boolean;
  updatedAt: string;
}

/** Who held a break-glass grant to account, and when; neither set: still awaiting ratification. */
export interface BreakGlassState {
  /** Ratified by then, or access ends then. */
  ratifyBy: string;
  /** A ratifier approved it: access lasts to its end. */
  ratification?: DecisionRecord;
  /** Not ratified: a ratifier refused it (reject), or `system:break-glass-not-ratified` at the deadline. Access ended. */
  refusal?: DecisionRecord;
}

/** What the requester needs to reach the secret while access is active (grant query). */
export interface GrantAccess {
  mode: GrantMode;
  /** The share link: itself a secret. Only in this query result, which the payload codec encrypts. */
  shareUrl?: string;
  vaultId?: string;
  /** Database-role grants: the login's role name (its password is in the shared item). */
  databaseRole?: string;
  accessDetails?: string;
  endsAt: string;
  providerExpiresAt?: string;
  guarantee: GrantGuarantee;
}

// ----- Update arguments: each Update takes one `SignedCommand` whose claims carry the actor and these. -----

export interface ApproveArgs {
  comment?: string;
}
export interface RejectArgs {
  comment?: string;
}
export interface CancelArgs {
  reason?: string;
}
export interface RevokeArgs {
  reason?: string;
}
export interface ExtendArgs {
  addMs: number;
  justification?: string;
}

/** An Update's argument before signed commands, as histories recorded before them hold it: replay reads it. */
export type LegacyUpdateArgs<Args> = Args & { actor: Actor };

/** GET /v1/requests: one page of what Temporal's visibility keeps of each request. */
export interface RequestSummary {
  requestId: string;
  status?: string;
  requesterId?: string;
  resourceId?: string;
  integration?: string;
  grantEndsAt?: string;
  breakGlass?: string;
  startedAt?: string;
  closedAt?: string;
}

export interface RequestPage {
  items: RequestSummary[];
  nextPageToken?: string;
}

/**
 * A request asked again, as it was asked: by whom (with the groups they had then), for what, how long and why.
 * A policy simulation and a scheduled request's start both evaluate it under the policy of now.
 */
export interface AskedAgain {
  requester: Identity;
  resourceId: string;
  durationMs: number;
  justification: string;
  ticket?: string;
  breakGlass: boolean;
}
