import { afterEach, describe, expect, it, vi } from 'vitest';
import { type CacheEventMap, createCache } from '../../src/index.js';
import { AsyncMemoryStore, deferred, recordingLogger } from '../helpers/stores.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Lets pending promise callbacks run (also under fake timers). */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await Promise.resolve();
}

describe('stale-while-revalidate', () => {
  it('serves the stale value at once while one caller refreshes it in the background', async () => {
    vi.useFakeTimers();
    const cache = createCache({ store: new AsyncMemoryStore() });
    let version = 0;
    const refreshed = deferred<void>();
    const load = vi.fn(async () => {
      version += 1;
      if (version === 2) refreshed.resolve();
      return version;
    });
    const get = cache.cacheable(load, { key: 'counter', ttl: 10, staleTtl: 60 });
    expect(await get()).toBe(1);
    await vi.advanceTimersByTimeAsync(11_000);
    const stale = await Promise.all([get(), get(), get()]);
    expect(stale).toEqual([1, 1, 1]);
    await refreshed.promise;
    await vi.advanceTimersByTimeAsync(1);
    expect(await get()).toBe(2);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('keeps serving the stale value when the refresh fails, and reports it', async () => {
    vi.useFakeTimers();
    const logger = recordingLogger();
    const cache = createCache({ store: new AsyncMemoryStore(), logger });
    let fail = false;
    const get = cache.cacheable(
      async () => {
        if (fail) throw new Error('db down');
        return 'v1';
      },
      { key: 'k', ttl: 10, staleTtl: 60 },
    );
    const errors: CacheEventMap['error'][] = [];
    cache.on('error', (event) => errors.push(event));
    await get();
    fail = true;
    await vi.advanceTimersByTimeAsync(11_000);
    expect(await get()).toBe('v1');
    await vi.advanceTimersByTimeAsync(1);
    expect(errors).toEqual([expect.objectContaining({ operation: 'refresh', key: 'quickpost:k' })]);
    expect(await get()).toBe('v1');
  });

  it('stops serving a stale value after the grace', async () => {
    vi.useFakeTimers();
    const cache = createCache();
    let version = 0;
    const get = cache.cacheable(async () => ++version, { key: 'k', ttl: 10, staleTtl: 5 });
    await get();
    await vi.advanceTimersByTimeAsync(15_001);
    expect(await get()).toBe(2);
  });

  it('never resurrects invalidated data from the grace period', async () => {
    vi.useFakeTimers();
    const cache = createCache({ store: new AsyncMemoryStore() });
    let row = 'old';
    const get = cache.cacheable(async () => row, { key: 'posts:a', ttl: 10, staleTtl: 600 });
    const update = cache.invalidating(
      async (text: string) => {
        row = text;
      },
      { patterns: ['posts:a:*'] },
    );
    await get();
    await vi.advanceTimersByTimeAsync(11_000);
    await update('new');
    expect(await get()).toBe('new');
  });

  it('refreshes a synchronous function’s stale value after answering', async () => {
    vi.useFakeTimers();
    const cache = createCache();
    let version = 0;
    const get = cache.cacheable(() => ++version, { key: 'k', ttl: 10, staleTtl: 60 });
    expect(get()).toBe(1);
    vi.advanceTimersByTime(11_000);
    expect(get()).toBe(1);
    await flush();
    expect(get()).toBe(2);
  });
});
