import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
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
import { requestIdFromWorkflowId, vaultLeaseWorkflowId } from '../domain/ids';
import { macHolds, withMac } from '../trust/internal-message';
import { expiredHolders, LEASE_HOLDER_GRACE_MS, nextHolderExpiry, permissionsNeeded } from '../domain/vault-lease';
import { ending, endingOnce, granting, notify, reading } from './activity-stubs';
import { REVOKE_ALERT_AFTER_ATTEMPTS, untilConfirmed } from './access-request/legacy';
import { LEASE_CONVERGES, LEASE_MESSAGES_AUTHENTICATED } from './patches';
import { internalKey } from './worker-trust';

/** An idle entity (nothing held, nothing granted) waits this long for new work, then completes. */
const IDLE_BEFORE_COMPLETING_MS = 60 * 60_000;
/** Continue-as-new well before Temporal's history limits; the whole state travels in the input. */
const HISTORY_EVENTS_BEFORE_CONTINUE_AS_NEW = 2_000;

type Reply = Omit<LeaseResult, 'op' | 'leaseId' | 'holders'>;

/**
 * One entity per (integration, vault, group) owns the group's permissions on the vault: it grants them
 * on the first acquire and revokes them when no holder needs them any more, so an ending request never
 * takes access from another one still active. Messages are processed one at a time in arrival order;
 * each is answered with a signal to the sender. It converges on what 1Password really holds: a fresh
 * run reads it before it acts, a grant that failed counts as possibly applied, and a holder whose grant
 * has ended (plus a grace) is dropped even if its request never releases (an operator terminated it).
 */
export async function vaultLeaseWorkflow(initial: VaultLeaseState): Promise<VaultLeaseState> {
  const lease = new VaultLease(initial);
  if (!lease.isGenuine()) {
    // Started through Temporal by someone else, for a key this id does not name: it does nothing at all.
    log.warn('a vault lease started under another workflow id than its key names; it does nothing', lease.keyFields);
    return lease.state;
  }
  setHandler(leaseRequestSignal, (request) => void lease.state.queue.push(request));
  setHandler(leaseStateQuery, () => lease.state);

  await CancellationScope.nonCancellable(() => lease.checkOnePassword());
  lease.describe();
  for (;;) {
    if (!(await lease.waitForWork(IDLE_BEFORE_COMPLETING_MS))) break;
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
  /** False for leases started before the patch: they replay and go on along the old path. */
  private readonly converges = patched(LEASE_CONVERGES);
  /** False for leases started before the patch: their messages carry no MAC. */
  private readonly authenticated = patched(LEASE_MESSAGES_AUTHENTICATED);

  constructor(initial: VaultLeaseState) {
    // Holders, grants and messages travel in the input only from this entity's previous run (continue-as-new);
    // a fresh start, which anyone reaching Temporal can make, brings nothing but the key.
    const inherited = !this.authenticated || !!workflowInfo().continuedFromExecutionRunId;
    this.state = {
      ...initial,
      holders: inherited ? { ...initial.holders } : {},
      granted: inherited ? [...initial.granted] : [],
      queue: inherited ? [...initial.queue] : [],
      checkedAt: inherited ? initial.checkedAt : undefined,
    };
  }

  get keyFields() {
    return {
      integration: String(this.state.integration),
      vaultId: String(this.state.vaultId),
      groupId: String(this.state.groupId),
    };
  }

  /** Whether this entity's workflow id is the one its key names (leases started before the patch: always). */
  isGenuine(): boolean {
    const { integration, vaultId, groupId } = this.keyFields;
    return !this.authenticated || this.workflowId === vaultLeaseWorkflowId(integration, vaultId, groupId);
  }

  private get key() {
    return { integration: this.state.integration, vaultId: this.state.vaultId, groupId: this.state.groupId };
  }

  /** A fresh run (not one continued as new) reads what 1Password holds before it acts. */
  async checkOnePassword(): Promise<void> {
    if (!this.converges || this.state.checkedAt) return;
    const found = await reading.readGroupPermissions(this.key);
    this.state.granted = [...new Set([...this.state.granted, ...found])].sort();
    this.state.checkedAt = new Date(Date.now()).toISOString();
  }

  /** Until a message arrives or a holder's grant ends; false when idle for `idleMs` (the entity completes). */
  async waitForWork(idleMs: number): Promise<boolean> {
    const work = () => this.state.queue.length > 0;
    const expiry = this.converges ? nextHolderExpiry(this.state) : undefined;
    if (expiry !== undefined) {
      await condition(work, Math.max(1, expiry - Date.now()));
      return true;
    }
    if (Object.keys(this.state.holders).length > 0 || this.state.granted.length > 0) {
      await condition(work);
      return true;
    }
    return condition(work, idleMs);
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
      if (this.authenticated && !macHolds(internalKey(), request, this.workflowId)) {
        // Not from latchkey's own activities: a forged acquire must grant nothing, and gets no answer.
        log.warn('dropped a vault lease message that latchkey did not send', { ...this.key, op: String(request?.op) });
      } else if (this.converges) await this.handle(request);
      else await (request.op === 'acquire' ? this.acquireBeforePatch(request) : this.releaseBeforePatch(request));
      this.state.queue.shift();
      this.describe();
    }
    if (this.converges) await this.dropExpiredHolders();
  }

  private async handle(request: LeaseRequest): Promise<void> {
    if (request.op === 'acquire') return this.acquire(request);
    if (request.op === 'release') {
      delete this.state.holders[request.leaseId];
      return this.reply(request, await this.converge());
    }
    return this.sync(request);
  }

  private async acquire(request: LeaseRequest): Promise<void> {
    const { state } = this;
    const known = state.holders[request.leaseId];
    if (known) {
      if (request.endsAt) known.endsAt = request.endsAt; // an extension moves the hard end
      return this.reply(request, { ok: true, effect: 'counted' });
    }
    const union = [...new Set([...state.granted, ...request.permissions])].sort();
    let effect: LeaseResult['effect'] = 'counted';
    if (union.length !== state.granted.length) {
      // Counted before the call: a call that fails may still have applied (a time-out after the write).
      const before = state.granted;
      state.granted = union;
      try {
        await this.grant(request, union);
      } catch (error) {
        // A refusal changed nothing; any other failure may have applied, and is removed unless needed.
        if (!mayHaveApplied(error)) state.granted = before;
        await this.converge();
        return this.reply(request, { ok: false, effect: 'counted', failure: failureOf(error) });
      }
      effect = 'granted';
    }
    state.holders[request.leaseId] = {
      permissions: request.permissions,
      replyTo: request.replyTo,
      since: new Date(Date.now()).toISOString(),
      ...(request.endsAt ? { endsAt: request.endsAt } : {}),
    };
    return this.reply(request, { ok: true, effect });
  }

  /**
   * The reconciler's message: drop the holders whose request it found terminated, adopt the holders
   * visibility shows that this entity does not know (a run that replaced a terminated one), read
   * 1Password again, and remove what no holder needs.
   */
  private async sync(request: LeaseRequest): Promise<void> {
    const { state } = this;
    const now = Date.now();
    for (const leaseId of request.drop ?? []) delete state.holders[leaseId];
    for (const claim of request.holders ?? []) {
      if (state.holders[claim.leaseId] || Date.parse(claim.endsAt) + LEASE_HOLDER_GRACE_MS <= now) continue;
      const holder = { permissions: claim.permissions, replyTo: claim.leaseId, since: new Date(now).toISOString() };
      state.holders[claim.leaseId] = { ...holder, endsAt: claim.endsAt };
    }
    const found = await reading.readGroupPermissions(this.key);
    state.granted = found;
    state.checkedAt = new Date(Date.now()).toISOString();
    const needed = permissionsNeeded(state);
    const missing = needed.filter((permission) => !found.includes(permission));
    const outcome = await this.converge();
    return this.reply(request, { ...outcome, found, missing });
  }

  private grant(request: LeaseRequest, permissions: string[]): Promise<void> {
    const idempotencyKey = `${this.workflowId}:grant:${request.leaseId}`;
    return granting.grantGroupPermissions({ ...this.key, permissions, idempotencyKey });
  }

  /** Removes the group's permissions when no holder needs them; idempotent, retried by Temporal without limit. */
  private async converge(): Promise<Reply> {
    const { state } = this;
    if (Object.keys(state.holders).length > 0 || state.granted.length === 0) return { ok: true, effect: 'counted' };
    const { effect } = await ending.revokeGroupPermissions({
      ...this.key,
      idempotencyKey: `${this.workflowId}:revoke:${state.generation}:${Date.now()}`,
    });
    state.granted = [];
    return { ok: true, effect };
  }

  /** Holders whose grant ended (plus a grace) without a release: their request was terminated. */
  private async dropExpiredHolders(): Promise<void> {
    const expired = expiredHolders(this.state, Date.now());
    if (expired.length === 0) return;
    for (const leaseId of expired) delete this.state.holders[leaseId];
    log.warn('vault lease holders ended without releasing; dropped', { ...this.key, holders: expired.length });
    await this.converge();
    this.describe();
  }

  private async reply(request: LeaseRequest, result: Reply): Promise<void> {
    const unsigned: LeaseResult = {
      op: request.op,
      leaseId: request.leaseId,
      holders: Object.keys(this.state.holders).length,
      ...result,
    };
    const answer = this.authenticated ? withMac(internalKey(), unsigned, request.replyTo) : unsigned;
    try {
      await getExternalWorkflowHandle(request.replyTo).signal(leaseResultSignal, answer);
    } catch (error) {
      // The holder has ended (e.g. terminated by an operator): nobody is waiting for this answer.
      log.warn('lease answer not delivered', { op: request.op, error: String(error) });
    }
  }

  // ----- Leases started before the patch `lease-converges`: they replay and finish as they began. -----

  private async acquireBeforePatch(request: LeaseRequest): Promise<void> {
    const { state } = this;
    if (state.holders[request.leaseId]) return this.reply(request, { ok: true, effect: 'counted' });
    const union = [...new Set([...state.granted, ...request.permissions])].sort();
    let effect: LeaseResult['effect'] = 'counted';
    if (union.length !== state.granted.length) {
      try {
        await this.grant(request, union);
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

  private async releaseBeforePatch(request: LeaseRequest): Promise<void> {
    const { state } = this;
    if (!state.holders[request.leaseId]) return this.reply(request, { ok: true, effect: 'counted' });
    delete state.holders[request.leaseId];
    if (Object.keys(state.holders).length > 0 || state.granted.length === 0) {
      return this.reply(request, { ok: true, effect: 'counted' });
    }
    const { failedAttempts } = await untilConfirmed(
      () =>
        endingOnce.revokeGroupPermissions({
          ...this.key,
          idempotencyKey: `${this.workflowId}:revoke:${request.leaseId}`,
        }),
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
}

/** A refusal (non-retryable: forbidden, not found, invalid) comes before any change; anything else may follow one. */
function mayHaveApplied(error: unknown): boolean {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return !(cause instanceof ApplicationFailure && cause.nonRetryable);
}

function failureOf(error: unknown): { code: string; message: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure
    ? { code: cause.type ?? 'GrantFailed', message: cause.message }
    : { code: 'GrantFailed', message: 'group permissions could not be granted' };
}
