import { OnePasswordError } from '../port';
import { RateBudget, TEAMS_LIMITS } from './rate-budget';

describe(RateBudget.name, () => {
  let now: number;
  let slept: number[];
  const make = (options: ConstructorParameters<typeof RateBudget>[0] = {}): RateBudget =>
    new RateBudget({
      now: () => now,
      sleep: (ms) => {
        slept.push(ms);
        now += ms;
        return Promise.resolve();
      },
      ...options,
    });

  beforeEach(() => {
    now = 10_000_000;
    slept = [];
  });

  it('lets requests through without waiting while under budget', async () => {
    const sut = make();
    for (let n = 0; n < 50; n++) await sut.acquire('read');
    expect(slept).toEqual([]);
    expect(await sut.snapshot()).toMatchObject({ readsLastHour: 50, writesLastHour: 0, requestsLastDay: 50 });
  });

  it('keeps headroom below the hourly limit and waits for the oldest request to leave the window', async () => {
    const sut = make({
      limits: { readsPerHour: 100, writesPerHour: 10, requestsPerDay: 10_000 },
      headroom: 0.1,
      maxWaitMs: 3_600_000,
    });
    for (let n = 0; n < 9; n++) {
      await sut.acquire('write');
      now += 1_000;
    }
    await sut.acquire('write');
    expect((await sut.snapshot()).writesAllowedPerHour).toBe(9);
    expect(slept).toEqual([3_600_000 - 9_000]);
    expect(await sut.snapshot()).toMatchObject({ waits: 1, writesLastHour: 9 });
  });

  it('refuses as rate-limited with retry-after when the wait would exceed the longest wait', async () => {
    const sut = make({ limits: TEAMS_LIMITS, headroom: 0, maxWaitMs: 1_000 });
    for (let n = 0; n < 100; n++) await sut.acquire('write');
    const error = await sut.acquire('write').then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(OnePasswordError);
    expect(error).toMatchObject({ kind: 'rate-limited', retryAfterMs: 3_600_000 });
    expect((await sut.snapshot()).refusals).toBe(1);
    await sut.acquire('read');
  });

  it('counts the daily account limit across reads and writes', async () => {
    const sut = make({
      limits: { readsPerHour: 1_000, writesPerHour: 1_000, requestsPerDay: 4 },
      headroom: 0,
      maxWaitMs: 86_400_000,
    });
    await sut.acquire('read');
    await sut.acquire('write');
    await sut.acquire('read');
    await sut.acquire('write');
    await sut.acquire('read');
    expect(slept).toEqual([86_400_000]);
  });

  it('forgets requests older than the window', async () => {
    const sut = make();
    await sut.acquire('read');
    now += 3_600_001;
    expect(await sut.snapshot()).toMatchObject({ readsLastHour: 0, requestsLastDay: 1 });
  });

  it('after 1Password said "rate limited", waits until its hourly window resets: an hour after its first request', async () => {
    const sut = make();
    await sut.acquire('read');
    now += 20 * 60_000;
    await sut.acquire('write');
    now += 10 * 60_000;
    expect(await sut.penalize()).toBe(30 * 60_000);
    expect((await sut.snapshot()).blockedUntil).toBe(new Date(now + 30 * 60_000).toISOString());
    await expect(sut.acquire('read')).rejects.toMatchObject({ kind: 'rate-limited', retryAfterMs: 30 * 60_000 });
    now += 30 * 60_000;
    await sut.acquire('read');
    expect(slept).toEqual([]);
  });

  it('waits a minute at least when it counted no request in the window (another user spent it)', async () => {
    const sut = make();
    expect(await sut.penalize()).toBe(60_000);
    expect(await sut.snapshot()).toMatchObject({ rateLimitedBy1Password: 1 });
  });
});
