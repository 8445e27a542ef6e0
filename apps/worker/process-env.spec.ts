import { workerProcessEnv } from './process-env';

describe('workerProcessEnv', () => {
  it('gives the worker two malloc arenas', () => {
    expect(workerProcessEnv({ PATH: '/usr/bin' })).toEqual({ MALLOC_ARENA_MAX: '2' });
  });

  it('leaves a value the operator set', () => {
    expect(workerProcessEnv({ MALLOC_ARENA_MAX: '4' })).toEqual({ MALLOC_ARENA_MAX: '4' });
  });
});
