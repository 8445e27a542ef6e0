import type { Payload } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils';
import { searchAttributePayloadConverter } from '@temporalio/common/lib/converter/payload-search-attributes';
import type { AccessRequestInput, AccessRequestState } from '../contracts/request';
import { SA_STATUS } from '../contracts/search-attributes';
import type { SignedCommand } from '../contracts/command';

export type HistoryEvent = NonNullable<History['events']>[number];

/** Turns stored payloads back into values (through the payload codec). */
export type PayloadDecoder = (payloads: Payload[] | null | undefined) => Promise<unknown[]>;

export interface AuditEntry {
  eventId: number;
  at: string;
  kind: string;
  actor?: string;
  summary: string;
  details?: Record<string, unknown>;
}

interface TimestampLike {
  seconds?: { toString(): string } | number | null;
  nanos?: number | null;
}

function isoTime(ts: TimestampLike | null | undefined): string {
  if (!ts) return new Date(0).toISOString();
  const seconds = Number(ts.seconds?.toString() ?? 0);
  return new Date(seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1_000_000)).toISOString();
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Words for each Update, as the audit reads them. */
const UPDATE_VERBS: Record<string, string> = {
  approve: 'approved',
  reject: 'rejected',
  cancel: 'cancelled the request',
  revoke: 'revoked access',
  extend: 'asked for more time',
};

/** On a break-glass request, approve and reject can only be its ratification (domain/request-rules.ts). */
const BREAK_GLASS_VERBS: Record<string, string> = {
  approve: 'ratified the break-glass access',
  reject: 'refused the break-glass access',
};

/** The signed command exactly as history holds it, or undefined (histories from before signed commands). */
function signedCommandIn(value: unknown): SignedCommand | undefined {
  const command = record(value);
  if (typeof command.keyId !== 'string' || typeof command.claims !== 'string') return undefined;
  if (typeof command.signature !== 'string') return undefined;
  return { keyId: command.keyId, claims: command.claims, signature: command.signature };
}

/** The claims of a command, unverified: for display only; `audit verify` checks them (audit/decisions.ts). */
function claimsOf(command: SignedCommand): Record<string, unknown> {
  try {
    return record(JSON.parse(command.claims));
  } catch {
    return {};
  }
}

/**
 * Only these fields of an Update's argument reach the audit: who, and the words they gave, read from the
 * signed command's claims (or, in older histories, from the plain argument `{ actor, comment, ... }`).
 * Nothing else the argument might carry is passed on, except the signed command itself, kept as it was
 * so that an auditor can check it offline (its claims name the actor's groups and roles, never an e-mail).
 */
function updateDetails(name: string, arg: unknown): { actor?: string; details: Record<string, unknown> } {
  const command = signedCommandIn(arg);
  const claims = command ? claimsOf(command) : undefined;
  const words = claims ? record(claims.args) : record(arg);
  const actor = text(record(claims ? claims.actor : record(arg).actor).id);
  const details: Record<string, unknown> = { update: name };
  for (const key of ['comment', 'reason', 'justification'] as const) {
    const value = text(words[key]);
    if (value !== undefined) details[key] = value;
  }
  if (typeof words.addMs === 'number') details.addMs = words.addMs;
  if (command) details.command = command;
  return { actor, details };
}

/**
 * The audit trail of one request: its workflow history as a timeline of who did what, when and why.
 * Activity results are never decoded here, since the grant's result carries the share link.
 */
export async function buildAuditTimeline(events: HistoryEvent[], decode: PayloadDecoder): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  const updateNames = new Map<string, string>();
  const activityNames = new Map<string, string>();
  let breakGlass = false;

  for (const event of events) {
    const eventId = Number(event.eventId?.toString() ?? 0);
    const at = isoTime(event.eventTime);
    const push = (entry: Omit<AuditEntry, 'eventId' | 'at'>) => entries.push({ eventId, at, ...entry });

    if (event.workflowExecutionStartedEventAttributes) {
      const [input] = (await decode(event.workflowExecutionStartedEventAttributes.input?.payloads)) as [
        AccessRequestInput | undefined,
      ];
      const snapshot = input?.snapshot;
      const startCommand = signedCommandIn(record(input).command);
      breakGlass = !!snapshot?.breakGlass;
      push({
        kind: 'requested',
        actor: input?.requester.id,
        summary: `${input?.requester.id ?? 'someone'} asked for ${snapshot?.resource.id ?? 'a resource'}${breakGlass ? ', breaking the glass' : ''}${input?.startAt ? `, from ${input.startAt}` : ''}`,
        details: {
          resourceId: snapshot?.resource.id,
          integration: snapshot?.integration.name,
          flowName: snapshot?.flowName,
          policyVersion: snapshot?.policyVersion,
          durationMs: snapshot?.durationMs,
          justification: input?.justification,
          ticket: input?.ticket,
          approvalTiers: snapshot?.approval.tiers.map((tier) => ({
            approvers: tier.approvers,
            threshold: tier.threshold,
          })),
          automatic: snapshot?.approval.automatic,
          // Granted without approval, to be ratified: who may ratify, by when, and what happens otherwise.
          ...(snapshot?.breakGlass && { breakGlass: snapshot.breakGlass }),
          // Scheduled: when access was to start (granted then only if still eligible).
          ...(input?.startAt && { startAt: input.startAt }),
          // The requester's signed start, when the request was made after signed commands.
          ...(startCommand && { command: startCommand }),
          // A vault-group grant reaches every member of this 1Password group, not only the requester.
          ...(snapshot?.grant?.mode === 'vault-group' && {
            reaches: {
              onePasswordGroupId: snapshot.grant.groupId,
              title: snapshot.grant.groupTitle,
              type: snapshot.grant.groupType,
            },
          }),
        },
      });
    } else if (event.workflowExecutionUpdateAcceptedEventAttributes) {
      const request = event.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest;
      const name = request?.input?.name ?? 'update';
      const updateId = request?.meta?.updateId ?? '';
      updateNames.set(updateId, name);
      const [arg] = await decode(request?.input?.args?.payloads);
      const { actor, details } = updateDetails(name, arg);
      const words = text(details.comment) ?? text(details.reason) ?? text(details.justification);
      push({
        kind: name,
        actor,
        summary: `${actor ?? 'someone'} ${(breakGlass && BREAK_GLASS_VERBS[name]) || UPDATE_VERBS[name] || name}${words ? `: ${words}` : ''}`,
        details,
      });
    } else if (event.workflowExecutionUpdateCompletedEventAttributes) {
      const attributes = event.workflowExecutionUpdateCompletedEventAttributes;
      const name = updateNames.get(attributes.meta?.updateId ?? '') ?? 'update';
      const outcome = attributes.outcome;
      if (outcome?.failure) {
        push({ kind: `${name}-failed`, summary: `the ${name} did not take effect` });
      } else {
        const [state] = (await decode(outcome?.success?.payloads)) as [AccessRequestState | undefined];
        push({
          kind: `${name}-completed`,
          summary: `after the ${name}, the request is ${state?.status ?? 'unchanged'}`,
          details: { status: state?.status },
        });
      }
    } else if (event.activityTaskScheduledEventAttributes) {
      const attributes = event.activityTaskScheduledEventAttributes;
      const name = attributes.activityType?.name ?? 'activity';
      activityNames.set(String(eventId), name);
      push({ kind: 'step-started', summary: `latchkey started ${name}`, details: { activity: name } });
    } else if (event.activityTaskCompletedEventAttributes) {
      const name =
        activityNames.get(String(event.activityTaskCompletedEventAttributes.scheduledEventId ?? '')) ?? 'activity';
      push({ kind: 'step-completed', summary: `${name} succeeded`, details: { activity: name } });
    } else if (event.activityTaskFailedEventAttributes) {
      const name =
        activityNames.get(String(event.activityTaskFailedEventAttributes.scheduledEventId ?? '')) ?? 'activity';
      push({ kind: 'step-failed', summary: `${name} failed`, details: { activity: name } });
    } else if (event.timerFiredEventAttributes) {
      push({ kind: 'timer-fired', summary: 'a scheduled moment arrived (deadline, reminder or end of access)' });
    } else if (event.upsertWorkflowSearchAttributesEventAttributes) {
      const fields = event.upsertWorkflowSearchAttributesEventAttributes.searchAttributes?.indexedFields ?? {};
      const payload = fields[SA_STATUS.name];
      const status = payload ? searchAttributePayloadConverter.fromPayload<unknown>(payload) : undefined;
      const value = Array.isArray(status) ? text(status[0]) : text(status);
      if (value) push({ kind: 'status', summary: `status is now ${value}`, details: { status: value } });
    } else if (event.workflowExecutionSignaledEventAttributes) {
      const name = event.workflowExecutionSignaledEventAttributes.signalName ?? 'signal';
      push({ kind: 'signal', summary: `received ${name}`, details: { signal: name } });
    } else if (event.workflowExecutionCompletedEventAttributes) {
      const [state] = (await decode(event.workflowExecutionCompletedEventAttributes.result?.payloads)) as [
        AccessRequestState | undefined,
      ];
      push({
        kind: 'closed',
        summary: `the request ended ${state?.status ?? ''}`.trim(),
        details: { status: state?.status, grant: state?.grant },
      });
    } else if (event.workflowExecutionFailedEventAttributes) {
      push({ kind: 'closed', summary: 'the request workflow failed' });
    } else if (event.workflowExecutionTerminatedEventAttributes) {
      push({ kind: 'closed', summary: 'an operator terminated the request workflow' });
    } else if (event.workflowExecutionCanceledEventAttributes) {
      push({ kind: 'closed', summary: 'the request workflow was cancelled' });
    } else if (event.workflowExecutionTimedOutEventAttributes) {
      push({ kind: 'closed', summary: 'the request workflow timed out' });
    }
  }
  return entries;
}
