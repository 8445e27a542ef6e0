import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  type LeaseRequest,
  leaseRequestSignal,
  type LeaseResult,
  leaseResultSignal,
  leaseStateQuery,
  type VaultLeaseState,
} from '../contracts/vault-lease';
import { requestIdFromWorkflowId } from '../domain/ids';
import { ending, granting, notify } from './activity-stubs';
import { REVOKE_ALERT_AFTER_ATTEMPTS, untilConfirmed } from './until-confirmed';

/** An idle entity (nothing held, nothing granted) waits this long for new work, then completes. */
const IDLE_BEFORE_COMPLETING_MS = 60 * 60_000;
/** Continue-as-new well before Temporal's history limits; the whole state travels in the input. */
const HISTORY_EVENTS_BEFORE_CONTINUE_AS_NEW = 2_000;

/**
 * One entity per (integration, vault, group) counts the overlapping vault-group grants of requests:
 * it grants group permissions on the first acquire and revokes them when the last holder releases, so
 * an ending request never takes access from another one still active. Messages are processed one at a
 * time in arrival order; each is answered with a signal to the sender. Nothing is lost if a worker
 * dies: messages are signals in history, answers are commands in history, and retries are harmless
 * because holders are keyed by lease id.
 */
export async function vaultLeaseWorkflow(initial: VaultLeaseState): Promise<VaultLeaseState> {
  const lease = new VaultLease(initial);
  setHandler(leaseRequestSignal, (request) => void lease.state.queue.push(request));
  setHandler(leaseStateQuery, () => lease.state);

  lease.describe();
  for (;;) {
    if (lease.idle()) {
      if (!(await condition(() => lease.state.queue.length > 0, IDLE_BEFORE_COMPLETING_MS))) break;
    } else {
      await condition(() => lease.state.queue.length > 0);
    }
    // Holders depend on these steps finishing: they are never cancelled half-way.
    await CancellationScope.nonCancellable(() => lease.processQueue());
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > HISTORY_EVENTS_BEFORE_CONTINUE_AS_NEW) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof vaultLeaseWorkflow>({ ...lease.state, generation: lease.state.generation + 1 });
    }
  }
  await condition(allHandlersFinished);
  return lease.state;
}

class VaultLease {
  readonly state: VaultLeaseState;
  private readonly workflowId = workflowInfo().workflowId;

  constructor(initial: VaultLeaseState) {
    this.state = {
      ...initial,
      holders: { ...initial.holders },
      granted: [...initial.granted],
      queue: [...initial.queue],
    };
  }

  private get key() {
    return { integration: this.state.integration, vaultId: this.state.vaultId, groupId: this.state.groupId };
  }

  idle(): boolean {
    return Object.keys(this.state.holders).length === 0 && this.state.granted.length === 0;
  }

  describe(): void {
    const { state } = this;
    setCurrentDetails(
      `Group ${state.groupId} on vault ${state.vaultId}: ${Object.keys(state.holders).length} holder(s); ` +
        (state.granted.length > 0 ? `granted ${state.granted.join(', ')}` : 'nothing granted'),
    );
  }

  async processQueue(): Promise<void> {
    while (this.state.queue.length > 0) {
      const request = this.state.queue[0];
      await (request.op === 'acquire' ? this.acquire(request) : this.release(request));
      this.state.queue.shift();
      this.describe();
    }
  }

  private async acquire(request: LeaseRequest): Promise<void> {
    const { state } = this;
    if (state.holders[request.leaseId]) return this.reply(request, { ok: true, effect: 'counted' });
    const union = [...new Set([...state.granted, ...request.permissions])].sort();
    let effect: LeaseResult['effect'] = 'counted';
    if (union.length !== state.granted.length) {
      try {
        await granting.grantGroupPermissions({
          ...this.key,
          permissions: union,
          idempotencyKey: `${this.workflowId}:grant:${request.leaseId}`,
        });
      } catch (error) {
        return this.reply(request, { ok: false, effect: 'counted', failure: failureOf(error) });
      }
      state.granted = union;
      effect = 'granted';
    }
    state.holders[request.leaseId] = {
      permissions: request.permissions,
      replyTo: request.replyTo,
      since: new Date(Date.now()).toISOString(),
    };
    return this.reply(request, { ok: true, effect });
  }

  private async release(request: LeaseRequest): Promise<void> {
    const { state } = this;
    if (!state.holders[request.leaseId]) return this.reply(request, { ok: true, effect: 'counted' });
    delete state.holders[request.leaseId];
    if (Object.keys(state.holders).length > 0 || state.granted.length === 0) {
      return this.reply(request, { ok: true, effect: 'counted' });
    }
    const { failedAttempts } = await untilConfirmed(
      () =>
        ending.revokeGroupPermissions({ ...this.key, idempotencyKey: `${this.workflowId}:revoke:${request.leaseId}` }),
      (attempts) => this.alertIfFailing(request, attempts),
    );
    state.granted = [];
    return this.reply(request, { ok: true, effect: 'revoked', revokeAttempts: failedAttempts });
  }

  private async alertIfFailing(request: LeaseRequest, attempts: number): Promise<void> {
    if (attempts !== REVOKE_ALERT_AFTER_ATTEMPTS) return;
    log.error('revoking group permissions keeps failing; still retrying', { ...this.key, attempts });
    try {
      await notify({
        kind: 'revoke-failing',
        eventId: `${this.workflowId}:revoke-failing:${request.leaseId}`,
        requestId: requestIdFromWorkflowId(request.leaseId) ?? request.leaseId,
        resourceId: this.state.vaultId,
        integration: this.state.integration,
        recipients: [],
        at: new Date(Date.now()).toISOString(),
        details: { failedAttempts: attempts, groupId: this.state.groupId },
      });
    } catch (error) {
      log.warn('alert notification failed', { error: String(error) });
    }
  }

  private async reply(request: LeaseRequest, result: Omit<LeaseResult, 'op' | 'leaseId' | 'holders'>) {
    const answer: LeaseResult = {
      op: request.op,
      leaseId: request.leaseId,
      holders: Object.keys(this.state.holders).length,
      ...result,
    };
    try {
      await getExternalWorkflowHandle(request.replyTo).signal(leaseResultSignal, answer);
    } catch (error) {
      // The holder has ended (e.g. terminated by an operator): nobody is waiting for this answer.
      log.warn('lease answer not delivered', { op: request.op, error: String(error) });
    }
  }
}

function failureOf(error: unknown): { code: string; message: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure
    ? { code: cause.type ?? 'GrantFailed', message: cause.message }
    : { code: 'GrantFailed', message: 'group permissions could not be granted' };
}
