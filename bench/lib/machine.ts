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
