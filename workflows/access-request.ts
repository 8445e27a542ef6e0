import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Actor } from '../contracts/identity';
import {
  approveUpdate,
  cancelUpdate,
  extendUpdate,
  grantAccessQuery,
  rejectUpdate,
  REFUSAL,
  revokeUpdate,
  stateQuery,
} from '../contracts/messages';
import {
  type AccessRequestInput,
  type AccessRequestState,
  type ApproveArgs,
  type CancelArgs,
  type DecisionRecord,
  type ExtendArgs,
  type RejectArgs,
  type RevokeArgs,
  type GrantAccess,
  TERMINAL_STATUSES,
} from '../contracts/request';
import {
  SA_GRANT_ENDS_AT,
  SA_INTEGRATION,
  SA_PENDING_APPROVERS,
  SA_REQUESTER,
  SA_RESOURCE,
  SA_STATUS,
  SA_VAULT,
} from '../contracts/search-attributes';
import type { NotificationKind } from '../notify/events';
import {
  approvalsRequired,
  checkApprove,
  checkCancel,
  checkExtend,
  checkReject,
  checkRevoke,
  type Decision,
  grantModeOf,
  guaranteeFor,
  matchedPrincipals,
  nextEscalationAt,
  nextReminderAt,
  pendingApproverKeys,
  thresholdMet,
} from './decisions';
import { ending, granting, leasing, notify } from './activity-stubs';
import { REVOKE_ALERT_AFTER_ATTEMPTS, untilConfirmed } from './until-confirmed';
import { leaseResultSignal, type LeaseResult } from './vault-lease-contract';

const CANCELLED_BY_WORKFLOW = 'system:workflow-cancelled';

function refusal(decision: Decision<unknown>): void {
  if (!decision.ok) {
    throw ApplicationFailure.create({ type: decision.refusal, message: decision.reason, nonRetryable: true });
  }
}

function assertActor(args: unknown): Actor {
  const actor = (args as { actor?: Partial<Actor> } | undefined)?.actor;
  if (
    !actor ||
    typeof actor.id !== 'string' ||
    actor.id === '' ||
    !Array.isArray(actor.groups) ||
    !Array.isArray(actor.roles)
  ) {
    throw ApplicationFailure.create({
      type: REFUSAL.invalid,
      message: 'the update needs an actor',
      nonRetryable: true,
    });
  }
  return actor as Actor;
}

function optionalText(value: unknown, name: string, max = 1000): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > max) {
    throw ApplicationFailure.create({
      type: REFUSAL.invalid,
      message: `${name} must be text of at most ${max} characters`,
      nonRetryable: true,
    });
  }
  return value;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * One access request, the whole lifecycle of BRIEF §4, driven only by the flow snapshot pinned in
 * its input: approval (Updates with validators), reminders, escalation and the pending deadline,
 * the grant, a durable timer to the grant's end (the clock starts at the grant), extension, early
 * revoke, and an end of access that cancellation cannot skip and that retries until 1Password
 * confirmed it.
 */
export async function accessRequestWorkflow(input: AccessRequestInput): Promise<AccessRequestState> {
  const { snapshot, requester } = input;
  const workflowId = workflowInfo().workflowId;
  const startMs = Date.now();
  const mode = grantModeOf(snapshot.grant);
  const pendingDeadlineMs = startMs + snapshot.pendingTimeoutMs;

  const state: AccessRequestState = {
    requestId: input.requestId,
    status: 'PENDING_APPROVAL',
    requesterId: requester.id,
    resourceId: snapshot.resource.id,
    integration: snapshot.integration.name,
    flowName: snapshot.flowName,
    policyVersion: snapshot.policyVersion,
    justification: input.justification,
    ticket: input.ticket,
    requestedAt: input.requestedAt,
    durationMs: snapshot.durationMs,
    pendingDeadline: snapshot.approval.automatic ? undefined : iso(pendingDeadlineMs),
    currentTier: 0,
    approvalsRequired: approvalsRequired(snapshot.approval, 0),
    approvals: [],
    extensions: [],
    updatedAt: iso(startMs),
  };
  /** The share link: only in workflow memory (restored on replay from the codec-encrypted activity result). */
  let shareUrl: string | undefined;
  const leaseResults = new Map<LeaseResult['op'], LeaseResult>();
  let notificationSeq = 0;
  const lastSearchAttributes = new Map<string, string>();

  // ----- Visibility: search attributes, memo, current details -----

  function publish(): void {
    state.updatedAt = iso(Date.now());
    const pending =
      state.status === 'PENDING_APPROVAL' ? pendingApproverKeys(snapshot.approval, state.currentTier) : [];
    const endsAt = state.grant && !state.grant.revokedAt ? new Date(state.grant.endsAt) : null;
    const pairs: SearchAttributeUpdatePair[] = [
      { key: SA_STATUS, value: state.status },
      { key: SA_REQUESTER, value: state.requesterId },
      { key: SA_RESOURCE, value: state.resourceId },
      { key: SA_INTEGRATION, value: state.integration },
      { key: SA_VAULT, value: snapshot.resource.vaultId },
      { key: SA_PENDING_APPROVERS, value: pending.length > 0 ? pending : null },
      { key: SA_GRANT_ENDS_AT, value: endsAt },
    ];
    const changed = pairs.filter((pair) => {
      const text = JSON.stringify(pair.value);
      if (lastSearchAttributes.get(pair.key.name) === text) return false;
      lastSearchAttributes.set(pair.key.name, text);
      return true;
    });
    if (changed.length > 0) upsertSearchAttributes(changed);
    setCurrentDetails(currentDetails());
  }

  function currentDetails(): string {
    const lines = [
      `**${state.status}**: ${snapshot.resource.name} (${state.resourceId}) for ${state.requesterId}`,
      `Flow ${state.flowName}, ${mode}, ${Math.round(state.durationMs / 60_000)} min requested`,
    ];
    if (state.status === 'PENDING_APPROVAL') {
      lines.push(
        `Approvals ${state.approvals.length}/${state.approvalsRequired}, tier ${state.currentTier + 1}, decide by ${state.pendingDeadline ?? '-'}`,
      );
    }
    if (state.grant)
      lines.push(`Access ${state.grant.revokedAt ? 'ended' : 'ends'} ${state.grant.revokedAt ?? state.grant.endsAt}`);
    if (state.grant) lines.push(state.grant.guarantee.statement);
    if (state.revokeAttempts) lines.push(`Failed attempts to end access: ${state.revokeAttempts}`);
    if (state.failure) lines.push(`Failed: ${state.failure.code}`);
    return lines.join('\n');
  }

  async function tell(
    kind: NotificationKind,
    recipients: string[],
    details?: Record<string, string | number | boolean>,
  ) {
    notificationSeq += 1;
    try {
      await notify({
        kind,
        eventId: `${workflowId}:notify:${notificationSeq}`,
        requestId: state.requestId,
        resourceId: state.resourceId,
        integration: state.integration,
        recipients,
        at: iso(Date.now()),
        details,
      });
    } catch (error) {
      // A lost notification must never stop a request; the log says what was lost.
      log.warn('notification failed', { kind, requestId: state.requestId, error: String(error) });
    }
  }

  const requesterKey = `user:${requester.id}`;

  // ----- Queries -----

  setHandler(stateQuery, () => state);
  setHandler(grantAccessQuery, (): GrantAccess | undefined => {
    if (state.status !== 'ACTIVE' || !state.grant) return undefined;
    return {
      mode,
      shareUrl,
      vaultId: snapshot.grant.mode === 'vault-group' ? snapshot.grant.vaultId : undefined,
      accessDetails: snapshot.integration.accessDetails,
      endsAt: state.grant.endsAt,
      providerExpiresAt: state.grant.providerExpiresAt,
      guarantee: state.grant.guarantee,
    };
  });
  // Only this request's lease entity signals it (signals are addressed by workflow id). The result is
  // not checked against workflowInfo().workflowId, so that histories replay under any workflow id.
  setHandler(leaseResultSignal, (result) => {
    leaseResults.set(result.op, result);
  });

  // ----- Updates: validators refuse (nothing is written to history); handlers apply -----

  function applyExtension(by: string, addMs: number, justification: string | undefined): void {
    const grant = state.grant!;
    const newEndsAt = iso(Date.parse(grant.endsAt) + addMs);
    state.extensions.push({ by, at: iso(Date.now()), addedMs: addMs, justification, newEndsAt });
    grant.endsAt = newEndsAt;
    grant.guarantee = guaranteeFor(mode, newEndsAt, grant.providerExpiresAt);
    state.pendingExtension = undefined;
    publish();
  }

  setHandler(
    approveUpdate,
    async (args) => {
      const actor = assertActor(args);
      const decision = checkApprove(snapshot, state, actor);
      refusal(decision);
      const record = {
        approverId: actor.id,
        at: iso(Date.now()),
        comment: optionalText(args.comment, 'comment'),
        tier: decision.ok ? decision.value : 0,
        matchedPrincipals: matchedPrincipals(snapshot.approval, actor),
      };
      if (state.status === 'ACTIVE' && state.pendingExtension) {
        const extension = state.pendingExtension;
        extension.approvals.push(record);
        if (thresholdMet(snapshot.approval, state.currentTier, extension.approvals)) {
          applyExtension(extension.requestedBy, extension.addedMs, undefined);
          await tell('access-extended', [requesterKey], { endsAt: state.grant!.endsAt });
        } else {
          publish();
        }
        return state;
      }
      state.approvals.push(record);
      if (thresholdMet(snapshot.approval, state.currentTier, state.approvals)) {
        state.status = 'APPROVED';
        publish();
        // Answer once the grant was made (ACTIVE) or could not be (FAILED).
        await condition(() => state.status !== 'APPROVED');
      } else {
        publish();
      }
      return state;
    },
    {
      validator: (args: ApproveArgs) => {
        const actor = assertActor(args);
        optionalText(args.comment, 'comment');
        refusal(checkApprove(snapshot, state, actor));
      },
    },
  );

  setHandler(
    rejectUpdate,
    (args) => {
      const actor = assertActor(args);
      refusal(checkReject(snapshot, state, actor));
      const record: DecisionRecord = {
        by: actor.id,
        at: iso(Date.now()),
        comment: optionalText(args.comment, 'comment'),
      };
      if (state.status === 'ACTIVE' && state.pendingExtension) {
        // Rejecting an extension leaves the grant as it was.
        state.pendingExtension = undefined;
      } else {
        state.rejection = record;
        state.status = 'REJECTED';
      }
      publish();
      return state;
    },
    {
      validator: (args: RejectArgs) => {
        const actor = assertActor(args);
        optionalText(args.comment, 'comment');
        refusal(checkReject(snapshot, state, actor));
      },
    },
  );

  setHandler(
    cancelUpdate,
    (args) => {
      const actor = assertActor(args);
      refusal(checkCancel(state, actor));
      state.cancellation = { by: actor.id, at: iso(Date.now()), comment: optionalText(args.reason, 'reason') };
      state.status = 'CANCELLED';
      publish();
      return state;
    },
    {
      validator: (args: CancelArgs) => {
        const actor = assertActor(args);
        optionalText(args.reason, 'reason');
        refusal(checkCancel(state, actor));
      },
    },
  );

  setHandler(
    revokeUpdate,
    async (args) => {
      const actor = assertActor(args);
      refusal(checkRevoke(snapshot, state, actor));
      state.revocation = { by: actor.id, at: iso(Date.now()), comment: optionalText(args.reason, 'reason') };
      publish();
      // Answer once 1Password confirmed the end of access.
      await condition(() => TERMINAL_STATUSES.has(state.status));
      return state;
    },
    {
      validator: (args: RevokeArgs) => {
        const actor = assertActor(args);
        optionalText(args.reason, 'reason');
        refusal(checkRevoke(snapshot, state, actor));
      },
    },
  );

  setHandler(
    extendUpdate,
    async (args) => {
      const actor = assertActor(args);
      const decision = checkExtend(snapshot, state, actor, args.addMs);
      refusal(decision);
      const justification = optionalText(args.justification, 'justification');
      if (snapshot.extensions.requireApproval) {
        state.pendingExtension = { requestedBy: actor.id, at: iso(Date.now()), addedMs: args.addMs, approvals: [] };
        publish();
        await tell('approval-requested', pendingApproverKeys(snapshot.approval, state.currentTier), {
          extensionMs: args.addMs,
        });
      } else {
        applyExtension(actor.id, args.addMs, justification);
        await tell('access-extended', [requesterKey], { endsAt: state.grant!.endsAt });
      }
      return state;
    },
    {
      validator: (args: ExtendArgs) => {
        const actor = assertActor(args);
        optionalText(args.justification, 'justification');
        refusal(checkExtend(snapshot, state, actor, args.addMs));
      },
    },
  );

  // ----- The lifecycle -----

  async function awaitDecision(): Promise<void> {
    let tierAskedAtMs = startMs;
    await tell('approval-requested', pendingApproverKeys(snapshot.approval, 0), {
      tier: 0,
      deadline: state.pendingDeadline!,
    });
    while (state.status === 'PENDING_APPROVAL') {
      const now = Date.now();
      const reminderAt = nextReminderAt(startMs, snapshot.reminderIntervalMs, now, pendingDeadlineMs);
      const escalationAt = nextEscalationAt(snapshot.approval, state.currentTier, tierAskedAtMs);
      const wakeAt = Math.min(pendingDeadlineMs, reminderAt ?? Infinity, escalationAt ?? Infinity);
      if (await condition(() => state.status !== 'PENDING_APPROVAL', Math.max(1, wakeAt - now))) break;
      const at = Date.now();
      if (at >= pendingDeadlineMs) {
        state.status = 'TIMED_OUT';
        publish();
        await tell('request-timed-out', [requesterKey, ...pendingApproverKeys(snapshot.approval, state.currentTier)]);
        return;
      }
      if (escalationAt !== undefined && at >= escalationAt) {
        state.currentTier += 1;
        tierAskedAtMs = at;
        state.approvalsRequired = approvalsRequired(snapshot.approval, state.currentTier);
        if (thresholdMet(snapshot.approval, state.currentTier, state.approvals)) state.status = 'APPROVED';
        publish();
        await tell(
          'approval-escalated',
          snapshot.approval.tiers[state.currentTier].approvers.map((p) => `${p.kind}:${p.id}`),
          { tier: state.currentTier, deadline: state.pendingDeadline! },
        );
      }
      if (reminderAt !== undefined && at >= reminderAt && state.status === 'PENDING_APPROVAL') {
        await tell('approval-reminder', pendingApproverKeys(snapshot.approval, state.currentTier), {
          tier: state.currentTier,
          deadline: state.pendingDeadline!,
        });
      }
    }
  }

  async function awaitLease(op: LeaseResult['op']): Promise<LeaseResult> {
    if (snapshot.grant.mode !== 'vault-group') throw new Error('leases are for vault-group grants');
    const { vaultId, groupId, permissions } = snapshot.grant;
    leaseResults.delete(op);
    await leasing.signalVaultLease({
      key: { integration: state.integration, vaultId, groupId },
      request: { op, leaseId: workflowId, replyTo: workflowId, permissions },
    });
    await condition(() => leaseResults.has(op));
    return leaseResults.get(op)!;
  }

  /** Makes the grant; false when it could not be made (the request is then FAILED, nothing granted). */
  async function grant(): Promise<boolean> {
    try {
      let providerExpiresAt: string | undefined;
      if (snapshot.grant.mode === 'share-link') {
        const link = await granting.createShareLink({
          idempotencyKey: `${workflowId}:grant`,
          integration: state.integration,
          vaultId: snapshot.grant.vaultId,
          itemId: snapshot.grant.itemId,
          recipientEmail: requester.email,
          durationMs: snapshot.durationMs,
          oneTimeView: snapshot.grant.oneTimeView,
        });
        shareUrl = link.url;
        providerExpiresAt = link.expiresAt;
      } else {
        const result = await awaitLease('acquire');
        if (!result.ok) {
          throw ApplicationFailure.create({
            type: result.failure?.code ?? 'LeaseFailed',
            message: result.failure?.message ?? 'the vault lease could not be granted',
            nonRetryable: true,
          });
        }
      }
      const grantedAt = Date.now();
      const endsAt = iso(grantedAt + snapshot.durationMs);
      state.grant = {
        grantedAt: iso(grantedAt),
        endsAt,
        providerExpiresAt,
        guarantee: guaranteeFor(mode, endsAt, providerExpiresAt),
      };
      state.status = 'ACTIVE';
      publish();
      await tell('access-granted', [requesterKey], { endsAt });
      return true;
    } catch (error) {
      // Anything but a failed activity or a refusal is a bug: rethrown, it fails the workflow task,
      // which Temporal retries until fixed code is deployed.
      if (isCancellation(error) || !(error instanceof ActivityFailure || error instanceof ApplicationFailure)) {
        throw error;
      }
      const cause = error instanceof ActivityFailure ? error.cause : error;
      state.failure =
        cause instanceof ApplicationFailure
          ? { code: cause.type ?? 'GrantFailed', message: cause.message }
          : { code: 'GrantFailed', message: 'the grant could not be made' };
      log.warn('grant failed', { requestId: state.requestId, code: state.failure.code });
      // Only a failed call, which granted nothing, reaches here: share links are made in one call
      // and the lease entity counts a holder only after 1Password confirmed the group permissions.
      state.status = 'FAILED';
      publish();
      await tell('grant-failed', [requesterKey], { code: state.failure.code });
      return false;
    }
  }

  async function holdUntilEnd(): Promise<void> {
    while (!state.revocation) {
      const endsAt = state.grant!.endsAt;
      const remaining = Date.parse(endsAt) - Date.now();
      if (remaining <= 0) return;
      await condition(() => !!state.revocation || state.grant!.endsAt !== endsAt, remaining);
    }
  }

  async function onEndFailure(failedAttempts: number): Promise<void> {
    state.revokeAttempts = failedAttempts;
    publish();
    if (failedAttempts === REVOKE_ALERT_AFTER_ATTEMPTS) {
      state.revokeAlerted = true;
      log.error('ending access keeps failing; still retrying', { requestId: state.requestId, failedAttempts });
      await tell('revoke-failing', [requesterKey, ...pendingApproverKeys(snapshot.approval, state.currentTier)], {
        failedAttempts,
      });
    }
  }

  /** Ends access and records it only once 1Password confirmed. Never cancelled, never gives up. */
  async function endAccess(): Promise<void> {
    const grantView = state.grant!;
    if (mode === 'rotate-on-revoke' && snapshot.grant.mode === 'share-link') {
      const { vaultId, itemId } = snapshot.grant;
      await untilConfirmed(
        () =>
          ending.rotateItemSecret({
            idempotencyKey: `${workflowId}:rotate`,
            integration: state.integration,
            vaultId,
            itemId,
          }),
        onEndFailure,
      );
      grantView.endedBy = 'secret-rotated';
    } else if (mode === 'vault-group') {
      const result = await awaitLease('release');
      if (result.revokeAttempts) state.revokeAttempts = result.revokeAttempts;
      grantView.endedBy =
        result.effect === 'revoked' ? 'group-permissions-removed' : 'group-still-held-by-other-grants';
    } else {
      // 1Password cannot withdraw a share link: the end is recorded truthfully, the link lapses at its bucket.
      grantView.endedBy = 'link-left-to-expire';
    }
    grantView.revokedAt = iso(Date.now());
    shareUrl = undefined;
    // Ended early (requester, approver, admin or workflow cancellation) is REVOKED; at the timer, EXPIRED.
    state.status = state.revocation ? 'REVOKED' : 'EXPIRED';
    publish();
    await tell('access-ended', [requesterKey], { status: state.status, endedBy: grantView.endedBy });
  }

  // ----- Main -----

  upsertMemo({
    requestId: state.requestId,
    resourceName: snapshot.resource.name,
    flowName: snapshot.flowName,
    policyVersion: snapshot.policyVersion,
    grantMode: mode,
  });
  publish();

  let cancelled: Error | undefined;
  try {
    if (snapshot.approval.automatic) {
      state.status = 'APPROVED';
      publish();
    } else {
      await awaitDecision();
    }
  } catch (error) {
    if (!isCancellation(error)) throw error;
    cancelled = error as Error;
    if (state.status === 'PENDING_APPROVAL') {
      state.cancellation = { by: CANCELLED_BY_WORKFLOW, at: iso(Date.now()) };
      state.status = 'CANCELLED';
      publish();
    }
  }

  if (state.status === 'APPROVED') {
    // A grant in flight is finished even if the workflow is cancelled, so that it can then be ended.
    const granted = await CancellationScope.nonCancellable(() => grant());
    if (granted) {
      if (!cancelled) {
        try {
          await holdUntilEnd();
        } catch (error) {
          if (!isCancellation(error)) throw error;
          cancelled = error as Error;
        }
      }
      if (cancelled && !state.revocation) state.revocation = { by: CANCELLED_BY_WORKFLOW, at: iso(Date.now()) };
      await CancellationScope.nonCancellable(() => endAccess());
    }
  }

  await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  if (cancelled) throw cancelled;
  return state;
}
