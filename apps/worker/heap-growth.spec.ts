import { execFileSync } from 'node:child_process';
import { heapGrowingFlag, WORKER_HEAP_GROWING_PERCENT } from './heap-growth';

/**
 * A heap with 30-odd MiB of live data whose garbage lives long enough to reach the old generation (batches kept
 * for a while, as a worker keeps a workflow task's objects): prints the largest heap seen, in MiB, after setting
 * the flag given (if any) the way the worker does, once the process runs.
 */
const CHURN = `
const v8 = require('node:v8');
if (process.argv[1]) v8.setFlagsFromString(process.argv[1]);
const live = Array.from({ length: 200000 }, (_, i) => ({ i, s: 'x'.repeat(50) + i }));
const ring = new Array(64);
let peak = 0;
for (let round = 0; round < 3000; round++) {
  ring[round % ring.length] = Array.from({ length: 1000 }, (_, i) => ({ a: [i, i + 1], s: 'y' + i }));
  if (round % 10 === 0) peak = Math.max(peak, v8.getHeapStatistics().total_heap_size);
}
process.stdout.write(String(Math.round(peak / 1048576)));
`;

function peakHeapMib(flag?: string): number {
  return Number(execFileSync(process.execPath, ['-e', CHURN, flag ?? ''], { encoding: 'utf8' }));
}

describe('heapGrowingFlag', () => {
  it('bounds the heap growth when the command line says nothing of it', () => {
    expect(heapGrowingFlag([])).toBe(`--heap-growing-percent=${WORKER_HEAP_GROWING_PERCENT}`);
    expect(heapGrowingFlag(['--enable-source-maps'])).toBe(`--heap-growing-percent=${WORKER_HEAP_GROWING_PERCENT}`);
  });

  it('leaves a value given on the command line', () => {
    expect(heapGrowingFlag(['--heap-growing-percent=200'])).toBeUndefined();
    expect(heapGrowingFlag(['--heap-growing-percent', '200'])).toBeUndefined();
  });

  it('takes effect when set in a running process, keeping the heap far smaller than V8 alone would', () => {
    const unbounded = peakHeapMib();
    const bounded = peakHeapMib(heapGrowingFlag([]));
    // Measured here: about 316 MiB against 157.
    expect(bounded).toBeLessThan(unbounded * 0.75);
  });
});
