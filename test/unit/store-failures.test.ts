import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type CacheEventMap,
  createCache,
  InvalidationError,
  MemoryStore,
  type Store,
} from '../../src/index.js';
import { ChaosStore } from '../../src/testing/index.js';
import { AsyncMemoryStore, recordingLogger } from '../helpers/stores.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('reads and fills when the store fails', () => {
  // The old in-house chaos store had no atomic writes; ChaosStore keeps the wrapped store's, so
  // both fill paths are checked: a compare-and-set under a lease, and a plain set.
  it.each([
    [
      'with atomic writes, a failing compare-and-set fill',
      () => new MemoryStore(),
      ['compareAndSet'],
    ],
    ['without atomic writes, a failing set fill', () => new AsyncMemoryStore(), ['set']],
  ] as const)(
    'runs the function when a read fails, or %s, returns its result and reports the failure',
    async (_what, inner, fills) => {
      const logger = recordingLogger();
      const store = new ChaosStore(inner()).fail(['get', 'set']);
      const cache = createCache({ store, logger });
      const load = vi.fn(async (slug: string) => `post ${slug}`);
      const getPost = cache.cacheable(load, {
        key: 'posts:{{slug}}',
        context: (slug) => ({ slug }),
      });
      expect(await getPost('a')).toBe('post a');
      expect(await getPost('a')).toBe('post a');
      expect(load).toHaveBeenCalledTimes(2);
      expect(logger.lines.warn).toContainEqual(
        expect.stringContaining('get quickpost:posts:a failed'),
      );
      // Reads answer again; fills fail.
      store.heal();
      store.fail(['set', ...fills]);
      expect(await getPost('b')).toBe('post b');
      expect(logger.lines.warn).toContainEqual(
        expect.stringContaining('set quickpost:posts:b failed'),
      );
      expect(await cache.get('posts:b')).toBeUndefined();
    },
  );

  it('answers synchronously when a synchronous store throws: such a store has no breaker', () => {
    const inner = new MemoryStore();
    const broken: Store & { sync: true } = {
      sync: true,
      get: (key) => inner.get(key),
      set: () => {
        throw new Error('disk full');
      },
      delete: (key) => inner.delete(key),
      deletePattern: (pattern) => inner.deletePattern(pattern),
    };
    const cache = createCache({ store: broken, logger: recordingLogger() });
    for (let i = 0; i < 10; i += 1) expect(() => cache.set('k', 1)).toThrow('disk full');
    expect(cache.deletePattern('k:*')).toBe(0);
  });
});

describe('timeouts: bounded latency when the store hangs', () => {
  it('answers from the function once the store has not answered within `timeout`', async () => {
    vi.useFakeTimers();
    const store = new ChaosStore(new MemoryStore()).hang(['get', 'set']);
    const cache = createCache({ store, timeout: 100, logger: recordingLogger() });
    const getPost = cache.cacheable(async (slug: string) => `post ${slug}`, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    let settled: string | undefined;
    const pending = getPost('a').then((value) => {
      settled = value;
    });
    await vi.advanceTimersByTimeAsync(90);
    expect(settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(20);
    expect(settled).toBe('post a');
    await pending;
  });

  it('rejects a manual write with StoreUnavailableError when the store hangs', async () => {
    vi.useFakeTimers();
    const store = new ChaosStore(new MemoryStore()).hang('set');
    const cache = createCache({ store, timeout: 100 });
    const write = cache.set('k', 1);
    const check = expect(write).rejects.toMatchObject({
      code: 'E_STORE_UNAVAILABLE',
      reason: 'timeout',
    });
    await vi.advanceTimersByTimeAsync(110);
    await check;
  });
});

describe('the circuit breaker', () => {
  it('opens the breaker after repeated failures, skips the store, and closes when it answers', async () => {
    vi.useFakeTimers();
    const store = new ChaosStore(new MemoryStore()).fail('get');
    const logger = recordingLogger();
    const cache = createCache({ store, logger, breaker: { failures: 3, cooldown: 1000 } });
    const states: CacheEventMap['breaker'][] = [];
    cache.on('breaker', (event) => states.push(event));
    const load = vi.fn(async (id: number) => id);
    const get = cache.cacheable(load, { key: 'n:{{id}}', context: (id) => ({ id }) });
    for (let i = 0; i < 3; i += 1) expect(await get(i)).toBe(i);
    expect(states.map((event) => event.state)).toEqual(['open']);
    expect(store.calls.get).toBe(3);
    for (let i = 0; i < 5; i += 1) expect(await get(i)).toBe(i);
    expect(store.calls.get).toBe(3);
    expect(logger.lines.warn).toContainEqual(expect.stringContaining('BREAKER OPEN'));
    store.heal();
    await vi.advanceTimersByTimeAsync(1001);
    expect(await get(1)).toBe(1);
    expect(store.calls.get).toBe(4);
    expect(states.map((event) => event.state)).toEqual(['open', 'closed']);
    await get(1);
    expect(await get(1)).toBe(1);
    expect(load).toHaveBeenCalledTimes(3 + 5 + 1);
  });
});

describe('invalidation after a successful mutation, when the deletes fail', () => {
  it("reports deletes that failed after the mutation succeeded, or throws InvalidationError with `invalidationErrors: 'throw'`", async () => {
    const logger = recordingLogger();
    const down = new Error('store is down');
    const store = new ChaosStore(new MemoryStore()).fail(['deletePattern', 'delete'], {
      error: down,
    });
    const errors: CacheEventMap['error'][] = [];
    const cache = createCache({ store, logger });
    cache.on('error', (event) => errors.push(event));
    const result = { id: 1 };
    const save = cache.invalidating(async (_slug: string) => result, {
      patterns: ['posts:{{slug}}:*'],
      context: (slug) => ({ slug }),
    });
    expect(await save('a')).toBe(result);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      operation: 'invalidate',
      source: { template: 'posts:{{slug}}:*' },
    });
    const strict = cache.invalidating(async (_slug: string) => result, {
      patterns: ['posts:{{slug}}:*'],
      context: (slug) => ({ slug }),
      invalidationErrors: 'throw',
    });
    const error = await strict('a').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidationError);
    expect(error).toMatchObject({ result, patterns: ['quickpost:posts:a:*'], cause: down });
  });
});
