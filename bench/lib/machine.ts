import * as fs from 'node:fs';
import * as os from 'node:os';

/** The machine a figure came from: figures mean nothing without it. */
export interface MachineInfo {
  cpuModel: string;
  nproc: number;
  memoryGiB: number;
  node: string;
  platform: string;
  kernel: string;
}

export function machineInfo(): MachineInfo {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) cpuModel = match[1].trim();
  } catch {
    // not Linux
  }
  return {
    cpuModel,
    nproc: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
  };
}

export function describeMachine(info: MachineInfo): string {
  return `${info.nproc} CPU (${info.cpuModel}), ${info.memoryGiB} GiB, node ${info.node}, ${info.platform} ${info.kernel}`;
}

/** USER_HZ: the unit of /proc/<pid>/stat's times, fixed at 100 by the kernel's ABI. */
const CLOCK_TICKS_PER_SECOND = 100;

/** A process's threads by kind: see `processCpuSecondsByThread`. */
export const THREAD_KINDS = ['main', 'node', 'core'] as const;
export type ThreadKind = (typeof THREAD_KINDS)[number];

/**
 * CPU time a process has used so far (every thread, user and system) in seconds, from /proc (Linux): the
 * difference over a phase says where that phase's time went. Undefined once the process is gone.
 */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    return cpuSecondsFromStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The same by kind of thread, for the threads alive now (a thread that ended takes its time along): the main
 * thread, Node's other threads (a worker's workflow thread, V8's collector and compiler helpers, libuv's pool),
 * and threads Node did not name, the Temporal core's Rust runtime in a worker. No profiler is involved, whose
 * shares can disagree with what a change saves (the SDK's promise hook, docs/benchmarks.md).
 */
export function processCpuSecondsByThread(pid: number): Record<ThreadKind, number> | undefined {
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  const seconds: Record<ThreadKind, number> = { main: 0, node: 0, core: 0 };
  for (const tid of tids) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended while we read
    }
    // Field 2, in parentheses: the thread's name (Linux keeps its first 15 characters).
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const kind: ThreadKind = Number(tid) === pid ? 'main' : name === 'node' ? 'node' : 'core';
    seconds[kind] += cpuSecondsFromStat(stat);
  }
  return seconds;
}

/** utime and stime of a /proc stat line (fields 14 and 15), in seconds. */
export function cpuSecondsFromStat(stat: string): number {
  // The command name (field 2) may hold spaces and parentheses; the fields after the last ") " do not.
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}
