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
import { requestIdFromWorkflowId } from '../contracts/ids';
import { ending, granting, notify } from './activity-stubs';
import { REVOKE_ALERT_AFTER_ATTEMPTS, untilConfirmed } from './until-confirmed';
import {
  type LeaseRequest,
  leaseRequestSignal,
  type LeaseResult,
  leaseResultSignal,
  leaseStateQuery,
  type VaultLeaseState,
} from './vault-lease-contract';

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
  const state: VaultLeaseState = {
    ...initial,
    holders: { ...initial.holders },
    granted: [...initial.granted],
    queue: [...initial.queue],
  };
  const workflowId = workflowInfo().workflowId;
  const key = { integration: state.integration, vaultId: state.vaultId, groupId: state.groupId };

  setHandler(leaseRequestSignal, (request) => {
    state.queue.push(request);
  });
  setHandler(leaseStateQuery, () => state);

  const describe = () =>
    setCurrentDetails(
      `Group ${state.groupId} on vault ${state.vaultId}: ${Object.keys(state.holders).length} holder(s); ` +
        (state.granted.length > 0 ? `granted ${state.granted.join(', ')}` : 'nothing granted'),
    );

  async function reply(request: LeaseRequest, result: Omit<LeaseResult, 'op' | 'leaseId' | 'holders'>) {
    const answer: LeaseResult = {
      op: request.op,
      leaseId: request.leaseId,
      holders: Object.keys(state.holders).length,
      ...result,
    };
    try {
      await getExternalWorkflowHandle(request.replyTo).signal(leaseResultSignal, answer);
    } catch (error) {
      // The holder has ended (e.g. terminated by an operator): nobody is waiting for this answer.
      log.warn('lease answer not delivered', { op: request.op, error: String(error) });
    }
  }

  async function acquire(request: LeaseRequest): Promise<void> {
    if (state.holders[request.leaseId]) return reply(request, { ok: true, effect: 'counted' });
    const union = [...new Set([...state.granted, ...request.permissions])].sort();
    let effect: LeaseResult['effect'] = 'counted';
    if (union.length !== state.granted.length) {
      try {
        await granting.grantGroupPermissions({
          ...key,
          permissions: union,
          idempotencyKey: `${workflowId}:grant:${request.leaseId}`,
        });
      } catch (error) {
        const cause = error instanceof ActivityFailure ? error.cause : error;
        const failure =
          cause instanceof ApplicationFailure
            ? { code: cause.type ?? 'GrantFailed', message: cause.message }
            : { code: 'GrantFailed', message: 'group permissions could not be granted' };
        return reply(request, { ok: false, effect: 'counted', failure });
      }
      state.granted = union;
      effect = 'granted';
    }
    state.holders[request.leaseId] = {
      permissions: request.permissions,
      replyTo: request.replyTo,
      since: new Date(Date.now()).toISOString(),
    };
    return reply(request, { ok: true, effect });
  }

  async function release(request: LeaseRequest): Promise<void> {
    if (!state.holders[request.leaseId]) return reply(request, { ok: true, effect: 'counted' });
    delete state.holders[request.leaseId];
    if (Object.keys(state.holders).length > 0 || state.granted.length === 0) {
      return reply(request, { ok: true, effect: 'counted' });
    }
    const { failedAttempts } = await untilConfirmed(
      () => ending.revokeGroupPermissions({ ...key, idempotencyKey: `${workflowId}:revoke:${request.leaseId}` }),
      async (attempts) => {
        if (attempts !== REVOKE_ALERT_AFTER_ATTEMPTS) return;
        log.error('revoking group permissions keeps failing; still retrying', { ...key, attempts });
        try {
          await notify({
            kind: 'revoke-failing',
            eventId: `${workflowId}:revoke-failing:${request.leaseId}`,
            requestId: requestIdFromWorkflowId(request.leaseId) ?? request.leaseId,
            resourceId: state.vaultId,
            integration: state.integration,
            recipients: [],
            at: new Date(Date.now()).toISOString(),
            details: { failedAttempts: attempts, groupId: state.groupId },
          });
        } catch (error) {
          log.warn('alert notification failed', { error: String(error) });
        }
      },
    );
    state.granted = [];
    return reply(request, { ok: true, effect: 'revoked', revokeAttempts: failedAttempts });
  }

  describe();
  for (;;) {
    const idle = Object.keys(state.holders).length === 0 && state.granted.length === 0;
    if (idle) {
      if (!(await condition(() => state.queue.length > 0, IDLE_BEFORE_COMPLETING_MS))) break;
    } else {
      await condition(() => state.queue.length > 0);
    }
    // Holders depend on these steps finishing: they are never cancelled half-way.
    await CancellationScope.nonCancellable(async () => {
      while (state.queue.length > 0) {
        const request = state.queue[0];
        await (request.op === 'acquire' ? acquire(request) : release(request));
        state.queue.shift();
        describe();
      }
    });
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > HISTORY_EVENTS_BEFORE_CONTINUE_AS_NEW) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof vaultLeaseWorkflow>({ ...state, generation: state.generation + 1 });
    }
  }
  await condition(allHandlersFinished);
  return state;
}
