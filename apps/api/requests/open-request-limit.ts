import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { LRUCache } from 'lru-cache';
import { SA_BREAK_GLASS, SA_STATUS } from '../../../contracts/search-attributes';
import { formatIsoDuration } from '../../../domain/duration';
import type { RequestStatus } from '../../../contracts/request';
import type { FlowSnapshot } from '../../../contracts/snapshot';
import { ApiError } from '../errors/api-error';
import type { Caller } from '../identity/caller';
import { buildListQuery, type ListScope } from './visibility-query';

/** A request in one of these states still holds, or may soon hold, access and an approver's attention. */
export const OPEN_STATUSES: readonly RequestStatus[] = ['PENDING_APPROVAL', 'APPROVED', 'ACTIVE', 'ENDING'];

/** The visibility query that counts the caller's open requests: "mine", as the list builds it, still open. */
export function openRequestsQuery(scope: ListScope, caller: Caller): string {
  const open = OPEN_STATUSES.map((status) => `'${status}'`).join(', ');
  return `${buildListQuery(scope, caller, { mine: true })} AND ExecutionStatus = 'Running' AND ${SA_STATUS.name} IN (${open})`;
}

/** How long a count is trusted, with this instance's own starts added to it, for a requester far below the limit. */
export const RECOUNT_AFTER_MS = 10_000;
const REQUESTERS_KEPT = 10_000;

/**
 * The policy's `limits.openRequestsPerRequester`: one more request from someone who already has that
 * many open is refused (429, `open-request-limit`), so that one person or a script with their token
 * cannot flood approvers and the worker. Counted through Temporal visibility, which lags the starts
 * by up to a second or so: a burst may pass the limit by a few, a flood cannot.
 *
 * Most people are far below the limit, and a count is a visibility query on every create. So a count is
 * kept for a while, with each start this instance lets through added to it (requests that close meanwhile
 * are not subtracted: it can only overstate), and the requester is counted again once that reaches half
 * the limit or the count is older than `RECOUNT_AFTER_MS`. Each API instance lets at most half the limit
 * through on a count it holds, so two instances together still stop a flood at the limit.
 */
export class OpenRequestLimit {
  private readonly counted = new LRUCache<string, { open: number; countedAtMs: number }>({ max: REQUESTERS_KEPT });

  constructor(
    private readonly client: Client,
    private readonly scope: ListScope,
    private readonly limit: number,
  ) {}

  /**
   * Refuses when the caller is at the limit; otherwise counts the request about to start. `retriedWorkflowId`:
   * the workflow an idempotent retry would answer with; when it exists, the retry is not a new request and passes.
   */
  async check(caller: Caller, retriedWorkflowId?: string): Promise<void> {
    const now = Date.now();
    const kept = this.counted.get(caller.identity.id);
    if (kept && now - kept.countedAtMs < RECOUNT_AFTER_MS && (kept.open + 1) * 2 <= this.limit) {
      kept.open += 1;
      return;
    }
    const { count } = await this.client.workflow.count(openRequestsQuery(this.scope, caller));
    if (count >= this.limit && !(retriedWorkflowId && (await workflowExists(this.client, retriedWorkflowId)))) {
      throw new ApiError(
        429,
        'open-request-limit',
        `You already have ${this.limit} open requests, the most the policy allows: cancel or give back one first.`,
        { limit: this.limit },
      );
    }
    this.counted.set(caller.identity.id, { open: count + 1, countedAtMs: now });
  }
}

/** Whether an idempotent retry's workflow exists: then the retry is not a new request, and passes a limit. */
async function workflowExists(client: Client, workflowId: string): Promise<boolean> {
  try {
    await client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** Break-glass requests the caller started since `sinceIso`, whatever became of them. */
export function breakGlassQuery(scope: ListScope, caller: Caller, sinceIso: string): string {
  const stages = BREAK_GLASS_STAGES.map((stage) => `'${stage}'`).join(', ');
  return `${buildListQuery(scope, caller, { mine: true })} AND ${SA_BREAK_GLASS.name} IN (${stages}) AND StartTime >= '${sinceIso}'`;
}

const BREAK_GLASS_STAGES = ['awaiting-ratification', 'ratified', 'not-ratified'];

/**
 * A break-glass flow's `perPersonLimit`: one more break-glass request from someone who made `count` in
 * the last `per` (in any flow, ratified or not) is refused (429, `break-glass-limit`). Break-glass is for
 * when nobody can be reached, not a way around approval.
 */
export class BreakGlassLimit {
  constructor(
    private readonly client: Client,
    private readonly scope: ListScope,
    private readonly limit: { count: number; perMs: number },
  ) {}

  async check(caller: Caller, retriedWorkflowId?: string): Promise<void> {
    const since = new Date(Date.now() - this.limit.perMs).toISOString();
    const { count } = await this.client.workflow.count(breakGlassQuery(this.scope, caller, since));
    if (count >= this.limit.count && !(retriedWorkflowId && (await workflowExists(this.client, retriedWorkflowId)))) {
      throw new ApiError(
        429,
        'break-glass-limit',
        `You have used break-glass ${count} times in the last ${formatIsoDuration(this.limit.perMs)}, the most this flow allows: ask an approver instead.`,
        { limit: this.limit.count, per: formatIsoDuration(this.limit.perMs) },
      );
    }
  }
}

/**
 * A share link (and a database login's link) goes to the requester's e-mail address: only an address
 * the identity provider vouches for (`email_verified: true`) may receive one.
 */
export function requireVerifiedRecipient(caller: Caller, snapshot: FlowSnapshot): void {
  if (snapshot.grant.mode === 'vault-group' || caller.emailVerified) return;
  throw new ApiError(
    403,
    'email-not-verified',
    'Your token does not say that your e-mail address is verified (email_verified: true); a share link cannot be sent to it.',
  );
}
