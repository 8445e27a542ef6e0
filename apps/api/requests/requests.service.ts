import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { type Client, type WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import {
  ApplicationFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type TypedSearchAttributes,
} from '@temporalio/common';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import type { LatchkeyConfig } from '../../../config/config';
import type { ResourceCatalog } from '../../../contracts/catalog';
import { requestIdFromWorkflowId, requestWorkflowId } from '../../../domain/ids';
import {
  approveUpdate,
  cancelUpdate,
  extendUpdate,
  grantAccessQuery,
  REFUSAL,
  rejectUpdate,
  revokeUpdate,
  stateQuery,
} from '../../../contracts/messages';
import type {
  AccessRequestInput,
  AccessRequestState,
  GrantAccess,
  RequestPage,
  RequestSummary,
} from '../../../contracts/request';
import { stateAtRequest, TERMINAL_STATUSES } from '../../../domain/lifecycle';
import {
  SA_BREAK_GLASS,
  SA_GRANT_ENDS_AT,
  SA_INTEGRATION,
  SA_REQUESTER,
  SA_RESOURCE,
  SA_STATUS,
} from '../../../contracts/search-attributes';
import type { FlowSnapshot } from '../../../contracts/snapshot';
import { evaluateRequest, type FlowPolicy, type LoadedPolicy } from '../../../policy';
import { parseIsoDuration } from '../../../domain/duration';
import { accessRequestWorkflow } from '../../../workflows';
import { visibilityAtStart } from '../../../domain/visibility';
import { ApiError } from '../errors/api-error';
import { safeRefusalMessage } from '../errors/error-mapping';
import { actorOf, type Caller } from '../identity/caller';
import { ApiMetrics } from '../metrics/api-metrics';
import { CatalogService } from '../resources/catalog.service';
import { payloadDecoder } from '../../../codec/payload-decoder';
import { GRPC, grpcCode } from '../temporal/grpc';
import { API_CONFIG, POLICY, TEMPORAL_CLIENT } from '../tokens';
import { mayRead, mayReadGrant, type RequestParties } from './access-rules';
import { type AuditEntry, buildAuditTimeline } from '../../../audit/timeline';
import { type CreateRequestDto, type ListRequestsQueryDto, PAGE_SIZE } from './dto/request-input.dto';
import { BreakGlassLimit, OpenRequestLimit, requireVerifiedRecipient } from './open-request-limit';
import { PageTokens } from './page-token';
import { idempotentRequestId, newRequestId } from './request-id';
import { buildListQuery, type ListScope } from './visibility-query';
import { CommandSigner } from '../../../trust/command-signer';

/** HTTP status of each policy refusal: not being eligible is a matter of rights, the rest of input. */
const REFUSAL_STATUS: Record<string, number> = { 'not-eligible': 403 };

/** The longest a request may be scheduled ahead: long enough for a planned change, short enough to stay current. */
const MAX_SCHEDULE_AHEAD_MS = 30 * 86_400_000;

/**
 * A scheduled request's start, normalised; undefined for access at once. Break-glass is never scheduled.
 * A well-formed startAt refused for when it falls is a 422: the document describes its form, not the clock.
 */
function scheduledStart(dto: CreateRequestDto): string | undefined {
  if (dto.startAt === undefined) return undefined;
  if (dto.breakGlass) {
    throw new ApiError(422, 'invalid-start', 'Break-glass access starts at once: it cannot have a startAt.');
  }
  const startMs = Date.parse(dto.startAt);
  const nowMs = Date.now();
  if (startMs <= nowMs) throw new ApiError(422, 'invalid-start', 'startAt must be in the future.');
  if (startMs > nowMs + MAX_SCHEDULE_AHEAD_MS) {
    throw new ApiError(422, 'invalid-start', 'startAt may be at most 30 days ahead.');
  }
  return new Date(startMs).toISOString();
}

function flowNamed(policy: LoadedPolicy, name: string): FlowPolicy {
  return policy.flows.find((flow) => flow.name === name)!;
}

/** Pinned inputs never change, so what they say about a request's parties can be kept. */
const PARTIES_CACHE_SIZE = 10_000;
/** Queries are answered by the worker from its cache or a replay: seconds at most. */
const QUERY_DEADLINE_MS = 10_000;
/** Updates may wait for a 1Password call (an approval that grants); retries included. */
const UPDATE_DEADLINE_MS = 60_000;

type Change = 'approve' | 'reject' | 'cancel' | 'revoke' | 'extend';

export interface EmergencyRevokeReport {
  matched: number;
  revoked: number;
  results: Array<{ requestId: string; outcome: 'revoked' | 'refused' | 'failed'; status?: string; code?: string }>;
}

/** Revokes run a few at a time: fast enough for an emergency, gentle on the worker and 1Password. */
const EMERGENCY_REVOKE_CONCURRENCY = 4;
const EMERGENCY_REVOKE_LIMIT = 10_000;

/**
 * Requests, answered from Temporal only: a request is a workflow, its state a query, every change an
 * Update (whose validator has the last word), lists come from visibility and the audit from history.
 */
@Injectable()
export class RequestsService {
  private readonly parties = new LRUCache<string, RequestParties>({ max: PARTIES_CACHE_SIZE });
  private readonly decode: ReturnType<typeof payloadDecoder>;
  /** Which workflows are requests: what the lists show and the limits count. */
  private readonly scope: ListScope;
  private readonly openRequestLimit: OpenRequestLimit;

  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(API_CONFIG) private readonly config: LatchkeyConfig,
    @Inject(POLICY) private readonly policy: LoadedPolicy,
    private readonly catalog: CatalogService,
    private readonly metrics: ApiMetrics,
    private readonly pageTokens: PageTokens,
    private readonly signer: CommandSigner,
  ) {
    this.decode = payloadDecoder(client);
    this.scope = { workflowType: accessRequestWorkflow.name, taskQueue: config.temporal.taskQueue };
    this.openRequestLimit = new OpenRequestLimit(client, this.scope, policy.limits.openRequestsPerRequester);
  }

  async create(
    caller: Caller,
    dto: CreateRequestDto,
    idempotencyKey: string | undefined,
  ): Promise<{ state: AccessRequestState; created: boolean }> {
    const catalog: ResourceCatalog = await this.catalog.get();
    const evaluation = evaluateRequest(this.policy, catalog, caller.identity, {
      resourceId: dto.resourceId,
      duration: dto.duration,
      justification: dto.justification,
      ticket: dto.ticket,
      breakGlass: dto.breakGlass,
    });
    if (!evaluation.ok) {
      const { code, rule, message } = evaluation.refusal;
      throw new ApiError(REFUSAL_STATUS[code] ?? 422, code, safeRefusalMessage(message), { rule });
    }
    const snapshot = evaluation.snapshot;
    const startAt = scheduledStart(dto);
    requireVerifiedRecipient(caller, snapshot);
    const requestId = idempotencyKey ? idempotentRequestId(caller.identity.id, idempotencyKey) : newRequestId();
    const workflowId = requestWorkflowId(requestId);
    const retried = idempotencyKey ? workflowId : undefined;
    await this.openRequestLimit.check(caller, retried);
    const breakGlassLimit = snapshot.breakGlass && flowNamed(this.policy, snapshot.flowName).breakGlass?.perPersonLimit;
    if (breakGlassLimit) await new BreakGlassLimit(this.client, this.scope, breakGlassLimit).check(caller, retried);
    // Signed, so that the workflow knows this request came from here and not from anyone who reaches Temporal.
    const input: AccessRequestInput = this.signer.signStart(workflowId, actorOf(caller), {
      requestId,
      requester: caller.identity,
      justification: dto.justification ?? '',
      ticket: dto.ticket,
      requestedAt: new Date().toISOString(),
      snapshot,
      ...(startAt && { startAt }),
    });

    try {
      await this.client.workflow.start(accessRequestWorkflow, {
        args: [input],
        workflowId,
        taskQueue: this.config.temporal.taskQueue,
        // A second start with the same id (the same idempotency key) must never make a second request.
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        ...visibilityAtStart(input),
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError && idempotencyKey) {
        return { state: await this.replayIdempotent(caller, requestId, snapshot), created: false };
      }
      this.metrics.failed.inc();
      throw err;
    }
    this.metrics.created.inc();
    this.parties.set(requestId, partiesOf(input));
    // The state the workflow starts from, known from the input: a query now would cost the worker a workflow task.
    return { state: stateAtRequest(input), created: true };
  }

  async get(caller: Caller, requestId: string): Promise<AccessRequestState> {
    await this.authorizeRead(caller, requestId);
    return this.within(QUERY_DEADLINE_MS, () => this.handle(requestId).query(stateQuery));
  }

  async list(caller: Caller, query: ListRequestsQueryDto): Promise<RequestPage> {
    const visibilityQuery = buildListQuery(this.scope, caller, query);
    let nextPageToken: Buffer | undefined;
    if (query.pageToken) {
      nextPageToken = this.pageTokens.open(visibilityQuery, query.pageToken);
      if (!nextPageToken) {
        // Well-formed, but not sealed by this API for this very list: a 422, as the document says.
        throw new ApiError(422, 'invalid-page-token', 'pageToken is not a token from a previous page of this list.');
      }
    }
    const response = await this.client.workflowService.listWorkflowExecutions({
      namespace: this.config.temporal.namespace,
      query: visibilityQuery,
      pageSize: query.pageSize ?? PAGE_SIZE.default,
      nextPageToken,
    });
    const items = (response.executions ?? []).flatMap((execution): RequestSummary[] => {
      const requestId = requestIdFromWorkflowId(execution.execution?.workflowId ?? '');
      if (!requestId) return [];
      const attributes: TypedSearchAttributes = decodeTypedSearchAttributes(
        summaryFieldsOf(execution.searchAttributes?.indexedFields),
      );
      return [
        {
          requestId,
          status: attributes.get(SA_STATUS),
          requesterId: attributes.get(SA_REQUESTER),
          resourceId: attributes.get(SA_RESOURCE),
          integration: attributes.get(SA_INTEGRATION),
          grantEndsAt: attributes.get(SA_GRANT_ENDS_AT)?.toISOString(),
          breakGlass: attributes.get(SA_BREAK_GLASS),
          startedAt: timestampToIso(execution.startTime),
          closedAt: timestampToIso(execution.closeTime),
        },
      ];
    });
    const token = response.nextPageToken;
    return {
      items,
      ...(token && token.length > 0 ? { nextPageToken: this.pageTokens.seal(visibilityQuery, token) } : {}),
    };
  }

  async change(
    caller: Caller,
    requestId: string,
    change: Change,
    body: { comment?: string; reason?: string; duration?: string; justification?: string },
    options: { nonce?: string } = {},
  ): Promise<AccessRequestState> {
    await this.authorizeRead(caller, requestId);
    const handle = this.handle(requestId);
    // Signed with the caller's verified identity: the workflow checks it before its own rules.
    const signed = <Args extends object>(args: Args) =>
      this.signer.sign(change, handle.workflowId, actorOf(caller), args, undefined, options.nonce);
    let state: AccessRequestState;
    try {
      state = await this.within(UPDATE_DEADLINE_MS, () => {
        switch (change) {
          case 'approve':
            return handle.executeUpdate(approveUpdate, { args: [signed({ comment: body.comment })] });
          case 'reject':
            return handle.executeUpdate(rejectUpdate, { args: [signed({ comment: body.comment })] });
          case 'cancel':
            return handle.executeUpdate(cancelUpdate, { args: [signed({ reason: body.reason })] });
          case 'revoke':
            return handle.executeUpdate(revokeUpdate, { args: [signed({ reason: body.reason })] });
          case 'extend':
            return handle.executeUpdate(extendUpdate, {
              args: [signed({ addMs: parseIsoDuration(body.duration ?? ''), justification: body.justification })],
            });
        }
      });
    } catch (err) {
      // The request exists (its parties were just read), so "not found" means its workflow has ended.
      if (err instanceof WorkflowNotFoundError) {
        throw ApiError.conflict('This request has ended; it no longer accepts changes.', 'request-ended');
      }
      if (!(err instanceof WorkflowUpdateFailedError && isRefusal(err.cause))) this.metrics.failed.inc();
      throw err;
    }
    if (change === 'approve') this.metrics.approved.inc();
    if (change === 'revoke') this.metrics.revoked.inc();
    if (change === 'approve' || change === 'revoke') this.observe(state);
    return state;
  }

  async grant(caller: Caller, requestId: string): Promise<GrantAccess> {
    const parties = await this.partiesOf(requestId);
    if (!mayReadGrant(caller, parties)) throw ApiError.forbidden('Only the requester may read the grant.');
    const handle = this.handle(requestId);
    const state = await this.within(QUERY_DEADLINE_MS, () => handle.query(stateQuery));
    if (TERMINAL_STATUSES.has(state.status) || state.status === 'ENDING') {
      throw new ApiError(410, 'grant-ended', `This request is ${state.status}; there is no access to read any more.`);
    }
    const access =
      state.status === 'ACTIVE'
        ? await this.within(QUERY_DEADLINE_MS, () => handle.query(grantAccessQuery))
        : undefined;
    if (!access)
      throw ApiError.conflict(`This request is ${state.status}; access has not been granted yet.`, 'not-granted');
    return access;
  }

  async audit(
    caller: Caller,
    requestId: string,
  ): Promise<{ requestId: string; workflowId: string; runId: string; entries: AuditEntry[] }> {
    await this.authorizeRead(caller, requestId);
    const handle = this.handle(requestId);
    const [description, history] = await Promise.all([handle.describe(), handle.fetchHistory()]);
    return {
      requestId,
      workflowId: handle.workflowId,
      runId: description.runId,
      entries: await buildAuditTimeline(history.events ?? [], this.decode),
    };
  }

  /**
   * The emergency stop: every ACTIVE request of a requester and/or a resource, and every one whose grant
   * is being made (APPROVED), found through visibility and revoked one by one through the same Update as
   * any revoke, with a report.
   */
  async emergencyRevoke(
    caller: Caller,
    filter: { requesterId?: string; resourceId?: string; reason?: string },
  ): Promise<EmergencyRevokeReport> {
    const ids = [
      ...(await this.idsWithStatus(caller, 'ACTIVE', filter)),
      ...(await this.idsWithStatus(caller, 'APPROVED', filter)),
    ].slice(0, EMERGENCY_REVOKE_LIMIT);

    const results: EmergencyRevokeReport['results'] = [];
    const queue = [...ids];
    const reason = filter.reason ?? 'emergency revoke';
    await Promise.all(
      Array.from({ length: Math.min(EMERGENCY_REVOKE_CONCURRENCY, queue.length) }, async () => {
        for (let requestId = queue.shift(); requestId; requestId = queue.shift()) {
          try {
            const state = await this.change(caller, requestId, 'revoke', { reason });
            results.push({ requestId, outcome: 'revoked', status: state.status });
          } catch (err) {
            const refused =
              err instanceof ApiError || (err instanceof WorkflowUpdateFailedError && isRefusal(err.cause));
            results.push({
              requestId,
              outcome: refused ? 'refused' : 'failed',
              code: refused ? refusalCode(err) : 'internal',
            });
          }
        }
      }),
    );
    return { matched: ids.length, revoked: results.filter((result) => result.outcome === 'revoked').length, results };
  }

  private async idsWithStatus(
    caller: Caller,
    status: 'ACTIVE' | 'APPROVED',
    filter: { requesterId?: string; resourceId?: string },
  ): Promise<string[]> {
    const ids: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.list(caller, {
        status,
        requester: filter.requesterId,
        resourceId: filter.resourceId,
        pageSize: 100,
        pageToken,
      });
      ids.push(...page.items.map((item) => item.requestId));
      pageToken = page.nextPageToken;
    } while (pageToken && ids.length < EMERGENCY_REVOKE_LIMIT);
    return ids;
  }

  /**
   * Every call that needs the worker (queries, Updates) gets a deadline, so a stopped worker makes
   * the API answer 503 instead of holding the connection open.
   */
  private within<T>(ms: number, call: () => Promise<T>): Promise<T> {
    return this.client.connection.withDeadline(Date.now() + ms, call);
  }

  private handle(requestId: string): WorkflowHandle<typeof accessRequestWorkflow> {
    return this.client.workflow.getHandle<typeof accessRequestWorkflow>(requestWorkflowId(requestId));
  }

  private async authorizeRead(caller: Caller, requestId: string): Promise<RequestParties> {
    const parties = await this.partiesOf(requestId);
    if (!mayRead(caller, parties)) throw ApiError.forbidden('You may not see this request.');
    return parties;
  }

  /** Who the request concerns, from the input pinned in its first history event. */
  private async partiesOf(requestId: string): Promise<RequestParties> {
    const known = this.parties.get(requestId);
    if (known) return known;
    let response;
    try {
      response = await this.client.workflowService.getWorkflowExecutionHistory({
        namespace: this.config.temporal.namespace,
        execution: { workflowId: requestWorkflowId(requestId) },
        maximumPageSize: 1,
      });
    } catch (err) {
      if (grpcCode(err) === GRPC.NOT_FOUND) throw ApiError.notFound('request');
      throw err;
    }
    const started = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
    if (!started || started.workflowType?.name !== accessRequestWorkflow.name) throw ApiError.notFound('request');
    const [input] = (await this.decode(started.input?.payloads)) as [AccessRequestInput];
    const parties = partiesOf(input);
    this.parties.set(requestId, parties);
    return parties;
  }

  private async replayIdempotent(
    caller: Caller,
    requestId: string,
    snapshot: FlowSnapshot,
  ): Promise<AccessRequestState> {
    const parties = await this.partiesOf(requestId);
    // The id is a hash of the caller and the key, so only the same caller gets here; a different
    // resource under the same key is a client bug worth telling apart from a retry.
    if (parties.requesterId !== caller.identity.id || parties.resourceId !== snapshot.resource.id) {
      throw ApiError.conflict(
        'This Idempotency-Key was already used for a different request.',
        'idempotency-key-reused',
      );
    }
    return this.within(QUERY_DEADLINE_MS, () => this.handle(requestId).query(stateQuery));
  }

  private observe(state: AccessRequestState): void {
    if (state.status === 'ACTIVE') this.metrics.granted.inc();
    if (state.status === 'FAILED') this.metrics.failed.inc();
  }
}

function partiesOf(input: AccessRequestInput): RequestParties {
  return {
    requesterId: input.requester.id,
    resourceId: input.snapshot.resource.id,
    approvers: input.snapshot.approval.tiers.flatMap((tier) => tier.approvers),
  };
}

/** The code a client would have seen for this refusal (ended, already revoking, ...). */
function refusalCode(err: unknown): string {
  if (err instanceof ApiError) return err.code;
  const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
  return cause instanceof ApplicationFailure && cause.type === REFUSAL.conflict ? 'conflict' : 'refused';
}

function isRefusal(cause: unknown): boolean {
  return cause instanceof ApplicationFailure && Object.values<string>(REFUSAL).includes(cause.type ?? '');
}

/** The search attributes a summary shows. */
const SUMMARY_ATTRIBUTES = [SA_STATUS, SA_REQUESTER, SA_RESOURCE, SA_INTEGRATION, SA_GRANT_ENDS_AT, SA_BREAK_GLASS].map(
  (key) => key.name,
);

/**
 * The indexed fields a summary reads, out of all that a listed execution carries (Temporal's own, approvers,
 * deciders): decoding every one of them was a tenth of the API's CPU for a list of 20.
 */
function summaryFieldsOf<P>(fields: Record<string, P> | null | undefined): Record<string, P> {
  const picked: Record<string, P> = {};
  for (const name of SUMMARY_ATTRIBUTES) if (fields?.[name]) picked[name] = fields[name];
  return picked;
}

function timestampToIso(
  ts: { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined,
): string | undefined {
  if (!ts) return undefined;
  return new Date(Number(ts.seconds?.toString() ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)).toISOString();
}
