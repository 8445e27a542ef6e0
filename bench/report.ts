import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../config/config';
import { type MachineInfo, THREAD_KINDS } from './lib/machine';
import type { LatencySummary } from './lib/stats';

/**
 * Prints the "Latest figures" of docs/benchmarks.md as Markdown, from the newest (or the named)
 * JSON files that bench, chaos and hostile wrote into .bench/, so that the figures in the docs are
 * copied by a program, never by hand.
 *
 *   node dist/bench/report.js [--bench FILE [--bench FILE ...]] [--chaos FILE] [--hostile FILE]
 *
 * Several `--bench` files (runs of the same settings): the first is shown whole, then each run's headline
 * figures and their median, since one run on a shared machine is too noisy to judge by.
 */
const { values: flags } = parseArgs({
  options: {
    bench: { type: 'string', multiple: true },
    chaos: { type: 'string' },
    hostile: { type: 'string' },
  },
});

function newest(kind: string): string | undefined {
  const dir = path.join(repoRoot(), '.bench');
  if (!fs.existsSync(dir)) return undefined;
  const files = fs
    .readdirSync(dir)
    .filter((name) => name.startsWith(`${kind}-`) && name.endsWith('.json'))
    .sort();
  return files.length ? path.join(dir, files[files.length - 1]) : undefined;
}

function load<T>(file: string | undefined): T | undefined {
  return file ? (JSON.parse(fs.readFileSync(file, 'utf8')) as T) : undefined;
}

function machineLine(m: MachineInfo): string {
  return `${m.nproc} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB memory, Node ${m.node}, ${m.platform} ${m.kernel}`;
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

function row(cells: Array<string | number>): string {
  return `| ${cells.join(' | ')} |`;
}

interface Throughput {
  started: number;
  completed: number;
  lifecyclesPerSecond: number;
  steadyClosesPerSecond: number;
  /** Runs since 2026-11-30: where the CPU time went, per process. */
  cpuMsPerLifecycle?: Record<string, number | undefined>;
  /** Runs since 2026-12-01: lifecycles per second of each slice (the runs took turns). */
  slices?: number[];
}

interface BenchReport {
  startedAt: string;
  seconds: number;
  machine: MachineInfo;
  settings: Record<string, number | boolean>;
  lifecycleShape: { activities: number; timers: number; activityTypes: Record<string, number> };
  localOnePasswordCall?: LatencySummary;
  latency: { api: Record<string, LatencySummary>; direct: Record<string, LatencySummary> };
  throughput: {
    latchkey: Throughput;
    baseline: Throughput;
    latchkeyThroughApi?: Throughput;
    ratio: number;
  };
  open: {
    open: number;
    running: number;
    createSeconds: number;
    createsPerSecond: number;
    /** Absent in runs before 2026-12-02. */
    catchUpSeconds?: number;
    rssBefore: Record<string, number>;
    rssOpen: Record<string, number>;
    /** Absent in runs before 2026-12-02 (late morning). */
    rssPeak?: Record<string, number>;
    dbBytesBefore: number;
    dbBytesOpen: number;
    latency: Record<string, LatencySummary>;
  };
  onePasswordPerGrant: Array<{
    mode: string;
    readsPerGrant: number;
    writesPerGrant: number;
    perOperation: Record<string, number>;
  }>;
  passed: boolean;
}

interface ChaosReport {
  startedAt: string;
  seconds: number;
  machine: MachineInfo;
  settings: { requests: number; kills: number; restarts: number; cluster?: boolean };
  faults: Record<string, number>;
  counts: Record<string, number>;
  finalStatuses: Record<string, number>;
  clientsSaw: Record<string, number>;
  unplannedExits: string[];
  timeline: Array<{ at: string; event: string }>;
  onePassword: {
    shareLinks: number;
    rotations: number;
    appliedThenFailed?: number;
    counters: { faulted: Record<string, number> };
  };
  operator?: Record<string, number>;
  reconcile?: { missingSeenMidRun: number; finalPass?: { drifts: Array<{ kind: string; action: string }> } };
  largestHistory?: { events: number; workflowId: string };
  passed: boolean;
}

interface HostileReport {
  startedAt: string;
  seconds: number;
  machine: MachineInfo;
  /** `checks`: what schemathesis was asked to check (`all` with --all-checks). */
  settings: { maxExamples: number; seed: number; checks: string };
  schemathesis: { version: string; runs: Array<{ label: string; cases: number; status5xx: number; exitCode: number }> };
  operations: number;
  cases: { schemathesis: number; latchkey: number; total: number };
  responses5xx: number;
  stateChanges: string[];
  ownFailures: unknown[];
  passed: boolean;
}

const out: string[] = [];
const benches = (flags.bench ?? [newest('bench')])
  .map((file) => load<BenchReport>(file))
  .filter((b) => b !== undefined);
const bench = benches[0];
const chaos = load<ChaosReport>(flags.chaos ?? newest('chaos'));
const hostile = load<HostileReport>(flags.hostile ?? newest('hostile'));

if (bench) {
  const s = bench.settings;
  const cluster = s.cluster === true;
  out.push(
    `### \`npm run bench${cluster ? ' -- --cluster' : ''}\` (${bench.startedAt.slice(0, 16).replace('T', ' ')} UTC, ` +
      `${bench.seconds} s)`,
  );
  out.push('');
  out.push(`Machine: ${machineLine(bench.machine)}.`);
  if (cluster) {
    out.push(
      'Against the production shape: two workers and two API instances (the calls take them in turn), on a ' +
        'Temporal server backed by PostgreSQL, with mTLS.',
    );
  }
  out.push(
    `Settings: ${s.samples} samples, local 1Password latency ${s.opLatencyMs} ms, ${s.concurrency} starters, ` +
      `${s.grantSeconds} s grants for ${s.throughputSeconds} s${
        Number(s.throughputSlices ?? 1) > 1 ? ` in ${s.throughputSlices} slices, the runs taking turns` : ''
      }, ${s.open} requests held open. ` +
      `Result: ${bench.passed ? 'passed' : 'FAILED'}.`,
  );
  if (bench.localOnePasswordCall) {
    out.push(
      `One local 1Password call: p50 ${bench.localOnePasswordCall.p50} ms, p95 ${bench.localOnePasswordCall.p95} ms.`,
    );
  }
  out.push('');
  out.push(row(['latency (ms)', 'API p50', 'p95', 'p99', 'client p50', 'p95', 'p99', 'API / client (p50)']));
  out.push(row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
  for (const [label, key] of [
    ['create', 'create'],
    ['approve → ACTIVE', 'approveToActive'],
    ['query (GET one)', 'query'],
    ['list (20, ACTIVE)', 'list'],
  ]) {
    const a = bench.latency.api[key];
    const d = bench.latency.direct[key];
    out.push(row([label, a.p50, a.p95, a.p99, d.p50, d.p95, d.p99, (a.p50 / d.p50).toFixed(2)]));
  }
  out.push('');
  const t = bench.throughput;
  const shape = bench.lifecycleShape;
  out.push(
    `Throughput of whole lifecycles (${shape.activities} activities: ${Object.entries(shape.activityTypes)
      .map(([k, v]) => `${k} ×${v}`)
      .join(', ')}; ${shape.timers} timers; ${s.grantSeconds} s hold):`,
  );
  out.push('');
  out.push(row(['run', 'started', 'completed', 'lifecycles/s', 'steady closes/s']));
  out.push(row(['---', '---:', '---:', '---:', '---:']));
  const runs: Array<[string, Throughput | undefined]> = [
    ['latchkey, Temporal client', t.latchkey],
    ['do-nothing baseline, Temporal client', t.baseline],
    ['latchkey, through the API', t.latchkeyThroughApi],
  ];
  for (const [label, x] of runs) {
    if (x) out.push(row([label, x.started, x.completed, x.lifecyclesPerSecond, x.steadyClosesPerSecond]));
  }
  out.push('');
  const bySlice =
    t.latchkey.slices && t.baseline.slices && t.latchkey.slices.length > 1
      ? ` By slice: ${t.latchkey.slices.map((rate, i) => (rate / t.baseline.slices![i]).toFixed(2)).join(', ')}.`
      : '';
  out.push(`latchkey / baseline: **${t.ratio}**.${bySlice}`);
  out.push('');
  const cpuProcesses: Array<[string, string]> = [
    ['worker', 'worker'],
    ['baselineWorker', "baseline's worker"],
    ['api', 'API'],
    ['temporal', 'Temporal server'],
    ['bench', 'load generator'],
  ];
  if (runs.some(([, x]) => x?.cpuMsPerLifecycle)) {
    out.push('CPU time per completed lifecycle (ms), by process:');
    out.push('');
    out.push(row(['run', ...cpuProcesses.map(([, label]) => label), 'all']));
    out.push(row(['---', ...cpuProcesses.map(() => '---:'), '---:']));
    for (const [label, x] of runs) {
      const cpu = x?.cpuMsPerLifecycle;
      if (!cpu) continue;
      const all = cpuProcesses.reduce((sum, [key]) => sum + (cpu[key] ?? 0), 0);
      out.push(row([label, ...cpuProcesses.map(([key]) => cpu[key] ?? '—'), Math.round(all)]));
    }
    out.push('');
  }
  const threads: Array<[string, Throughput | undefined, string]> = [
    ['latchkey, Temporal client', t.latchkey, 'worker'],
    ['do-nothing baseline, Temporal client', t.baseline, 'baselineWorker'],
  ];
  if (threads.some(([, x, key]) => x?.cpuMsPerLifecycle?.[`${key}:main`] !== undefined)) {
    out.push(
      "The worker's CPU per lifecycle (ms) by thread (threads alive at the run's end; one that ended takes its time along):",
    );
    out.push('');
    out.push(row(['run', 'main thread', "Node's other threads", 'Temporal core (Rust)']));
    out.push(row(['---', '---:', '---:', '---:']));
    for (const [label, x, key] of threads) {
      const cpu = x?.cpuMsPerLifecycle;
      if (cpu) out.push(row([label, ...THREAD_KINDS.map((kind) => cpu[`${key}:${kind}`] ?? '—')]));
    }
    out.push('');
  }
  const o = bench.open;
  out.push(
    `${o.open} requests held open (pending approval; made through the API in ${o.createSeconds} s, ${o.createsPerSecond}/s${o.catchUpSeconds === undefined ? '' : `, the worker caught up ${o.catchUpSeconds} s later`}):`,
  );
  out.push('');
  const peak = o.rssPeak;
  out.push(row(['', 'before', `with ${o.open} open`, ...(peak ? ['highest while open'] : [])]));
  out.push(row(['---', '---:', '---:', ...(peak ? ['---:'] : [])]));
  const both = cluster ? ' (both)' : '';
  const rssRow = (label: string, name: string) =>
    row([label, mib(o.rssBefore[name]), mib(o.rssOpen[name]), ...(peak ? [mib(peak[name])] : [])]);
  out.push(rssRow(`worker RSS${both}`, 'worker'));
  out.push(rssRow(`API RSS${both}`, 'api'));
  out.push(rssRow(cluster ? 'Temporal server RSS' : 'Temporal dev server RSS', 'temporal'));
  out.push(
    row([
      cluster ? 'PostgreSQL data directory' : 'SQLite database (with WAL)',
      mib(o.dbBytesBefore),
      mib(o.dbBytesOpen),
      ...(peak ? [''] : []),
    ]),
  );
  out.push('');
  out.push(row(['read while open (ms)', 'p50', 'p95', 'p99']));
  out.push(row(['---', '---:', '---:', '---:']));
  for (const [label, v] of Object.entries(o.latency)) out.push(row([label, v.p50, v.p95, v.p99]));
  out.push('');
  out.push(row(['1Password calls per whole lifecycle', 'reads', 'writes', 'per operation']));
  out.push(row(['---', '---:', '---:', '---']));
  for (const m of bench.onePasswordPerGrant) {
    const ops = Object.entries(m.perOperation)
      .map(([op, n]) => `${op} ${n}`)
      .join(', ');
    out.push(row([m.mode, m.readsPerGrant, m.writesPerGrant, ops]));
  }
  out.push('');
}

if (benches.length > 1) {
  out.push(`Headline figures of ${benches.length} runs with these settings, one after another, and their median:`);
  out.push('');
  const headline = (b: BenchReport): Array<[string, number | undefined]> => {
    const ratio = (key: string) => b.latency.api[key].p50 / b.latency.direct[key].p50;
    return [
      ['latchkey / baseline', b.throughput.ratio],
      ['approve → ACTIVE p99 (client)', b.latency.direct.approveToActive.p99],
      ['API / client: create', ratio('create')],
      ['approve', ratio('approveToActive')],
      ['query', ratio('query')],
      ['list', ratio('list')],
      [`worker RSS, ${b.open.open} open (MiB)`, b.open.rssOpen.worker / 2 ** 20],
      ['highest (MiB)', b.open.rssPeak && b.open.rssPeak.worker / 2 ** 20],
    ];
  };
  const figures = benches.map(headline);
  out.push(row(['run', ...figures[0].map(([label]) => label)]));
  out.push(row(['---', ...figures[0].map(() => '---:')]));
  benches.forEach((b, i) => {
    out.push(row([b.startedAt.slice(11, 16) + ' UTC', ...figures[i].map(([, value]) => value?.toFixed(2) ?? '—')]));
  });
  // Over the runs that have the figure (older runs lack some).
  const median = figures[0].map((_, column) => {
    const values = figures.flatMap((f) => f[column][1] ?? []).sort((a, b) => a - b);
    if (values.length === 0) return undefined;
    const middle = Math.floor(values.length / 2);
    return values.length % 2 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
  });
  out.push(row(['**median**', ...median.map((value) => (value === undefined ? '—' : `**${value.toFixed(2)}**`))]));
  out.push('');
}

if (chaos) {
  const c = chaos.counts;
  out.push(
    `### \`npm run chaos -- ${chaos.settings.cluster ? '--cluster ' : ''}--requests ${chaos.settings.requests} ` +
      `--kills ${chaos.settings.kills} --restarts ${chaos.settings.restarts}\` ` +
      `(${chaos.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${chaos.seconds} s)`,
  );
  out.push('');
  out.push(`Machine: ${machineLine(chaos.machine)}. Result: ${chaos.passed ? 'passed' : 'FAILED'}.`);
  // The cluster run's first line says what it ran on and which processes each fault took.
  const shape = chaos.timeline.filter((e) => /^(SIGKILL|stopping PostgreSQL|restarting the Temporal)/.test(e.event));
  if (chaos.settings.cluster) {
    out.push(
      `Two workers and two API instances on a Temporal server backed by PostgreSQL, with mTLS. Faults in order: ` +
        `${shape.map((e) => e.event.replace(/ \(.*\)$/, '')).join('; ')}.`,
    );
  }
  const faulted = Object.values(chaos.onePassword.counters.faulted).reduce((a, b) => a + b, 0);
  out.push(
    `Final statuses: ${Object.entries(chaos.finalStatuses)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}. The local 1Password refused ${faulted} calls by injected faults; clients saw ` +
      `${chaos.clientsSaw.http5xx} 5xx answers and ${chaos.clientsSaw.network} network errors (all retried); ` +
      `${chaos.unplannedExits.length} unplanned process exits.`,
  );
  if (chaos.operator) {
    const o = chaos.operator;
    out.push(
      `An operator terminated ${o.terminations} requests, reset ${o.resets}, terminated ${o.leaseTerminations} ` +
        `vault lease(s), deleted ${o.vaultDeletions} vault and revoked the token ${o.tokenRevocations} time(s); ` +
        `1Password applied ${chaos.onePassword.appliedThenFailed ?? 0} writes and then failed them.`,
    );
  }
  if (chaos.reconcile) {
    const drifts = chaos.reconcile.finalPass?.drifts ?? [];
    out.push(
      `Reconciler: ${chaos.reconcile.missingSeenMidRun} active grant(s) without their permission seen mid-run; ` +
        `the final pass found ${drifts.length} drift(s)` +
        (drifts.length ? ` (${drifts.map((d) => `${d.kind}: ${d.action}`).join(', ')})` : '') +
        '.',
    );
  }
  if (chaos.largestHistory) {
    out.push(`Largest history: ${chaos.largestHistory.events} events (${chaos.largestHistory.workflowId}).`);
  }
  const recoveries = chaos.timeline.filter((e) => e.event.startsWith('the API answered a read again'));
  if (recoveries.length) {
    out.push(
      `After each server restart the API answered reads again in: ${recoveries
        .map((e) => /again ([\d.]+) s/.exec(e.event)?.[1] + ' s')
        .join(', ')}.`,
    );
  }
  out.push('');
  out.push(row(['check', 'count']));
  out.push(row(['---', '---:']));
  for (const [label, key] of [
    ['requests', 'requests'],
    ['acknowledged by the API', 'acknowledged'],
    ['workflows found', 'workflows'],
    ['never accepted', 'notAccepted'],
    ['**requests lost**', 'lost'],
    ['unfinished at the end', 'unfinished'],
    ['unexpected end (e.g. FAILED)', 'unexpectedEnd'],
    ['**grants left behind after their end**', 'grantsLeftBehind'],
    ['active grants without their permission (mid-run)', 'activeGrantsWithoutPermission'],
    ['**duplicate effective grants**', 'duplicateGrants'],
    ['share links nobody received (answer lost, accounted for)', 'unreceivedLinks'],
    ['rotations repeated after a lost answer', 'extraRotations'],
  ]) {
    out.push(row([label, c[key] ?? '—']));
  }
  out.push('');
}

if (hostile) {
  const allChecks = hostile.settings.checks === 'all';
  out.push(
    `### \`npm run hostile${allChecks ? ' -- --all-checks' : ''}\` (${hostile.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${hostile.seconds} s)`,
  );
  out.push('');
  out.push(
    `Machine: ${machineLine(hostile.machine)}. schemathesis ${hostile.schemathesis.version}, ` +
      `${hostile.settings.maxExamples} examples per operation, seed ${hostile.settings.seed}, ${hostile.operations} operations, ` +
      `checks: ${allChecks ? 'all' : hostile.settings.checks}. ` +
      `Result: ${hostile.passed ? 'passed' : 'FAILED'}.`,
  );
  out.push('');
  out.push(row(['suite', 'cases', '5xx']));
  out.push(row(['---', '---:', '---:']));
  for (const r of hostile.schemathesis.runs) out.push(row([`schemathesis as ${r.label}`, r.cases, r.status5xx]));
  out.push(row(["latchkey's own cases (tokens and crafted inputs)", hostile.cases.latchkey, '—']));
  out.push(row(['**total**', `**${hostile.cases.total}**`, `**${hostile.responses5xx}**`]));
  out.push('');
  out.push(
    `Unexplained state changes: ${hostile.stateChanges.length}; own cases answered other than expected: ${hostile.ownFailures.length}.`,
  );
  out.push('');
}

process.stdout.write(out.join('\n'));
