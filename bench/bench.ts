import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { repoRoot } from '../config/config';
import type { AccessRequestState, RequestStatus } from '../contracts/request';
import { TASK_QUEUE } from '../contracts/task-queue';
import { LOCAL_READ_OPERATIONS, LOCAL_WRITE_OPERATIONS, type LocalCounters } from '../onepassword/local/state';
import { loadPolicyFile } from '../policy';
import { demoCatalog } from '../policy/demo-catalog';
import { accessRequestWorkflow } from '../workflows';
import { baselineGoUpdate, type BaselineInput, baselineWorkflow } from './baseline-workflow';
import { ADA, ALICE, ApiClient, BOB, mint, type Persona } from './lib/api';
import { DirectLatchkey } from './lib/direct';
import { describeMachine, machineInfo, THREAD_KINDS } from './lib/machine';
import { BENCH_POLICY_FILE, runMain, Stack } from './lib/stack';
import { type LatencySummary, mib, pool, round, summarize, table } from './lib/stats';

const { values: flags } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    'op-latency-ms': { type: 'string', default: '0' },
    samples: { type: 'string' },
    open: { type: 'string' },
    'throughput-seconds': { type: 'string' },
    'throughput-slices': { type: 'string' },
    concurrency: { type: 'string' },
    'grant-seconds': { type: 'string' },
    'per-mode': { type: 'string' },
    out: { type: 'string' },
    'keep-data': { type: 'boolean', default: false },
    cluster: { type: 'boolean', default: false },
    'cpu-profile': { type: 'string' },
  },
});

function intFlag(name: keyof typeof flags, full: number, short: number, min = 1): number {
  const raw = flags[name];
  const value = raw === undefined ? (flags.short ? short : full) : Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}`);
  return value;
}

const settings = {
  short: flags.short ?? false,
  opLatencyMs: intFlag('op-latency-ms', 0, 0, 0),
  samples: intFlag('samples', 200, 20),
  warmup: flags.short ? 3 : 10,
  open: intFlag('open', 1000, 100),
  throughputSeconds: intFlag('throughput-seconds', 60, 10),
  /** Each throughput run is split into this many slices, the runs taking turns: see measureThroughputs. */
  throughputSlices: intFlag('throughput-slices', 3, 1),
  concurrency: intFlag('concurrency', 16, 8),
  grantSeconds: intFlag('grant-seconds', 2, 2),
  perMode: intFlag('per-mode', 10, 2),
  /** Against the production shape (bench/lib/stack.ts): two workers and two APIs, Temporal server on PostgreSQL. */
  cluster: flags.cluster ?? false,
};

const log = (message: string) => process.stderr.write(`[bench] ${new Date().toISOString().slice(11, 19)} ${message}\n`);
/** Problems that make the run fail: an operation that did not do what it should. */
const problems: string[] = [];

function expect(condition: boolean, problem: string): void {
  if (!condition && problems.length < 50) problems.push(problem);
}

interface Tokens {
  alice: string;
  bob: string;
  ada: string;
}

const JUSTIFICATION = 'benchmark: measuring latchkey';

async function apiCreate(api: ApiClient, token: string, resourceId: string, duration: string) {
  const answer = await api.call<AccessRequestState>('POST', '/v1/requests', token, {
    resourceId,
    duration,
    justification: JUSTIFICATION,
  });
  expect(answer.status === 201, `create ${resourceId} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer;
}

async function apiApprove(api: ApiClient, token: string, requestId: string) {
  const answer = await api.call<AccessRequestState>('POST', `/v1/requests/${requestId}/approve`, token, {
    comment: 'benchmark',
  });
  expect(answer.status === 200, `approve answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer;
}

/** Waits (bounded) until a request's workflow has no workflow task and no activity in flight. */
async function waitSettled(direct: DirectLatchkey, requestId: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const description = await direct.describeRaw(requestId);
    if ((description.pendingActivities?.length ?? 0) === 0 && !description.pendingWorkflowTask) return;
    await sleep(10);
  }
}

/** Waits until a request's workflow has closed and returns its last state. */
async function waitClosed(direct: DirectLatchkey, requestId: string): Promise<AccessRequestState> {
  return direct.handle(requestId).result();
}

// ----- Phases -----

interface Shape {
  activities: number;
  timers: number;
  activityTypes: Record<string, number>;
  status: RequestStatus;
}

/** One whole lifecycle through the API, then its history: how many activities and timers it used. */
async function calibrate(api: ApiClient, tokens: Tokens, direct: DirectLatchkey, client: Client): Promise<Shape> {
  const created = await apiCreate(api, tokens.alice, 'prod-db', `PT${settings.grantSeconds}S`);
  const requestId = created.body.requestId;
  await apiApprove(api, tokens.bob, requestId);
  const end = await waitClosed(direct, requestId);
  const history = await client.workflow.getHandle(`AccessRequest:${requestId}`).fetchHistory();
  const activityTypes: Record<string, number> = {};
  let timers = 0;
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const name = scheduled.activityType?.name ?? '?';
      activityTypes[name] = (activityTypes[name] ?? 0) + 1;
    }
    if (event.timerStartedEventAttributes) timers++;
  }
  const activities = Object.values(activityTypes).reduce((a, b) => a + b, 0);
  expect(end.status === 'EXPIRED', `calibration lifecycle ended ${end.status}`);
  return { activities, timers, activityTypes, status: end.status };
}

interface LatencyResult {
  api: Record<'create' | 'approveToActive' | 'query' | 'list', LatencySummary>;
  direct: Record<'create' | 'approveToActive' | 'query' | 'list', LatencySummary>;
}

async function measureLatency(api: ApiClient, tokens: Tokens, direct: DirectLatchkey): Promise<LatencyResult> {
  const ops = ['create', 'approveToActive', 'query', 'list'] as const;
  const apiSamples = Object.fromEntries(ops.map((op) => [op, [] as number[]])) as Record<
    (typeof ops)[number],
    number[]
  >;
  const directSamples = Object.fromEntries(ops.map((op) => [op, [] as number[]])) as Record<
    (typeof ops)[number],
    number[]
  >;
  const duration = 'PT30S';
  const timedMs = async (fn: () => Promise<unknown>) => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };
  for (let i = 0; i < settings.warmup + settings.samples; i++) {
    const keep = i >= settings.warmup;
    // Alternate which path goes first, so that neither always follows the other.
    const apiFirst = i % 2 === 0;
    const both = async (a: () => Promise<number>, d: () => Promise<number>) =>
      apiFirst ? [await a(), await d()] : [await d(), await a()].reverse();

    let apiId = '';
    let directId = '';
    // Each request is let settle (its first workflow task, its approval-requested notification) before the next
    // call, untimed: a create answers before its workflow has run, and the other path's create must not compete
    // with that work. An approver answers a request at rest, too, not mid-start.
    const [apiCreateMs, directCreateMs] = await both(
      async () => {
        const created = await apiCreate(api, tokens.alice, 'prod-db', duration);
        apiId = created.body.requestId;
        await waitSettled(direct, apiId);
        return created.ms;
      },
      async () => {
        const ms = await timedMs(async () => {
          directId = (await direct.create(ALICE, 'prod-db', duration)).requestId;
        });
        await waitSettled(direct, directId);
        return ms;
      },
    );
    const [apiApproveMs, directApproveMs] = await both(
      async () => {
        const approved = await apiApprove(api, tokens.bob, apiId);
        expect(approved.body?.status === 'ACTIVE', `API approve returned ${approved.body?.status}`);
        return approved.ms;
      },
      () =>
        timedMs(async () => {
          const active = await direct.approve(BOB, directId);
          expect(active.status === 'ACTIVE', `direct approve returned ${active.status}`);
        }),
    );
    await waitSettled(direct, apiId);
    await waitSettled(direct, directId);
    const [apiQueryMs, directQueryMs] = await both(
      async () => {
        const got = await api.call<AccessRequestState>('GET', `/v1/requests/${apiId}`, tokens.alice);
        expect(got.status === 200, `GET answered ${got.status}`);
        return got.ms;
      },
      () => timedMs(() => direct.query(directId)),
    );
    const [apiListMs, directListMs] = await both(
      async () => {
        const listed = await api.call('GET', '/v1/requests?status=ACTIVE&pageSize=20', tokens.alice);
        expect(listed.status === 200, `list answered ${listed.status}`);
        return listed.ms;
      },
      () => timedMs(() => direct.list(ALICE, { status: 'ACTIVE' }, 20)),
    );
    if (!keep) continue;
    apiSamples.create.push(apiCreateMs);
    apiSamples.approveToActive.push(apiApproveMs);
    apiSamples.query.push(apiQueryMs);
    apiSamples.list.push(apiListMs);
    directSamples.create.push(directCreateMs);
    directSamples.approveToActive.push(directApproveMs);
    directSamples.query.push(directQueryMs);
    directSamples.list.push(directListMs);
  }
  const sum = (samples: Record<(typeof ops)[number], number[]>) =>
    Object.fromEntries(ops.map((op) => [op, summarize(samples[op])])) as LatencyResult['api'];
  return { api: sum(apiSamples), direct: sum(directSamples) };
}

/** One local 1Password call from this process: what every grant pays per call, before any network. */
async function measureLocalOnePasswordCall(stack: Stack): Promise<LatencySummary> {
  const samples: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    await stack.onePassword.getSharePolicy('vlt_prod', 'itm_prod_db');
    samples.push(performance.now() - t);
  }
  return summarize(samples);
}

interface ModeCost {
  mode: string;
  resourceId: string;
  lifecycles: number;
  readsPerGrant: number;
  writesPerGrant: number;
  perOperation: Record<string, number>;
  /** Catalog discovery calls (listVaults, listItems) during the phase: not caused by grants. */
  discoveryCalls: number;
  endStatuses: Record<string, number>;
}

function counterDelta(before: LocalCounters, after: LocalCounters) {
  const perOperation: Record<string, number> = {};
  let reads = 0;
  let writes = 0;
  let discovery = 0;
  for (const op of LOCAL_READ_OPERATIONS) {
    const d = (after.reads[op] ?? 0) - (before.reads[op] ?? 0);
    if (d === 0) continue;
    if (op === 'listVaults' || op === 'listItems') {
      discovery += d;
      continue;
    }
    perOperation[op] = d;
    reads += d;
  }
  for (const op of LOCAL_WRITE_OPERATIONS) {
    const d = (after.writes[op] ?? 0) - (before.writes[op] ?? 0);
    if (d === 0) continue;
    perOperation[op] = d;
    writes += d;
  }
  return { reads, writes, perOperation, discovery };
}

/** 1Password reads and writes per whole lifecycle (grant and its end), per grant mode. */
async function measureModeCosts(
  stack: Stack,
  api: ApiClient,
  tokens: Tokens,
  direct: DirectLatchkey,
): Promise<ModeCost[]> {
  const modes = [
    { mode: 'share-link (approved)', resourceId: 'prod-db', approve: true },
    { mode: 'share-link (automatic)', resourceId: 'staging-db', approve: false },
    { mode: 'rotate-on-revoke', resourceId: 'stripe-key', approve: true },
    { mode: 'vault-group', resourceId: 'oncall-vault', approve: true },
  ];
  const results: ModeCost[] = [];
  for (const { mode, resourceId, approve } of modes) {
    const before = (await stack.onePassword.readState()).counters;
    const endStatuses: Record<string, number> = {};
    // One at a time, so that no two vault-group grants overlap (overlaps share one permission).
    for (let i = 0; i < settings.perMode; i++) {
      const created = await apiCreate(api, tokens.alice, resourceId, 'PT1S');
      if (approve) await apiApprove(api, tokens.bob, created.body.requestId);
      const end = await waitClosed(direct, created.body.requestId);
      endStatuses[end.status] = (endStatuses[end.status] ?? 0) + 1;
      expect(end.status === 'EXPIRED', `${mode} lifecycle ended ${end.status} ${JSON.stringify(end.failure ?? {})}`);
    }
    // The vault lease entity releases after the request ends; let it finish.
    await sleep(1_000);
    const after = (await stack.onePassword.readState()).counters;
    const delta = counterDelta(before, after);
    results.push({
      mode,
      resourceId,
      lifecycles: settings.perMode,
      readsPerGrant: round(delta.reads / settings.perMode),
      writesPerGrant: round(delta.writes / settings.perMode),
      perOperation: Object.fromEntries(
        Object.entries(delta.perOperation).map(([op, n]) => [op, round(n / settings.perMode)]),
      ),
      discoveryCalls: delta.discovery,
      endStatuses,
    });
  }
  return results;
}

interface ThroughputResult {
  workflowType: string;
  started: number;
  completed: number;
  startErrors: number;
  /** Completed lifecycles per second from the first start to the last close (drain included). */
  lifecyclesPerSecond: number;
  /** Closes per second in the window after the first grants could end until starts stopped. */
  steadyClosesPerSecond: number;
  startsPerSecond: number;
  notCompleted: number;
  seconds: number;
  /** CPU time each process used from the first start to the last close, per completed lifecycle (ms). */
  cpuMsPerLifecycle: Record<string, number | undefined>;
  /** Lifecycles per second of each slice, in the order they ran. */
  slices: number[];
}

/** Starts and approves lifecycles for a while with a fixed number of starters; measures closes. */
async function measureThroughput(
  stack: Stack,
  workflowType: string,
  startOne: () => Promise<void>,
  holdMs: number,
  seconds: number,
): Promise<ThroughputResult> {
  // Every run starts from a fresh local 1Password, so that the share links of one run (the state file
  // grows with each) do not slow the next.
  await stack.onePassword.reset();
  if (settings.opLatencyMs) await stack.onePassword.setFaults({ latencyMs: settings.opLatencyMs });
  const since = new Date(Date.now() - 1000).toISOString();
  const cpuBefore = cpuSeconds(stack);
  const t0 = Date.now();
  const stopAt = t0 + seconds * 1000;
  let started = 0;
  let startErrors = 0;
  await Promise.all(
    Array.from({ length: settings.concurrency }, async () => {
      while (Date.now() < stopAt) {
        try {
          await startOne();
          started++;
        } catch (error) {
          startErrors++;
          expect(false, `${workflowType} start failed: ${(error as Error).message}`);
          await sleep(100);
        }
      }
    }),
  );
  const stoppedAt = Date.now();
  const base = `WorkflowType = '${workflowType}' AND StartTime >= '${since}'`;
  // Drain: bounded wait until every started lifecycle has closed.
  const drainDeadline = Date.now() + holdMs + 180_000;
  let running = -1;
  while (Date.now() < drainDeadline) {
    running = Number(
      (
        await stack.client.workflowService.countWorkflowExecutions({
          namespace: 'default',
          query: `${base} AND ExecutionStatus = 'Running'`,
        })
      ).count,
    );
    if (running === 0) break;
    await sleep(500);
  }
  const cpuAfter = cpuSeconds(stack);
  const closes: number[] = [];
  const starts: number[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await stack.client.workflowService.listWorkflowExecutions({
      namespace: 'default',
      query: `${base} AND ExecutionStatus = 'Completed'`,
      pageSize: 1000,
      nextPageToken,
    });
    for (const execution of page.executions ?? []) {
      starts.push(tsMs(execution.startTime));
      closes.push(tsMs(execution.closeTime));
    }
    nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
  } while (nextPageToken);
  const firstStart = Math.min(...starts);
  const lastClose = Math.max(...closes);
  const windowStart = t0 + holdMs + 2_000;
  const steady = closes.filter((close) => close >= windowStart && close <= stoppedAt).length;
  const completed = closes.length;
  expect(completed === started, `${workflowType}: ${started} started, ${completed} completed`);
  const lifecyclesPerSecond = round(completed / ((lastClose - firstStart) / 1000));
  return {
    workflowType,
    started,
    completed,
    startErrors,
    lifecyclesPerSecond,
    steadyClosesPerSecond: stoppedAt > windowStart ? round(steady / ((stoppedAt - windowStart) / 1000)) : NaN,
    startsPerSecond: round(started / ((stoppedAt - t0) / 1000)),
    notCompleted: Math.max(0, running),
    seconds: round((stoppedAt - t0) / 1000, 1),
    cpuMsPerLifecycle: Object.fromEntries(
      Object.entries(cpuAfter).map(([name, after]) => {
        const before = cpuBefore[name];
        return [
          name,
          after === undefined || before === undefined ? undefined : round(((after - before) * 1000) / completed, 2),
        ];
      }),
    ),
    slices: [lifecyclesPerSecond],
  };
}

/**
 * Runs that are compared take turns, slice by slice (latchkey, baseline, through the API, then again), each run
 * getting the same total time: this machine's speed drifts over minutes (other tenants), and one run after the
 * other made the ratio move with the drift. Each slice starts from nothing and drains, as a whole run did.
 */
async function measureThroughputs<Name extends string>(
  stack: Stack,
  runs: Array<{ name: Name; workflowType: string; startOne: () => Promise<void> }>,
  holdMs: number,
): Promise<Record<Name, ThroughputResult>> {
  const sliceSeconds = settings.throughputSeconds / settings.throughputSlices;
  const results = new Map<Name, ThroughputResult[]>(runs.map((run) => [run.name, []]));
  for (let slice = 1; slice <= settings.throughputSlices; slice++) {
    for (const run of runs) {
      log(`throughput: ${run.name}, slice ${slice} of ${settings.throughputSlices} (${round(sliceSeconds, 1)}s)`);
      results.get(run.name)!.push(await measureThroughput(stack, run.workflowType, run.startOne, holdMs, sliceSeconds));
    }
  }
  return Object.fromEntries([...results].map(([name, slices]) => [name, combineSlices(slices)])) as Record<
    Name,
    ThroughputResult
  >;
}

/** One run's slices as one run: totals, rates over the summed time, CPU weighted by what each slice completed. */
function combineSlices(slices: ThroughputResult[]): ThroughputResult {
  const sum = (figure: (slice: ThroughputResult) => number) =>
    slices.reduce((total, slice) => total + figure(slice), 0);
  const completed = sum((slice) => slice.completed);
  const spanSeconds = sum((slice) => (slice.completed > 0 ? slice.completed / slice.lifecyclesPerSecond : 0));
  const processes = Object.keys(slices[0].cpuMsPerLifecycle);
  return {
    workflowType: slices[0].workflowType,
    started: sum((slice) => slice.started),
    completed,
    startErrors: sum((slice) => slice.startErrors),
    lifecyclesPerSecond: round(completed / spanSeconds),
    steadyClosesPerSecond: round(sum((slice) => slice.steadyClosesPerSecond) / slices.length),
    startsPerSecond: round(sum((slice) => slice.started) / sum((slice) => slice.seconds)),
    notCompleted: sum((slice) => slice.notCompleted),
    seconds: round(
      sum((slice) => slice.seconds),
      1,
    ),
    cpuMsPerLifecycle: Object.fromEntries(
      processes.map((name) => {
        if (slices.some((slice) => slice.cpuMsPerLifecycle[name] === undefined)) return [name, undefined];
        return [name, round(sum((slice) => slice.cpuMsPerLifecycle[name]! * slice.completed) / completed, 2)];
      }),
    ),
    slices: slices.flatMap((slice) => slice.slices),
  };
}

/** A figure of every worker (every API instance) together, as in the cluster; unknown if one is unknown. */
function sumOver(names: readonly string[], figureOf: (name: string) => number | undefined): number | undefined {
  const each = names.map(figureOf);
  return each.some((figure) => figure === undefined) ? undefined : each.reduce((a = 0, b = 0) => a + b, 0);
}

/**
 * CPU seconds used so far by each process of the stack, this benchmark (the load generator) included; and the
 * workers' by kind of thread (`worker:main`, `worker:node`, `worker:core`; the same for `baselineWorker`).
 */
function cpuSeconds(stack: Stack): Record<string, number | undefined> {
  const cpuOf = (name: string) => stack.cpuSecondsOf(stack.pid(name));
  const self = process.cpuUsage();
  const seconds: Record<string, number | undefined> = {
    worker: sumOver(stack.workers, cpuOf),
    baselineWorker: cpuOf('baseline'),
    api: sumOver(stack.apis, cpuOf),
    temporal: stack.cpuSecondsOf(stack.serverPid),
    bench: (self.user + self.system) / 1e6,
  };
  for (const [key, names] of [
    ['worker', stack.workers],
    ['baselineWorker', ['baseline']],
  ] as const) {
    // One read of each process's threads for all the kinds.
    const threads = new Map(names.map((name) => [name, stack.cpuSecondsByThreadOf(stack.pid(name))]));
    for (const kind of THREAD_KINDS) seconds[`${key}:${kind}`] = sumOver(names, (name) => threads.get(name)?.[kind]);
  }
  return seconds;
}

function tsMs(timestamp: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  if (!timestamp) return NaN;
  return Number(timestamp.seconds ?? 0) * 1000 + Math.floor((timestamp.nanos ?? 0) / 1e6);
}

interface OpenResult {
  open: number;
  /** Every access-request workflow running while measured (earlier phases' grants included). */
  running: number;
  createSeconds: number;
  createsPerSecond: number;
  /** From the last create until every request had run its first workflow task (the worker's backlog). */
  catchUpSeconds: number;
  rssBefore: Record<string, number | undefined>;
  rssOpen: Record<string, number | undefined>;
  /** The highest RSS sampled (every 250 ms) from the first create until the reads while open were done. */
  rssPeak: Record<string, number | undefined>;
  dbBytesBefore: number;
  dbBytesOpen: number;
  latency: Record<string, LatencySummary>;
}

/** N requests held open (pending approval) at once: memory, database size, reads while open. */
async function measureOpen(stack: Stack, api: ApiClient, tokens: Tokens, direct: DirectLatchkey): Promise<OpenResult> {
  const rssOf = (name: string) => stack.rssOf(stack.pid(name));
  const rss = () => ({
    worker: sumOver(stack.workers, rssOf),
    api: sumOver(stack.apis, rssOf),
    temporal: stack.rssOf(stack.serverPid),
  });
  const rssBefore = rss();
  // One reading depends on when each heap was last collected (tens of MiB): the highest one is what a host needs.
  const rssPeak = { ...rssBefore };
  const samplePeak = setInterval(() => {
    for (const [name, bytes] of Object.entries(rss()) as Array<[keyof typeof rssPeak, number | undefined]>) {
      if (bytes !== undefined && bytes > (rssPeak[name] ?? 0)) rssPeak[name] = bytes;
    }
  }, 250).unref();
  const dbBytesBefore = stack.dbBytes();
  const ids: string[] = [];
  const t0 = performance.now();
  let lastLog = Date.now();
  await pool(
    Array.from({ length: settings.open }, (_, i) => i),
    settings.concurrency,
    async () => {
      const created = await apiCreate(api, tokens.alice, 'prod-db', 'PT1H');
      if (created.status === 201) ids.push(created.body.requestId);
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`  ${ids.length}/${settings.open} open`);
      }
    },
  );
  const createSeconds = (performance.now() - t0) / 1000;
  const running = Number(
    (
      await stack.client.workflowService.countWorkflowExecutions({
        namespace: 'default',
        query: `WorkflowType = '${accessRequestWorkflow.name}' AND ExecutionStatus = 'Running'`,
      })
    ).count,
  );
  const open = ids.length;
  expect(open === settings.open, `only ${open} of ${settings.open} requests were created`);
  // The API answers a create before the worker has run the request's first workflow task: after a burst the
  // worker is still starting them. Reads are measured once it has caught up (a query waits for that first task).
  const caughtUpAt = performance.now();
  for (const id of ids) await waitSettled(direct, id);
  const catchUpSeconds = (performance.now() - caughtUpAt) / 1000;
  log(`  the worker caught up ${round(catchUpSeconds, 1)} s after the last create`);
  const rssOpen = rss();
  const dbBytesOpen = stack.dbBytes();
  const samples: Record<string, number[]> = {
    'API query (GET one)': [],
    'API list (pendingMyApproval, 50)': [],
    'direct query': [],
    'direct list (same query, 50)': [],
  };
  const n = Math.max(20, Math.min(settings.samples, 200));
  for (let i = 0; i < n; i++) {
    // Each path reads a request of its own: the first read of a request the worker no longer caches
    // replays its history, and the path that went second on the same request would not pay for it.
    const id = ids[Math.floor(Math.random() * ids.length)];
    const directId = ids[Math.floor(Math.random() * ids.length)];
    const got = await api.call('GET', `/v1/requests/${id}`, tokens.alice);
    expect(got.status === 200, `GET while open answered ${got.status}`);
    samples['API query (GET one)'].push(got.ms);
    const listed = await api.call('GET', '/v1/requests?pendingMyApproval=true&pageSize=50', tokens.bob);
    expect(listed.status === 200, `list while open answered ${listed.status}`);
    samples['API list (pendingMyApproval, 50)'].push(listed.ms);
    let t = performance.now();
    await direct.query(directId);
    samples['direct query'].push(performance.now() - t);
    t = performance.now();
    await direct.list(BOB, { pendingMyApproval: true }, 50);
    samples['direct list (same query, 50)'].push(performance.now() - t);
  }
  clearInterval(samplePeak);
  return {
    open,
    running,
    createSeconds: round(createSeconds, 1),
    createsPerSecond: round(settings.open / createSeconds),
    catchUpSeconds: round(catchUpSeconds, 1),
    rssBefore,
    rssOpen,
    rssPeak,
    dbBytesBefore,
    dbBytesOpen,
    latency: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)])),
  };
}

// ----- Main -----

runMain('bench', async (onStack) => {
  const machine = machineInfo();
  const startedAt = new Date();
  log(`machine: ${describeMachine(machine)}`);
  log(`settings: ${JSON.stringify(settings)}`);
  const stack = new Stack({
    log,
    opLatencyMs: settings.opLatencyMs,
    baselineWorker: true,
    keepData: flags['keep-data'],
    cluster: settings.cluster,
    cpuProfileDir: flags['cpu-profile'] && path.resolve(flags['cpu-profile']),
  });
  onStack(stack);
  log(`booting the stack in ${stack.dataDir}`);
  await stack.start();
  log(`stack ready: API ${stack.apiUrl}, Temporal ${stack.temporalAddress}`);
  const issuer = stack.config.auth.issuer;
  const audience = stack.config.auth.audience;
  const who = (p: Persona) => mint(stack.key, issuer, audience, p);
  const tokens: Tokens = { alice: await who(ALICE), bob: await who(BOB), ada: await who(ADA) };
  // In the cluster the calls take the API instances in turn, as a load balancer would.
  const api = new ApiClient(stack.apiUrls, 60_000, 'node:http');
  const direct = new DirectLatchkey(
    stack.client,
    loadPolicyFile(BENCH_POLICY_FILE),
    demoCatalog(),
    stack.commandSigner,
  );

  log('calibrating: one whole lifecycle, then its history');
  const shape = await calibrate(api, tokens, direct, stack.client);
  log(
    `  a lifecycle uses ${shape.activities} activities ${JSON.stringify(shape.activityTypes)} and ${shape.timers} timers`,
  );

  log('local 1Password: the cost of one call (lock, read, write back the state file)');
  const onePasswordCall = await measureLocalOnePasswordCall(stack);

  log(`latency: ${settings.samples} samples of each operation, through the API and directly`);
  const latency = await measureLatency(api, tokens, direct);

  log(`1Password calls per grant: ${settings.perMode} lifecycles per mode`);
  const modeCosts = await measureModeCosts(stack, api, tokens, direct);

  const holdMs = settings.grantSeconds * 1000;
  const baselineInput: BaselineInput = {
    activities: shape.activities,
    timers: shape.timers,
    holdMs,
    waitForUpdate: true,
    activitiesBeforeAnswer: 1,
  };
  log(
    `throughput: ${settings.grantSeconds}s grants for ${settings.throughputSeconds}s per run in ${settings.throughputSlices} slices, ` +
      `${settings.concurrency} starters; do-nothing baseline ${JSON.stringify(baselineInput)}`,
  );
  let baselineSeq = 0;
  const throughput = await measureThroughputs(
    stack,
    [
      {
        name: 'latchkey',
        workflowType: accessRequestWorkflow.name,
        startOne: async () => {
          const state = await direct.create(ALICE, 'prod-db', `PT${settings.grantSeconds}S`);
          const active = await direct.approve(BOB, state.requestId);
          if (active.status !== 'ACTIVE') throw new Error(`approve returned ${active.status}`);
        },
      },
      {
        name: 'baseline',
        workflowType: baselineWorkflow.name,
        startOne: async () => {
          const handle = await stack.client.workflow.start(baselineWorkflow, {
            args: [baselineInput],
            workflowId: `BenchBaseline:${process.pid}:${baselineSeq++}`,
            taskQueue: stack.baselineTaskQueue,
          });
          await handle.executeUpdate(baselineGoUpdate);
        },
      },
      {
        // Create and approve over HTTP.
        name: 'latchkeyThroughApi',
        workflowType: accessRequestWorkflow.name,
        startOne: async () => {
          const created = await apiCreate(api, tokens.alice, 'prod-db', `PT${settings.grantSeconds}S`);
          if (created.status !== 201) throw new Error(`create answered ${created.status}`);
          const approved = await apiApprove(api, tokens.bob, created.body.requestId);
          if (approved.body?.status !== 'ACTIVE') throw new Error(`approve answered ${approved.status}`);
        },
      },
    ],
    holdMs,
  );
  const { latchkey: latchkeyThroughput, baseline: baselineThroughput, latchkeyThroughApi: apiThroughput } = throughput;

  log(`open: ${settings.open} requests held open at once`);
  const open = await measureOpen(stack, api, tokens, direct);

  const finishedAt = new Date();
  const report = {
    kind: 'latchkey-bench',
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    seconds: round((finishedAt.getTime() - startedAt.getTime()) / 1000, 1),
    machine,
    settings,
    taskQueue: TASK_QUEUE,
    sqlitePragmas: ['journal_mode=WAL', 'synchronous=OFF'],
    lifecycleShape: shape,
    localOnePasswordCall: onePasswordCall,
    latency,
    onePasswordPerGrant: modeCosts,
    throughput: {
      latchkey: latchkeyThroughput,
      baseline: baselineThroughput,
      latchkeyThroughApi: apiThroughput,
      baselineInput,
      ratio: round(latchkeyThroughput.lifecyclesPerSecond / baselineThroughput.lifecyclesPerSecond, 3),
    },
    open,
    problems,
    passed: problems.length === 0,
  };
  printReport(report);
  const outFile =
    flags.out ?? path.join(repoRoot(), '.bench', `bench-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, JSON.stringify(report, null, 2) + '\n');
  log(`wrote ${outFile}`);
  if (problems.length > 0) {
    log(`FAILED: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
    return 1;
  }
  return 0;
});

function printReport(r: {
  machine: ReturnType<typeof machineInfo>;
  settings: typeof settings;
  seconds: number;
  latency: LatencyResult;
  onePasswordPerGrant: ModeCost[];
  throughput: {
    latchkey: ThroughputResult;
    baseline: ThroughputResult;
    latchkeyThroughApi: ThroughputResult;
    ratio: number;
  };
  open: OpenResult;
  lifecycleShape: Shape;
  localOnePasswordCall: LatencySummary;
}): void {
  const out: string[] = [];
  out.push(`latchkey bench — ${describeMachine(r.machine)}`);
  out.push(
    `settings: 1Password latency ${r.settings.opLatencyMs} ms, ${r.settings.samples} samples, ${r.settings.concurrency} starters, ` +
      `${r.settings.grantSeconds}s grants, run ${r.seconds}s`,
  );
  out.push('');
  out.push('Latency (ms): API vs. Temporal client directly');
  const ops = [
    ['create', 'create'],
    ['approve -> ACTIVE', 'approveToActive'],
    ['query (GET one)', 'query'],
    ['list (20, ACTIVE)', 'list'],
  ] as const;
  out.push(
    table(
      ['operation', 'API p50', 'p95', 'p99', 'direct p50', 'p95', 'p99', 'API/direct p50'],
      ops.map(([label, key]) => {
        const a = r.latency.api[key];
        const d = r.latency.direct[key];
        return [label, a.p50, a.p95, a.p99, d.p50, d.p95, d.p99, `${round(a.p50 / d.p50)}x`];
      }),
    ),
  );
  const c = r.localOnePasswordCall;
  out.push(
    `one local 1Password call (file lock, read, write back; plus --op-latency-ms): p50 ${c.p50} ms, p95 ${c.p95} ms`,
  );
  out.push('');
  const t = r.throughput;
  out.push(
    `Throughput of whole lifecycles (${r.lifecycleShape.activities} activities, ${r.lifecycleShape.timers} timers, ${r.settings.grantSeconds}s hold)`,
  );
  out.push(
    table(
      ['run', 'started', 'completed', 'lifecycles/s', 'steady closes/s', 'starts/s'],
      (
        [
          ['latchkey, Temporal client', t.latchkey],
          ['do-nothing baseline, Temporal client', t.baseline],
          ['latchkey, through the API', t.latchkeyThroughApi],
        ] as const
      ).map(([label, x]) => [
        label,
        x.started,
        x.completed,
        x.lifecyclesPerSecond,
        x.steadyClosesPerSecond,
        x.startsPerSecond,
      ]),
    ),
  );
  out.push(
    `latchkey / baseline (Temporal client): ${t.ratio}` +
      (t.latchkey.slices.length > 1
        ? ` (by slice: ${t.latchkey.slices.map((rate, i) => round(rate / t.baseline.slices[i], 3)).join(', ')})`
        : ''),
  );
  out.push('');
  out.push('CPU time per completed lifecycle (ms), by process, over each run (drain included)');
  const cpuProcesses = ['worker', 'baselineWorker', 'api', 'temporal', 'bench'] as const;
  out.push(
    table(
      ['run', ...cpuProcesses],
      (
        [
          ['latchkey, Temporal client', t.latchkey],
          ['do-nothing baseline, Temporal client', t.baseline],
          ['latchkey, through the API', t.latchkeyThroughApi],
        ] as const
      ).map(([label, x]) => [label, ...cpuProcesses.map((name) => x.cpuMsPerLifecycle[name] ?? '—')]),
    ),
  );
  out.push('');
  out.push(
    "The worker's CPU per lifecycle (ms) by thread: main (activities, the SDK's side of its core), node (Node's " +
      "other threads: the workflow thread, V8's collector and compiler, libuv's pool), core (the Temporal core's Rust runtime)",
  );
  out.push(
    table(
      ['run', ...THREAD_KINDS],
      (
        [
          ['latchkey, Temporal client', t.latchkey, 'worker'],
          ['do-nothing baseline, Temporal client', t.baseline, 'baselineWorker'],
        ] as const
      ).map(([label, x, key]) => [label, ...THREAD_KINDS.map((kind) => x.cpuMsPerLifecycle[`${key}:${kind}`] ?? '—')]),
    ),
  );
  out.push('');
  const o = r.open;
  out.push(
    `${o.open} requests open at once, pending approval (made in ${o.createSeconds}s, ${o.createsPerSecond}/s through the API, the worker caught up ${o.catchUpSeconds}s later; ${o.running} workflows running in all)`,
  );
  out.push(
    table(
      ['process', 'RSS before', `RSS with ${o.open} open`, 'highest while open'],
      (['worker', 'api', 'temporal'] as const).map((p) => [
        p,
        mib(o.rssBefore[p]),
        mib(o.rssOpen[p]),
        mib(o.rssPeak[p]),
      ]),
    ),
  );
  out.push(
    `${r.settings.cluster ? 'PostgreSQL data directory' : 'SQLite database'}: ${mib(o.dbBytesBefore)} before, ` +
      `${mib(o.dbBytesOpen)} with them open`,
  );
  out.push(
    table(
      ['read while open (ms)', 'p50', 'p95', 'p99'],
      Object.entries(o.latency).map(([k, v]) => [k, v.p50, v.p95, v.p99]),
    ),
  );
  out.push('');
  out.push('1Password calls per whole lifecycle (grant and end), local 1Password counters');
  out.push(
    table(
      ['mode', 'reads', 'writes', 'per operation'],
      r.onePasswordPerGrant.map((m) => [
        m.mode,
        m.readsPerGrant,
        m.writesPerGrant,
        Object.entries(m.perOperation)
          .map(([op, n]) => `${op} ${n}`)
          .join(', '),
      ]),
    ),
  );
  process.stdout.write(out.join('\n') + '\n');
}
