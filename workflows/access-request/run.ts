import {
  type CancellationScope,
  log,
  patched,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { ASKING_KINDS, type NotificationKind, type NotificationReceipt } from '../../contracts/notifications';
import type { AccessRequestInput, AccessRequestState, RequestStatus } from '../../contracts/request';
import type { Identity } from '../../contracts/identity';
import type { FlowSnapshot } from '../../contracts/snapshot';
import type { LeaseResult } from '../../contracts/vault-lease';
import { pendingApproverKeys } from '../../domain/approval';
import { type GrantMode, grantModeOf } from '../../domain/guarantees';
import { databaseLoginRole } from '../../domain/ids';
import { canMove, stateAtRequest } from '../../domain/lifecycle';
import { currentDetails, searchAttributesOf } from '../../domain/visibility';
import { notify } from '../activity-stubs';
import type { EndingSubject } from '../ending-steps';
import {
  ACCESS_ALWAYS_ENDS,
  EXTENSION_RENEWS_LINK,
  LEASE_MESSAGES_AUTHENTICATED,
  NOTIFIES_PEOPLE,
  DECISIONS_FINDABLE,
  REQUEST_PATCHES_FOLDED,
  STATE_FROM_INPUT,
  VISIBILITY_ONCE_PER_CHANGE,
} from '../patches';

export const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * One access request while its workflow runs: the state every query and Update answers with, what only
 * the workflow may hold (the share link), and the two ways it speaks to the world: visibility (search
 * attributes and details, published at every change) and notifications. The lifecycle's steps
 * (approval, grant, end of access) act on it.
 */
export class AccessRequestRun {
  readonly state: AccessRequestState;
  readonly snapshot: FlowSnapshot;
  readonly requester: Identity;
  readonly mode: GrantMode;
  readonly workflowId = workflowInfo().workflowId;
  /**
   * True for requests started since the patch: they start from the state their input alone gives
   * (`stateAtRequest`), their clocks running from the moment the API accepted them, and every earlier patch holds
   * without being asked (one marker in history for all). Asked first, then the folds before it, so that requests
   * started before replay their markers.
   */
  readonly stateFromInput = patched(STATE_FROM_INPUT);
  /** True for requests started since `visibility-once-per-change`: what the start carried for visibility is not written again. */
  readonly visibilityOncePerChange = this.stateFromInput || patched(VISIBILITY_ONCE_PER_CHANGE);
  /** True for requests started since `request-patches-folded`: every earlier patch holds without being asked. */
  readonly patchesFolded = this.visibilityOncePerChange || patched(REQUEST_PATCHES_FOLDED);
  /** False for requests started before the patch: they replay and go on along the old path. */
  readonly alwaysEnds = this.patchesFolded || patched(ACCESS_ALWAYS_ENDS);
  /** False for requests started before the patch: each notification is awaited in line, and fewer are sent. */
  readonly notifiesPeople = this.patchesFolded || patched(NOTIFIES_PEOPLE);
  /** False for requests started before the patch: they publish neither who decided nor a pending extension's approvers. */
  readonly decisionsFindable = this.patchesFolded || patched(DECISIONS_FINDABLE);
  /** Share links only, and false for requests started before the patch: an extension past the link's expiry makes a new link. */
  readonly renewsLink: boolean;
  /** Vault-group grants only, and false for requests started before the patch: lease answers carry a MAC. */
  readonly leaseAnswersAuthenticated: boolean;
  /**
   * The moment the request's clocks run from (its decision's deadline, reminders, escalation, ratification): when
   * the API accepted it; for requests started before the patch, their first workflow task.
   */
  readonly startMs: number;
  readonly pendingDeadlineMs: number;
  /** A scheduled request's start; undefined: access starts as soon as it is approved. */
  readonly scheduledStartMs?: number;
  /** A database-role grant's PostgreSQL role: named after the request. */
  readonly loginRole: string;
  /** The share link: only in workflow memory (restored on replay from the codec-encrypted activity result). */
  shareUrl?: string;
  /** Nonces of the signed commands accepted so far: each is accepted once. */
  readonly commandNonces = new Set<string>();
  /** Answers of the vault-lease entity, by operation. */
  readonly leaseResults = new Map<LeaseResult['op'], LeaseResult>();
  /**
   * The share link being made (the grant's, or an extension's new one), cancelled when the request is withdrawn
   * or revoked, or access ends, meanwhile.
   */
  grantScope?: CancellationScope;
  private notificationSeq = 0;
  /** Notifications on their way: the workflow ends only once they have settled. */
  private readonly notificationsInFlight: Array<Promise<void>> = [];
  /** The messages that asked approvers to decide (Slack), and those still being sent. */
  private readonly askReceipts: NotificationReceipt[] = [];
  private readonly asksInFlight: Array<Promise<void>> = [];
  private readonly publishedSearchAttributes = new Map<string, string>();

  constructor(input: AccessRequestInput) {
    const { snapshot, requester } = input;
    this.snapshot = snapshot;
    this.requester = requester;
    this.mode = grantModeOf(snapshot.grant);
    // An unreadable requestedAt is a start the API did not make: refused by its check, which runs next.
    const requestedMs = Date.parse(input.requestedAt);
    this.startMs = this.stateFromInput && Number.isFinite(requestedMs) ? requestedMs : Date.now();
    this.loginRole = databaseLoginRole(input.requestId);
    // Asked only of share-link grants, so that other requests carry no marker for it.
    this.renewsLink = snapshot.grant.mode === 'share-link' && (this.patchesFolded || patched(EXTENSION_RENEWS_LINK));
    this.leaseAnswersAuthenticated =
      snapshot.grant.mode === 'vault-group' && (this.patchesFolded || patched(LEASE_MESSAGES_AUTHENTICATED));
    this.pendingDeadlineMs = this.startMs + snapshot.pendingTimeoutMs;
    if (input.startAt !== undefined) this.scheduledStartMs = Date.parse(input.startAt);
    if (this.visibilityOncePerChange) {
      // What the start set is published already (a request started without it publishes everything at once).
      for (const { key, value } of workflowInfo().typedSearchAttributes.getAll()) {
        this.publishedSearchAttributes.set(key.name, JSON.stringify(value));
      }
    }
    this.state = stateAtRequest(input, this.startMs);
  }

  /** Withdrawn or revoked while the grant was being made: the request ends as soon as the attempt settles. */
  get stopRequested(): boolean {
    return this.state.status === 'APPROVED' && (!!this.state.cancellation || !!this.state.revocation);
  }

  get requesterKey(): string {
    return `user:${this.requester.id}`;
  }

  /** Principals who may decide right now (every tier asked so far). */
  pendingApprovers(): string[] {
    return pendingApproverKeys(this.snapshot.approval, this.state.currentTier);
  }

  /**
   * The one place where the status changes: only along the lifecycle (domain/lifecycle.ts), then published (unless
   * the caller publishes a later status in the same workflow task, which makes one upsert of the two).
   */
  moveTo(status: RequestStatus, { publish = true }: { publish?: boolean } = {}): void {
    if (!canMove(this.state.status, status)) {
      throw new Error(`a request cannot go from ${this.state.status} to ${status}`);
    }
    this.state.status = status;
    if (publish) this.publish();
  }

  /** Who and what the steps that end access are about (keys, logs, alerts). */
  endingSubject(): EndingSubject {
    return { workflowId: this.workflowId, integration: this.state.integration, resourceId: this.snapshot.resource.id };
  }

  /**
   * Publishes the state: search attributes that changed, and the details the Temporal UI shows. `isChange: false`
   * for the first publication, of the state the request was made with: it is not a change of it.
   */
  publish({ isChange = true }: { isChange?: boolean } = {}): void {
    if (isChange) this.state.updatedAt = iso(Date.now());
    const changed = searchAttributesOf(this.snapshot, this.state, {
      decisionsFindable: this.decisionsFindable,
    }).filter((pair) => {
      const text = JSON.stringify(pair.value);
      // An attribute never set is as good as removed (before the patch, the first publication wrote every one).
      const published =
        this.publishedSearchAttributes.get(pair.key.name) ?? (this.visibilityOncePerChange ? 'null' : undefined);
      if (published === text) return false;
      this.publishedSearchAttributes.set(pair.key.name, text);
      return true;
    });
    if (changed.length > 0) upsertSearchAttributes(changed);
    setCurrentDetails(currentDetails(this.snapshot, this.state));
  }

  /** What an approver needs to decide: who asks, for how long, why. */
  askDetails(): Record<string, string | number> {
    const { state } = this;
    return {
      requester: state.requesterId,
      durationMs: state.durationMs,
      ...(state.justification && { justification: state.justification }),
      ...(state.ticket && { ticket: state.ticket }),
    };
  }

  /**
   * What approvers of a vault-group grant are told besides: whom it reaches (the whole 1Password group,
   * by name when the catalog knew it). Empty for share links, which reach the requester only.
   */
  reachDetails(): Record<string, string> {
    const grant = this.snapshot.grant;
    if (grant.mode !== 'vault-group') return {};
    return {
      onePasswordGroup: grant.groupTitle ?? grant.groupId,
      onePasswordGroupId: grant.groupId,
      ...(grant.groupType !== undefined && { onePasswordGroupType: grant.groupType }),
    };
  }

  /**
   * Tells people. A lost notification never stops a request (the log says what was lost), and, since the patch,
   * none holds it up: it goes out in the background. `updatesAsks`: this event decides the request, so the
   * messages that asked approvers are updated with it (once they have been sent).
   */
  tell(
    kind: NotificationKind,
    recipients: string[],
    details?: Record<string, string | number | boolean>,
    options: { updatesAsks?: boolean } = {},
  ): Promise<void> {
    this.notificationSeq += 1;
    const eventId = `${this.workflowId}:notify:${this.notificationSeq}`;
    const at = iso(Date.now());
    // Requests before the patch send exactly what they did: no wait, no updates.
    const updatesAsks = options.updatesAsks === true && this.notifiesPeople;
    const send = async () => {
      if (updatesAsks) await Promise.all(this.asksInFlight);
      try {
        const receipts = await notify({
          kind,
          eventId,
          requestId: this.state.requestId,
          resourceId: this.state.resourceId,
          integration: this.state.integration,
          recipients,
          at,
          details,
          ...(this.snapshot.notify && { route: this.snapshot.notify }),
          ...(updatesAsks && this.askReceipts.length > 0 && { updates: this.askReceipts.splice(0) }),
        });
        if (ASKING_KINDS.has(kind) && Array.isArray(receipts)) this.askReceipts.push(...receipts);
      } catch (error) {
        log.warn('notification failed', { kind, requestId: this.state.requestId, error: String(error) });
      }
    };
    if (!this.notifiesPeople) return send();
    const sending = send();
    this.notificationsInFlight.push(sending);
    if (ASKING_KINDS.has(kind)) this.asksInFlight.push(sending);
    return Promise.resolve();
  }

  /** Waits for the notifications on their way (and any they lead to) before the workflow ends. */
  async notificationsSettled(): Promise<void> {
    while (this.notificationsInFlight.length > 0) await Promise.all(this.notificationsInFlight.splice(0));
  }
}
