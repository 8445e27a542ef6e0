import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { cpuSecondsFromStat, processCpuSeconds, processCpuSecondsByThread } from './machine';

describe('CPU time from /proc', () => {
  it('reads utime and stime after the name, whatever the name holds', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
    const stat = '4242 (odd ) name (x)) S 1 4242 4242 0 -1 4194560 10 0 0 0 250 75 0 0 20 0 12 0';
    expect(cpuSecondsFromStat(stat)).toBeCloseTo(3.25);
  });

  it('is undefined for a process that is gone', () => {
    expect(processCpuSeconds(2 ** 22 + 1)).toBeUndefined();
    expect(processCpuSecondsByThread(2 ** 22 + 1)).toBeUndefined();
  });

  it("counts a worker thread's time under Node's other threads, not the main thread", async () => {
    // The thread spins until the process has used 300 ms more CPU (the main thread meanwhile only waits), then
    // waits to be ended, so that it is alive when read.
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const used = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
       const start = used();
       while (used() - start < 300) {}
       parentPort.postMessage('spun');
       setInterval(() => {}, 1000);`,
      { eval: true },
    );
    const before = processCpuSecondsByThread(process.pid)!;
    await once(worker, 'message');
    const after = processCpuSecondsByThread(process.pid)!;
    await worker.terminate();

    const nodeGain = after.node - before.node;
    const mainGain = after.main - before.main;
    // Ticks are 10 ms; the main thread's share of the 300 ms is its wait.
    expect(nodeGain).toBeGreaterThan(0.2);
    expect(nodeGain).toBeGreaterThan(mainGain);
    const total = processCpuSeconds(process.pid)!;
    expect(after.main + after.node + after.core).toBeLessThanOrEqual(total + 0.02);
  });
});
