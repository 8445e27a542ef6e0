/**
 * What a worker process should start with, for its launchers (`npm start`, the image, the bench) to add to its
 * environment: glibc reads it as the process starts, before any of the worker's code could set it.
 *
 * `MALLOC_ARENA_MAX=2`: glibc gives threads that allocate at once arenas of their own, up to eight per core, and
 * keeps in each what was freed there. A worker's threads (Node's, the workflow thread, the Temporal core's) held
 * 4 to 56 MiB more that way in the runs measured, for no CPU measured in return (docs/benchmarks.md). A value
 * already set wins.
 */
export function workerProcessEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX ?? '2' };
}
