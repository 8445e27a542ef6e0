import * as v8 from 'node:v8';

/**
 * How far V8 lets a heap grow past what its last full collection kept, in percent: 50 lets it reach 1.5 times its
 * live data before collecting again. Left to itself V8 chooses up to 4 times when collecting is cheap, and a
 * worker's is (its live data is small: 40–45 MiB in each of its two heaps with thousands of requests open): under
 * load the worker held about 460 MiB, most of it garbage awaiting a collection, and 250–280 MiB once idle. With
 * 50 it peaked at 357 MiB for no CPU measured in return (docs/benchmarks.md). Unlike a heap limit it never stops
 * the worker: a heap whose live data grows still grows with it.
 */
export const WORKER_HEAP_GROWING_PERCENT = 50;

const FLAG = '--heap-growing-percent';

/**
 * The V8 flag to set, or undefined when the process was started with one of its own (Node refuses this flag in
 * NODE_OPTIONS, so the command line is where an operator sets another).
 */
export function heapGrowingFlag(execArgv: readonly string[]): string | undefined {
  const given = execArgv.some((arg) => arg === FLAG || arg.startsWith(`${FLAG}=`));
  return given ? undefined : `${FLAG}=${WORKER_HEAP_GROWING_PERCENT}`;
}

/**
 * Sets the worker's heap growth before its heaps fill: V8 reads the flag at every full collection, and it is
 * process-wide, so it also holds for the workflow thread the SDK starts later.
 */
export function boundWorkerHeapGrowth(): void {
  const flag = heapGrowingFlag(process.execArgv);
  if (flag) v8.setFlagsFromString(flag);
}
