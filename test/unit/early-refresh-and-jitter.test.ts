import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCache, MemoryStore } from '../../src/index.js';
import { AsyncMemoryStore } from '../helpers/stores.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Lets pending promise callbacks run (also under fake timers). */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await Promise.resolve();
}

describe('TTL jitter and probabilistic early refresh (XFetch)', () => {
  it('shortens each entry’s TTL by a random fraction up to `jitter`', async () => {
    const store = new MemoryStore();
    const cache = createCache({ store });
    const get = cache.cacheable((id: number) => id, {
      key: 'n:{{id}}',
      context: (id) => ({ id }),
      ttl: 100,
      jitter: 0.2,
    });
    const now = Date.now();
    const expiries = Array.from({ length: 50 }, (_, id) => {
      get(id);
      return Number((store.get(`quickpost:n:${id}`) as string).split('|')[1]) - now;
    });
    expect(Math.min(...expiries)).toBeGreaterThanOrEqual(80_000 - 50);
    expect(Math.max(...expiries)).toBeLessThanOrEqual(100_000 + 50);
    expect(new Set(expiries).size).toBeGreaterThan(40);
  });

  it('refreshes a hot key before it expires when XFetch says so', async () => {
    vi.useFakeTimers();
    const cache = createCache({ store: new AsyncMemoryStore() });
    let version = 0;
    const get = cache.cacheable(
      async () => {
        version += 1;
        await new Promise((resolve) => setTimeout(resolve, 2000));
        return version;
      },
      { key: 'k', ttl: 60, earlyRefresh: true },
    );
    const first = get();
    await vi.advanceTimersByTimeAsync(2000);
    expect(await first).toBe(1);
    // 50 s into a 60 s TTL, a 2 s computation, random 0.001: 2 s × −ln(0.001) ≈ 13.8 s ≥ 10 s left.
    await vi.advanceTimersByTimeAsync(50_000);
    vi.spyOn(Math, 'random').mockReturnValue(0.001);
    expect(await get()).toBe(1);
    await vi.advanceTimersByTimeAsync(2001);
    expect(await get()).toBe(2);
  });

  it('does not refresh early when far from expiry', async () => {
    vi.useFakeTimers();
    const cache = createCache();
    const load = vi.fn(async () => 1);
    const get = cache.cacheable(load, { key: 'k', ttl: 60, earlyRefresh: true });
    await get();
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    for (let i = 0; i < 20; i += 1) await get();
    await flush();
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('lets an early refresh finish even when it outlasts the entry’s remaining time', async () => {
    vi.useFakeTimers();
    const cache = createCache({ store: new AsyncMemoryStore() });
    const misses: string[] = [];
    cache.on('miss', ({ key }) => misses.push(key));
    let version = 0;
    const get = cache.cacheable(
      async () => {
        version += 1;
        await new Promise((resolve) => setTimeout(resolve, 3000));
        return version;
      },
      { key: 'k', ttl: 10, earlyRefresh: true },
    );
    const first = get();
    await vi.advanceTimersByTimeAsync(3000);
    await first;
    await vi.advanceTimersByTimeAsync(9000);
    vi.spyOn(Math, 'random').mockReturnValue(0.001);
    expect(await get()).toBe(1);
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    await vi.advanceTimersByTimeAsync(3001);
    expect(await get()).toBe(2);
    expect(misses).toEqual(['quickpost:k']);
  });
});
