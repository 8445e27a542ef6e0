import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { repoRoot } from '../config/config';
import { requestWorkflowId, vaultLeaseWorkflowId } from '../domain/ids';
import { type AccessRequestState, type RequestStatus } from '../contracts/request';
import { TERMINAL_STATUSES } from '../domain/lifecycle';
import type { LocalFaults, LocalState } from '../onepassword/local/state';
import { accessRequestWorkflow } from '../workflows';
import { leaseStateQuery } from '../contracts/vault-lease';
import { ALICE, ApiClient, BOB, mint } from './lib/api';
import { describeMachine, machineInfo } from './lib/machine';
import { runMain, Stack } from './lib/stack';
import { type Finding, judgeChaos, type ObservedWorkflow } from './lib/chaos-verdict';
import { Operator } from './lib/operator';
import type { ReconcileReport } from '../contracts/reconcile';
import { reconcileWorkflow } from '../workflows/reconcile';
import { round, table } from './lib/stats';
import { TEMPORAL_SERVER_VERSION } from '../devstack/temporal-server';

/**
 * The fault run: N requests through their whole lifecycle through the API while the worker is killed
 * with SIGKILL, the Temporal dev server is restarted on the same SQLite file, the local 1Password throws
 * rate limits and transient failures and applies writes whose answers it then loses, and an operator
 * terminates and resets requests mid-grant and mid-revoke, terminates the vault lease, deletes a vault
 * while it is granted and revokes the service account's token for a while. The run ends with one
 * reconcile pass; then every workflow is compared with the local 1Password's state. Requests lost,
 * grants left behind and duplicate grants must all be zero.
 *
 * With --cluster the same run goes against the production shape (bench/lib/stack.ts): two workers and two
 * API instances on a Temporal server backed by PostgreSQL. The kills take a worker and an API instance in
 * turn, the restarts are the Temporal server's, and PostgreSQL is restarted once, halfway.
 */
const { values: flags } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    requests: { type: 'string' },
    kills: { type: 'string' },
    restarts: { type: 'string' },
    terminations: { type: 'string' },
    resets: { type: 'string' },
    concurrency: { type: 'string' },
    'interval-seconds': { type: 'string' },
    'timeout-minutes': { type: 'string' },
    'server-signal': { type: 'string', default: 'SIGTERM' },
    out: { type: 'string' },
    'keep-data': { type: 'boolean', default: false },
    cluster: { type: 'boolean', default: false },
  },
});

function intFlag(name: keyof typeof flags, full: number, short: number, min = 0): number {
  const raw = flags[name];
  const value = raw === undefined ? (flags.short ? short : full) : Number(raw);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new Error(`--${name} must be an integer >= ${min}`);
  }
  return value;
}

const settings = {
  short: flags.short ?? false,
  requests: intFlag('requests', 200, 20, 1),
  kills: intFlag('kills', 5, 2),
  restarts: intFlag('restarts', 2, 1),
  terminations: intFlag('terminations', 10, 2),
  resets: intFlag('resets', 5, 1),
  concurrency: intFlag('concurrency', 24, 10, 1),
  intervalSeconds: intFlag('interval-seconds', 20, 12, 1),
  timeoutMinutes: intFlag('timeout-minutes', 30, 6, 1),
  serverSignal: flags['server-signal'] === 'SIGKILL' ? ('SIGKILL' as const) : ('SIGTERM' as const),
  cluster: flags.cluster ?? false,
};

/**
 * While faults are on: every 7th 1Password call fails as unavailable, every 11th is rate limited, and
 * every 5th write takes effect in 1Password but its answer is lost.
 */
const FAULTS: LocalFaults = { failEvery: 7, rateLimitEvery: 11, rateLimitRetryAfterMs: 500, applyThenFailEvery: 5 };

/** How long PostgreSQL stays down when the cluster run restarts it: a failover's worth. */
const POSTGRES_DOWN_MS = 10_000;

const log = (message: string) => process.stderr.write(`[chaos] ${new Date().toISOString().slice(11, 19)} ${message}\n`);

const RESOURCES = [
  { resourceId: 'prod-db', mode: 'share-link', approve: true },
  { resourceId: 'stripe-key', mode: 'rotate-on-revoke', approve: true },
  { resourceId: 'oncall-vault', mode: 'vault-group', approve: true },
  { resourceId: 'staging-db', mode: 'share-link', approve: false },
] as const;

interface Agent {
  index: number;
  resourceId: string;
  mode: 'share-link' | 'rotate-on-revoke' | 'vault-group';
  approve: boolean;
  earlyRevoke: boolean;
  duration: string;
  idempotencyKey: string;
  requestId?: string;
  acknowledgedAt?: string;
  /** TERMINATED: an operator terminated the request's workflow (on purpose). */
  finalStatus?: RequestStatus | 'TERMINATED';
  revokeAnswered?: number;
  attempts: number;
  errors: string[];
}

interface Timeline {
  at: string;
  event: string;
}

const timeline: Timeline[] = [];
const note = (event: string) => {
  timeline.push({ at: new Date().toISOString(), event });
  log(event);
};

/** Counts of what clients saw: the faults are supposed to show as retries, never as wrong answers. */
const seen = { http5xx: 0, network: 0, http409: 0, other4xx: 0 };

runMain('chaos', async (onStack) => {
  const machine = machineInfo();
  const startedAt = new Date();
  const runId = startedAt.getTime().toString(36);
  log(`machine: ${describeMachine(machine)}`);
  log(`settings: ${JSON.stringify(settings)}`);
  // WAL only: the server is restarted on this file, so no pragma that trades durability for speed.
  // A worker restarted while the token is revoked must let requests wait for it, not fail them fast.
  const stack = new Stack({
    log,
    sqlitePragmas: ['journal_mode=WAL'],
    keepData: flags['keep-data'],
    onePasswordCheck: 'warn',
    // Agents poll through kills and restarts as two personas: what is measured is recovery, not the limiter.
    apiRateLimit: 'off',
    cluster: settings.cluster,
  });
  onStack(stack);
  await stack.start();
  log(`stack ready in ${stack.dataDir}: API ${stack.apiUrl}, Temporal ${stack.temporalAddress}`);
  const api = new ApiClient(stack.apiUrls, 30_000);
  const operator = new Operator(stack.client, stack.onePassword);
  const alice = await mint(stack.key, stack.config.auth.issuer, stack.config.auth.audience, ALICE, 6 * 3600);
  const bob = await mint(stack.key, stack.config.auth.issuer, stack.config.auth.audience, BOB, 6 * 3600);

  const deadline = Date.now() + settings.timeoutMinutes * 60_000;
  const actions = plan(settings.kills, settings.restarts, settings.cluster);
  // The processes the kills take in turn: the worker, or in the cluster a worker and an API instance.
  const killTargets = settings.cluster ? stack.workers.flatMap((worker, i) => [worker, stack.apis[i]]) : ['worker'];
  let kills = 0;
  const chaosWindowMs = (actions.length + 1) * settings.intervalSeconds * 1000;
  const agents: Agent[] = Array.from({ length: settings.requests }, (_, index) => {
    const resource = RESOURCES[index % RESOURCES.length];
    return {
      index,
      ...resource,
      earlyRevoke: index % 5 === 4,
      duration: `PT${3 + (index % 5) * 2}S`,
      idempotencyKey: `chaos-${runId}-${index}`,
      attempts: 0,
      errors: [],
    };
  });

  // Supervisor: a process that dies when nobody killed it is restarted and counted.
  const unplanned: string[] = [];
  let supervising = true;
  let planned = false;
  const supervise = (async () => {
    while (supervising) {
      for (const name of [...stack.workers, ...stack.apis]) {
        if (!planned && stack.pid(name) !== undefined && !stack.isRunning(name)) {
          unplanned.push(`${new Date().toISOString()} ${name} exited by itself`);
          note(`${name} exited by itself; restarting it`);
          stack.startChild(name);
        }
      }
      await sleep(500);
    }
  })();

  await setFaults(stack, FAULTS);
  note(`faults on: ${JSON.stringify(FAULTS)}`);
  const t0 = Date.now();

  // Requests start spread over the chaos window, so that every fault hits requests in flight.
  const agentRuns = runAgents(agents, settings.concurrency, t0, chaosWindowMs, async (agent) =>
    lifecycle(agent, api, alice, bob, deadline, operator),
  );
  const operating = operate(operator, stack, chaosWindowMs, deadline);

  const chaos = (async () => {
    for (const action of actions) {
      await sleep(settings.intervalSeconds * 1000);
      if (Date.now() > deadline) break;
      planned = true;
      try {
        if (action === 'kill') {
          const target = killTargets[kills++ % killTargets.length];
          note(`SIGKILL ${target} (pid ${stack.pid(target)})`);
          await stack.killChild(target, 'SIGKILL');
          await sleep(1_000 + Math.floor(Math.random() * 2_000));
          stack.startChild(target);
          note(`${target} restarted (pid ${stack.pid(target)})`);
        } else if (action === 'postgres') {
          note(`stopping PostgreSQL for ${POSTGRES_DOWN_MS / 1000} s (fast shutdown: every session is ended)`);
          await stack.restartPostgres(POSTGRES_DOWN_MS);
          note('PostgreSQL back');
        } else {
          note(`restarting the Temporal server (${settings.serverSignal}, pid ${stack.serverPid})`);
          await stack.restartServer(settings.serverSignal);
          note(`Temporal server back (pid ${stack.serverPid})`);
          void apiRecovery(api, bob).then((seconds) =>
            note(`the API answered a read again ${seconds} s after the server came back`),
          );
        }
      } finally {
        planned = false;
      }
    }
  })();
  const faultsOff = (async () => {
    await Promise.all([chaos, operating]);
    await sleep(settings.intervalSeconds * 1000);
    await setFaults(stack, {});
    note('faults off: the remaining requests drain without injected failures');
  })();

  await Promise.all([agentRuns, faultsOff]);
  const { missingSeen } = await operating;
  note('every request reached an end, or the deadline passed');
  supervising = false;
  await supervise;

  // Let anything still in flight (a vault lease release) finish, bounded; then one reconcile pass.
  await waitQuiet(stack, Math.min(deadline, Date.now() + 120_000));
  const finalPass = await reconcilePass(stack, false);
  note(`reconcile pass: ${finalPass.drifts.map((drift) => `${drift.kind} ${drift.action}`).join(', ') || 'no drift'}`);
  const verdict = await verify(stack, agents, operator, missingSeen);
  const finishedAt = new Date();
  const report = {
    kind: 'latchkey-chaos',
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    seconds: round((finishedAt.getTime() - startedAt.getTime()) / 1000, 1),
    machine,
    settings,
    faults: FAULTS,
    timeline,
    operator: operator.counts,
    reconcile: { missingSeenMidRun: missingSeen, finalPass },
    unplannedExits: unplanned,
    clientsSaw: seen,
    ...verdict,
    agents: agents.map(
      ({ index, resourceId, requestId, finalStatus, attempts, errors, earlyRevoke, revokeAnswered }) => ({
        index,
        resourceId,
        requestId,
        finalStatus,
        earlyRevoke,
        revokeAnswered,
        attempts,
        errors,
      }),
    ),
  };
  printReport(report);
  const outFile =
    flags.out ?? path.join(repoRoot(), '.bench', `chaos-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, JSON.stringify(report, null, 2) + '\n');
  log(`wrote ${outFile}`);
  return verdict.passed ? 0 : 1;
});

type OperatorAction = 'terminate' | 'reset' | 'lease' | 'vault' | 'token';

/** The operator's actions: terminations and resets interleaved, with a lease, a vault and a token among them. */
function operatorPlan(terminations: number, resets: number): OperatorAction[] {
  const actions: OperatorAction[] = [];
  for (let i = 0; i < Math.max(terminations, resets); i++) {
    if (i < terminations) actions.push('terminate');
    if (i < resets) actions.push('reset');
  }
  const at = (fraction: number) => Math.floor(actions.length * fraction);
  actions.splice(at(0.25), 0, 'lease');
  actions.splice(at(0.5), 0, 'vault');
  actions.splice(at(0.75), 0, 'token');
  return actions;
}

/** Terminates or resets one request; a reset that finds nothing to reset to tries other requests (three in all). */
async function actOnRequest(operator: Operator, action: 'terminate' | 'reset', preferEnding: boolean): Promise<void> {
  for (let tries = 0; tries < 3; tries++) {
    const id = await operator.pickRequest(preferEnding);
    if (!id) return note(`no request to ${action}`);
    if (action === 'terminate') return note(await operator.terminateRequest(id));
    const resetsBefore = operator.counts.resets;
    note(await operator.resetRequest(id));
    if (operator.counts.resets > resetsBefore) return;
  }
}

/** Runs the operator's actions spread over the chaos window; returns the missing permissions a mid-run pass saw. */
async function operate(
  operator: Operator,
  stack: Stack,
  windowMs: number,
  deadline: number,
): Promise<{ missingSeen: number }> {
  const actions = operatorPlan(settings.terminations, settings.resets);
  const gap = windowMs / (actions.length + 1);
  let missingSeen = 0;
  for (const [n, action] of actions.entries()) {
    await sleep(gap);
    if (Date.now() > deadline) break;
    try {
      if (action === 'terminate' || action === 'reset') {
        // Alternate between requests being granted and requests whose access is being ended.
        await actOnRequest(operator, action, n % 2 === 0);
      } else if (action === 'lease') {
        note(await operator.terminateLease());
      } else if (action === 'vault') {
        note(await operator.deleteVaultFor('vlt_oncall', 4_000));
        // The grants that held permissions on the deleted vault are now active without them: a pass sees it.
        const pass = await dryPassUntilItEnds(stack);
        missingSeen += pass.drifts.filter((drift) => drift.kind === 'missing').length;
        note(`dry reconcile pass after the deletion: ${missingSeen} active grant(s) without their permission`);
      } else {
        note(await operator.revokeTokenFor(4_000, (revoked) => setFaults(stack, { ...FAULTS, tokenRevoked: revoked })));
      }
    } catch (error) {
      note(`operator ${action} failed: ${(error as Error).message}`);
    }
  }
  return { missingSeen };
}

/**
 * A dry pass, run again when one fails: a pass gives up after five attempts of its reads, and an outage of
 * the store behind Temporal's visibility (PostgreSQL restarted) or 1Password's injected failures can outlast
 * them. The next pass is the answer to a failed one, as with the schedule.
 */
async function dryPassUntilItEnds(stack: Stack): Promise<ReconcileReport> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await reconcilePass(stack, true);
    } catch (error) {
      if (attempt >= 3) throw error;
      note(`dry reconcile pass failed (${(error as Error).message}); running another`);
    }
  }
}

/** One reconcile pass, run as the CLI runs it, on the worker. */
function reconcilePass(stack: Stack, dryRun: boolean): Promise<ReconcileReport> {
  return stack.client.workflow.execute(reconcileWorkflow, {
    args: [{ dryRun }],
    workflowId: `Reconcile-chaos-${Date.now()}`,
    taskQueue: stack.config.temporal.taskQueue,
  });
}

/** How long after a server restart the API answers reads from Temporal again (bounded: 10 min). */
async function apiRecovery(api: ApiClient, token: string): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < 600_000) {
    try {
      const answer = await api.call('GET', '/v1/requests?pageSize=1', token);
      if (answer.status === 200) break;
    } catch {
      // not yet
    }
    await sleep(250);
  }
  return round((Date.now() - started) / 1000, 1);
}

/** Kills and restarts interleaved: kill, kill, restart, kill, ...; in the cluster, one PostgreSQL restart halfway. */
function plan(kills: number, restarts: number, cluster: boolean): Array<'kill' | 'restart' | 'postgres'> {
  const actions: Array<'kill' | 'restart' | 'postgres'> = [];
  let k = kills;
  let r = restarts;
  while (k > 0 || r > 0) {
    if (k > 0) {
      actions.push('kill');
      k--;
    }
    if (k > 0 && r === 0) continue;
    if (k > 0) {
      actions.push('kill');
      k--;
    }
    if (r > 0) {
      actions.push('restart');
      r--;
    }
  }
  if (cluster) actions.splice(Math.ceil(actions.length / 2), 0, 'postgres');
  return actions;
}

async function setFaults(stack: Stack, faults: LocalFaults): Promise<void> {
  // A worker killed while holding the state file's lock leaves it stale for a while: retry.
  for (let attempt = 0; ; attempt++) {
    try {
      return await stack.onePassword.setFaults(faults);
    } catch (error) {
      if (attempt >= 10) throw error;
      await sleep(2_000);
    }
  }
}

async function runAgents(
  agents: Agent[],
  concurrency: number,
  t0: number,
  windowMs: number,
  run: (agent: Agent) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < agents.length) {
        const agent = agents[next++];
        const startAt = t0 + Math.floor((agent.index * windowMs) / agents.length);
        if (startAt > Date.now()) await sleep(startAt - Date.now());
        await run(agent);
      }
    }),
  );
}

type Answer = { status: number; body: unknown };

/** One call, retried through 5xx and network errors (the server or the API may be restarting). */
async function retrying(agent: Agent, label: string, deadline: number, call: () => Promise<Answer>): Promise<Answer> {
  for (let attempt = 0; ; attempt++) {
    agent.attempts++;
    try {
      const answer = await call();
      if (answer.status < 500) return answer;
      seen.http5xx++;
      if (agent.errors.length < 5)
        agent.errors.push(
          `${new Date().toISOString()} ${label}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`,
        );
    } catch (error) {
      seen.network++;
      if (agent.errors.length < 5) agent.errors.push(`${label}: ${(error as Error).message}`);
    }
    if (Date.now() > deadline) throw new Error(`${label}: gave up at the deadline`);
    await sleep(Math.min(5_000, 250 * 2 ** Math.min(attempt, 4)));
  }
}

async function lifecycle(
  agent: Agent,
  api: ApiClient,
  alice: string,
  bob: string,
  deadline: number,
  operator: Operator,
): Promise<void> {
  try {
    const created = await retrying(agent, 'create', deadline, () =>
      api.call(
        'POST',
        '/v1/requests',
        alice,
        {
          resourceId: agent.resourceId,
          duration: agent.duration,
          justification: `chaos run request ${agent.index}`,
        },
        { 'idempotency-key': agent.idempotencyKey },
      ),
    );
    if (created.status !== 201 && created.status !== 200) {
      seen.other4xx++;
      agent.errors.push(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
      return;
    }
    const state = created.body as AccessRequestState;
    agent.requestId = state.requestId;
    agent.acknowledgedAt = new Date().toISOString();
    const id = state.requestId;

    const approve = async () => {
      const approved = await retrying(agent, 'approve', deadline, () =>
        api.call('POST', `/v1/requests/${id}/approve`, bob, { comment: 'chaos' }),
      );
      // 409: an earlier attempt got through before its answer was lost; the state says what happened.
      if (approved.status === 409) seen.http409++;
      else if (approved.status !== 200) {
        seen.other4xx++;
        agent.errors.push(`approve answered ${approved.status}: ${JSON.stringify(approved.body)}`);
      }
    };
    if (agent.approve) await approve();
    const stopped = () => operator.terminated.has(requestWorkflowId(id));
    // An operator's reset may take the request back before its approval: approve again then.
    const pending = agent.approve ? approve : undefined;
    let current = await waitFor(agent, api, alice, id, deadline, (s) => s === 'ACTIVE' || TERMINAL_STATUSES.has(s), {
      stopped,
      pending,
    });
    if (agent.earlyRevoke && current === 'ACTIVE') {
      const revoked = await retrying(agent, 'revoke', deadline, () =>
        api.call('POST', `/v1/requests/${id}/revoke`, alice, { reason: 'chaos: giving it back early' }),
      );
      agent.revokeAnswered = revoked.status;
      if (revoked.status === 409) seen.http409++;
    }
    current = await waitFor(agent, api, alice, id, deadline, (s) => TERMINAL_STATUSES.has(s), { stopped, pending });
    agent.finalStatus = current;
  } catch (error) {
    agent.errors.push((error as Error).message);
  }
}

async function waitFor(
  agent: Agent,
  api: ApiClient,
  token: string,
  id: string,
  deadline: number,
  done: (status: RequestStatus) => boolean,
  operator: { stopped: () => boolean; pending?: () => Promise<void> },
): Promise<RequestStatus | 'TERMINATED'> {
  let pendingSince: number | undefined;
  for (;;) {
    if (operator.stopped()) return 'TERMINATED';
    const answer = await retrying(agent, 'get', deadline, () => api.call('GET', `/v1/requests/${id}`, token));
    const status = (answer.body as AccessRequestState | undefined)?.status;
    if (answer.status === 200 && status && done(status)) return status;
    if (status === 'PENDING_APPROVAL' && operator.pending) {
      pendingSince ??= Date.now();
      if (Date.now() - pendingSince > 10_000) {
        await operator.pending();
        pendingSince = undefined;
      }
    }
    if (Date.now() > deadline) throw new Error(`still ${status ?? answer.status} at the deadline`);
    await sleep(750);
  }
}

async function countRunning(stack: Stack): Promise<number> {
  const answer = await stack.client.workflowService.countWorkflowExecutions({
    namespace: 'default',
    query: `WorkflowType = '${accessRequestWorkflow.name}' AND ExecutionStatus = 'Running'`,
  });
  return Number(answer.count);
}

async function waitQuiet(stack: Stack, until: number): Promise<void> {
  while (Date.now() < until) {
    try {
      if ((await countRunning(stack)) === 0) return;
    } catch {
      // the server may still be settling
    }
    await sleep(1_000);
  }
}

/** The longest history of any workflow of the run (requests, leases, reconcile passes), in events. */
async function largestHistory(stack: Stack): Promise<{ events: number; workflowId?: string }> {
  let largest: { events: number; workflowId?: string } = { events: 0 };
  for await (const execution of stack.client.workflow.list({
    query: "ExecutionStatus != 'Running' OR ExecutionStatus = 'Running'",
  })) {
    if (execution.historyLength > largest.events)
      largest = { events: execution.historyLength, workflowId: execution.workflowId };
  }
  return largest;
}

/** Gathers what Temporal and the local 1Password say at the end, and judges it. */
async function verify(stack: Stack, agents: Agent[], operator: Operator, missingSeen: number) {
  const state: LocalState = await stack.onePassword.readState();
  const workflowIds: string[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await stack.client.workflowService.listWorkflowExecutions({
      namespace: 'default',
      query: `WorkflowType = '${accessRequestWorkflow.name}'`,
      pageSize: 1000,
      nextPageToken,
    });
    for (const execution of page.executions ?? []) workflowIds.push(execution.execution?.workflowId ?? '');
    nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
  } while (nextPageToken);

  const workflows = new Map<string, ObservedWorkflow>();
  for (const agent of agents) {
    if (!agent.requestId) continue;
    const handle = stack.client.workflow.getHandle(requestWorkflowId(agent.requestId));
    let description;
    try {
      description = await handle.describe();
    } catch {
      workflows.set(agent.requestId, { kind: 'missing' });
      continue;
    }
    const closeStatus = description.status.name;
    if (closeStatus === 'RUNNING') workflows.set(agent.requestId, { kind: 'running' });
    else if (closeStatus !== 'COMPLETED') workflows.set(agent.requestId, { kind: 'closed', closeStatus });
    else
      workflows.set(agent.requestId, {
        kind: 'closed',
        closeStatus,
        final: (await handle.result()) as AccessRequestState,
      });
  }

  let leaseHolders: number | undefined;
  try {
    const lease = await stack.client.workflow
      .getHandle(vaultLeaseWorkflowId('demo', 'vlt_oncall', 'grp_engineering'))
      .query(leaseStateQuery);
    leaseHolders = Object.keys(lease.holders).length;
  } catch {
    // no vault-group request in this run
  }

  const verdict = judgeChaos({
    requests: agents.map((agent) => ({
      index: agent.index,
      mode: agent.mode,
      earlyRevoke: agent.earlyRevoke,
      requestId: agent.requestId,
      apiFinalStatus: agent.finalStatus,
      errors: agent.errors,
    })),
    workflowIds,
    workflows,
    onePassword: state,
    leaseHolders,
    terminated: new Set([...operator.terminated].map((workflowId) => workflowId.replace(/^AccessRequest:/, ''))),
    resets: new Map([...operator.reset].map(([workflowId, n]) => [workflowId.replace(/^AccessRequest:/, ''), n])),
    lastResetAt: new Map(
      [...operator.lastResetAt].map(([workflowId, at]) => [workflowId.replace(/^AccessRequest:/, ''), at]),
    ),
    missingPermissions: missingSeen,
  });
  const history = await largestHistory(stack);
  return {
    checkedAt: new Date().toISOString(),
    ...verdict,
    largestHistory: history,
    onePassword: {
      shareLinks: state.shareLinks.length,
      rotations: state.rotations.length,
      groupPermissionsLeft: state.vaults.reduce((n, v) => n + v.groupPermissions.length, 0),
      appliedThenFailed: state.counters.appliedThenFailed ?? 0,
      leaseHolders,
      counters: state.counters,
    },
  };
}

function printReport(r: {
  machine: ReturnType<typeof machineInfo>;
  settings: typeof settings;
  seconds: number;
  timeline: Timeline[];
  unplannedExits: string[];
  clientsSaw: typeof seen;
  operator: Operator['counts'];
  reconcile: { missingSeenMidRun: number; finalPass: ReconcileReport };
  largestHistory: { events: number; workflowId?: string };
  counts: Record<string, number>;
  finalStatuses: Record<string, number>;
  onePassword: {
    shareLinks: number;
    rotations: number;
    groupPermissionsLeft: number;
    appliedThenFailed: number;
    counters: LocalState['counters'];
  };
  findings: Record<string, Finding[]>;
  passed: boolean;
}) {
  const out: string[] = [];
  out.push(`latchkey chaos — ${describeMachine(r.machine)}`);
  out.push(
    r.settings.cluster
      ? `cluster: 2 workers and 2 API instances on the Temporal server ${TEMPORAL_SERVER_VERSION} and PostgreSQL; ` +
          `${r.settings.requests} requests, ${r.settings.kills} SIGKILLs (a worker and an API instance in turn), ` +
          `${r.settings.restarts} Temporal server restarts, 1 PostgreSQL restart (${POSTGRES_DOWN_MS / 1000} s down), ` +
          `1Password faults ${JSON.stringify(FAULTS)}; ${r.seconds}s`
      : `${r.settings.requests} requests, ${r.settings.kills} worker SIGKILLs, ${r.settings.restarts} dev server restarts, ` +
          `1Password faults ${JSON.stringify(FAULTS)}; ${r.seconds}s`,
  );
  out.push(
    `operator: ${r.operator.terminations} requests terminated, ${r.operator.resets} reset, ` +
      `${r.operator.leaseTerminations} vault lease(s) terminated, ${r.operator.vaultDeletions} vault deleted, ` +
      `${r.operator.tokenRevocations} token revoked; 1Password applied then failed ${r.onePassword.appliedThenFailed} write(s)`,
  );
  const repaired = r.reconcile.finalPass.drifts.filter(
    (drift) => drift.action === 'removed' || drift.action === 'rotated',
  );
  out.push(
    `reconcile: ${r.reconcile.missingSeenMidRun} active grant(s) without their permission seen mid-run; ` +
      `the final pass repaired ${repaired.length} (${repaired.map((drift) => drift.kind).join(', ') || 'nothing'})`,
  );
  out.push(`final statuses: ${JSON.stringify(r.finalStatuses)}`);
  out.push(
    `clients saw: ${r.clientsSaw.http5xx} 5xx, ${r.clientsSaw.network} network errors, ${r.clientsSaw.http409} 409 after a retry; ` +
      `unplanned process exits: ${r.unplannedExits.length}`,
  );
  const faulted = Object.values(r.onePassword.counters.faulted).reduce((a, b) => a + (b ?? 0), 0);
  out.push(
    `local 1Password: ${r.onePassword.shareLinks} share links, ${r.onePassword.rotations} rotations, ` +
      `${r.onePassword.groupPermissionsLeft} group permissions left, ${faulted} calls refused by injected faults`,
  );
  out.push('');
  out.push(
    table(
      ['check', 'count'],
      [
        ['requests', r.counts.requests],
        ['acknowledged by the API', r.counts.acknowledged],
        ['workflows found', r.counts.workflows],
        ['never accepted', r.counts.notAccepted],
        ['requests lost', r.counts.lost],
        ['unfinished at the end', r.counts.unfinished],
        ['unexpected end', r.counts.unexpectedEnd],
        ['grants left behind after the reconcile pass (permissions, links, secrets)', r.counts.grantsLeftBehind],
        ['active grants without their permission (seen mid-run)', r.counts.activeGrantsWithoutPermission],
        ['duplicate effective grants (links, rotations, requests)', r.counts.duplicateGrants],
        ['share links nobody received (answer lost; each accounted for)', r.counts.unreceivedLinks],
        ['rotations repeated after a lost answer', r.counts.extraRotations],
        [`largest history (events, ${r.largestHistory.workflowId ?? '-'})`, r.largestHistory.events],
      ],
    ),
  );
  for (const [kind, findings] of Object.entries(r.findings)) {
    for (const finding of findings.slice(0, 10)) {
      out.push(
        `  ${kind}: ${finding.requestId ?? ''} ${finding.agent !== undefined ? `#${finding.agent}` : ''} ${finding.what}`,
      );
    }
  }
  out.push(r.passed ? 'PASSED: nothing lost, nothing left behind, nothing granted twice' : 'FAILED');
  process.stdout.write(out.join('\n') + '\n');
}
