import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type AtomicStore,
  type CacheEventMap,
  createCache,
  InvalidationError,
  MemoryStore,
  type Store,
  StoreUnavailableError,
} from '../../src/index.js';
import { AsyncMemoryStore, ChaosStore, deferred, recordingLogger } from '../helpers/stores.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Lets pending promise callbacks run (also under fake timers). */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await Promise.resolve();
}

describe('fail-open with bounded latency', () => {
  it('answers from the function once the store has not answered within `timeout`', async () => {
    vi.useFakeTimers();
    const store = new ChaosStore({ hanging: ['get', 'set'] });
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
    const cache = createCache({ store: new ChaosStore({ hanging: ['set'] }), timeout: 100 });
    const write = cache.set('k', 1);
    const check = expect(write).rejects.toMatchObject({
      code: 'E_STORE_UNAVAILABLE',
      reason: 'timeout',
    });
    await vi.advanceTimersByTimeAsync(110);
    await check;
  });

  it('opens the breaker after repeated failures, skips the store, and closes when it answers', async () => {
    vi.useFakeTimers();
    const store = new ChaosStore({ failing: ['get'] });
    const logger = recordingLogger();
    const cache = createCache({ store, logger, breaker: { failures: 3, cooldown: 1000 } });
    const states: CacheEventMap['breaker'][] = [];
    cache.on('breaker', (event) => states.push(event));
    const load = vi.fn(async (id: number) => id);
    const get = cache.cacheable(load, { key: 'n:{{id}}', context: (id) => ({ id }) });
    const getCalls = vi.spyOn(store, 'get');
    for (let i = 0; i < 3; i += 1) expect(await get(i)).toBe(i);
    expect(states.map((event) => event.state)).toEqual(['open']);
    expect(getCalls).toHaveBeenCalledTimes(3);
    for (let i = 0; i < 5; i += 1) expect(await get(i)).toBe(i);
    expect(getCalls).toHaveBeenCalledTimes(3);
    expect(logger.lines.warn).toContainEqual(expect.stringContaining('BREAKER OPEN'));
    store.failing.clear();
    await vi.advanceTimersByTimeAsync(1001);
    expect(await get(1)).toBe(1);
    expect(getCalls).toHaveBeenCalledTimes(4);
    expect(states.map((event) => event.state)).toEqual(['open', 'closed']);
    await get(1);
    expect(await get(1)).toBe(1);
    expect(load).toHaveBeenCalledTimes(3 + 5 + 1);
  });

  it('reports an invalidation that failed after its mutation, or throws with invalidationErrors', async () => {
    const logger = recordingLogger();
    const store = new ChaosStore({ failing: ['deletePattern', 'delete'] });
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
    expect(error).toMatchObject({ result, patterns: ['quickpost:posts:a:*'], cause: store.error });
  });
});

/**
 * An atomic store that runs its operations one after another, as one Redis connection does, and
 * can delay lease requests (SET NX) past the cache's timeout: the request still lands, late.
 */
class SerialStore implements Store, AtomicStore {
  readonly inner = new MemoryStore();
  leaseDelayMs = 0;
  #queue: Promise<unknown> = Promise.resolve();

  #run<T>(operation: () => T, delayMs = 0): Promise<T> {
    const next = this.#queue.then(async () => {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      return operation();
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  get = (key: string) => this.#run(() => this.inner.get(key));
  set = (key: string, value: string, ttlMs: number) =>
    this.#run(() => this.inner.set(key, value, ttlMs));
  delete = (key: string) => this.#run(() => this.inner.delete(key));
  deletePattern = (pattern: string) => this.#run(() => this.inner.deletePattern(pattern));
  setIfAbsent = (key: string, value: string, ttlMs: number) =>
    this.#run(() => this.inner.setIfAbsent(key, value, ttlMs), this.leaseDelayMs);
  compareAndSet = (key: string, expected: string, value: string, ttlMs: number | undefined) =>
    this.#run(() => this.inner.compareAndSet(key, expected, value, ttlMs));
  compareAndDelete = (key: string, expected: string) =>
    this.#run(() => this.inner.compareAndDelete(key, expected));
}

describe('leases when the store is slow', () => {
  it('removes a lease whose request timed out but landed late, so nobody waits for it', async () => {
    const store = new SerialStore();
    store.leaseDelayMs = 150;
    const cache = createCache({ store, timeout: 50, logger: recordingLogger() });
    const waits: CacheEventMap['wait'][] = [];
    cache.on('wait', (event) => waits.push(event));
    const get = cache.cacheable(async () => 'value', { key: 'k' });
    expect(await get()).toBe('value');
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(store.inner.get('quickpost:k')).toBeUndefined();
    store.leaseDelayMs = 0;
    expect(await get()).toBe('value');
    expect(waits).toEqual([]);
  });
});

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

describe('TTL jitter and early refresh', () => {
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
});

describe('events', () => {
  it('report hits, misses, sets and invalidations with the key template', async () => {
    const cache = createCache();
    const seen: string[] = [];
    for (const name of ['hit', 'miss', 'set', 'invalidate'] as const) {
      cache.on(name, (event) => {
        seen.push(`${name} ${event.source.template} ${'key' in event ? event.key : event.pattern}`);
      });
    }
    const get = cache.cacheable(async (slug: string) => slug, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    const update = cache.invalidating(async (_slug: string) => undefined, {
      patterns: ['posts:{{slug}}:*'],
      context: (slug) => ({ slug }),
    });
    await get('a');
    await get('a');
    await update('a');
    expect(seen).toEqual([
      'miss posts:{{slug}} quickpost:posts:a',
      'set posts:{{slug}} quickpost:posts:a',
      'hit posts:{{slug}} quickpost:posts:a',
      'invalidate posts:{{slug}}:* quickpost:posts:a:*',
    ]);
  });

  it('stop after the listener is removed, and isolate a throwing listener', async () => {
    const logger = recordingLogger();
    const cache = createCache({ logger });
    const hits = vi.fn();
    const off = cache.on('hit', hits);
    cache.on('miss', () => {
      throw new Error('listener bug');
    });
    const get = cache.cacheable(() => 1, { key: 'k' });
    expect(get()).toBe(1);
    get();
    off();
    get();
    expect(hits).toHaveBeenCalledTimes(1);
    expect(logger.lines.error).toEqual([expect.stringContaining('an event listener threw')]);
  });
});

describe('bad stored data', () => {
  it('treats an unknown format version as a miss, deletes it and reports it', async () => {
    const store = new MemoryStore();
    const cache = createCache({ store });
    const invalid: CacheEventMap['invalid'][] = [];
    cache.on('invalid', (event) => invalid.push(event));
    store.set('quickpost:k', '\x019j|9999999999999|0|"from the future"', 60_000);
    expect(cache.getOrSet('k', () => 'fresh')).toBe('fresh');
    expect(invalid).toEqual([
      expect.objectContaining({ key: 'quickpost:k', reason: 'unreadable entry' }),
    ]);
    expect(cache.get('k')).toBe('fresh');
  });

  it('cannot pollute prototypes through __proto__ or constructor keys', () => {
    const store = new MemoryStore();
    const cache = createCache({ store });
    const hostile =
      '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"nested":{"__proto__":{"polluted":1}}}';
    store.set('quickpost:k', `\x011j|9999999999999|0|${hostile}`, 60_000);
    const value = cache.get<Record<string, unknown>>('k') as Record<string, unknown>;
    const merged = deepMerge({}, value);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(merged).not.toHaveProperty('polluted');
    expect(Object.keys(value)).toEqual(['nested']);
  });
});

/** A naive deep merge, as applications write them: the kind prototype pollution exploits. */
function deepMerge(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
): Record<string, unknown> {
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (typeof value === 'object' && value !== null) {
      const next = (target[key] ?? {}) as Record<string, unknown>;
      target[key] = deepMerge(next, value as Record<string, unknown>);
    } else {
      target[key] = value;
    }
  }
  return target;
}

describe('stampede protection on a shared in-process store', () => {
  it('runs an async loader once for callers of two caches sharing one MemoryStore', async () => {
    const store = new MemoryStore();
    const [a, b] = [createCache({ store }), createCache({ store })];
    const gate = deferred<string>();
    let runs = 0;
    async function load() {
      runs += 1;
      return gate.promise;
    }
    const getA = a.cacheable(load, { key: 'hot' });
    const getB = b.cacheable(load, { key: 'hot' });
    const calls = [getA(), getB(), getA(), getB()];
    await new Promise((resolve) => setTimeout(resolve, 30));
    gate.resolve('v');
    expect(await Promise.all(calls)).toEqual(['v', 'v', 'v', 'v']);
    expect(runs).toBe(1);
  });

  it('unblocks waiters with StoreUnavailableError-free results when the holder fails', async () => {
    const store = new MemoryStore();
    const [a, b] = [createCache({ store }), createCache({ store })];
    const failing = a.cacheable(
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error('db down');
      },
      { key: 'k' },
    );
    const first = failing();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = b.cacheable(async () => 'ok', { key: 'k' })();
    await expect(first).rejects.toThrow('db down');
    const value = await second;
    expect(value).toBe('ok');
    expect(value).not.toBeInstanceOf(StoreUnavailableError);
  });
});

describe('review findings on leases and decoding', () => {
  it('does not hand a value computed without a lease to callers that arrive after an invalidation elsewhere', async () => {
    const store = new MemoryStore();
    const holder = createCache({ store });
    const reader = createCache({ store, lease: { wait: 10 } });
    const writer = createCache({ store });
    let row = 'v1';
    const holding = deferred<void>();
    const releaseHolder = deferred<void>();
    const hold = holder.cacheable(
      async () => {
        holding.resolve();
        await releaseHolder.promise;
        return 'holder';
      },
      { key: 'posts:a' },
    );
    const reading = deferred<void>();
    const finishRead = deferred<void>();
    let first = true;
    const read = reader.cacheable(
      async () => {
        const seen = row;
        if (first) {
          first = false;
          reading.resolve();
          await finishRead.promise;
        }
        return seen;
      },
      { key: 'posts:a' },
    );
    const update = writer.invalidating(
      async () => {
        row = 'v2';
      },
      { patterns: ['posts:a:*'] },
    );
    const held = hold();
    await holding.promise;
    const early = read();
    await reading.promise;
    await update();
    const late = read();
    finishRead.resolve();
    expect(await early).toBe('v1');
    expect(await late).toBe('v2');
    releaseHolder.resolve();
    await held;
  });

  it('caches and shares getOrSet of a plain function returning a promise on a synchronous store', async () => {
    const cache = createCache();
    let runs = 0;
    const compute = () => {
      runs += 1;
      return new Promise<string>((resolve) => setTimeout(() => resolve('v'), 10));
    };
    const results = await Promise.all([cache.getOrSet('k', compute), cache.getOrSet('k', compute)]);
    expect(results).toEqual(['v', 'v']);
    expect(await cache.getOrSet('k', compute)).toBe('v');
    expect(runs).toBe(1);
  });

  it('leaves no lease behind when the fill fails', async () => {
    const store = new SerialStore();
    const cache = createCache({ store, logger: recordingLogger() });
    const cas = store.compareAndSet;
    store.compareAndSet = async () => {
      throw new Error('fill failed');
    };
    const get = cache.cacheable(async () => 'v', { key: 'k' });
    expect(await get()).toBe('v');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(store.inner.get('quickpost:k')).toBeUndefined();
    store.compareAndSet = cas;
  });

  it('treats an entry with a corrupt expiry as unreadable, deletes and reports it', () => {
    const store = new MemoryStore();
    const cache = createCache({ store });
    const invalid: CacheEventMap['invalid'][] = [];
    cache.on('invalid', (event) => invalid.push(event));
    store.set('quickpost:k', '\x011j|oops|0|"old"', 60_000);
    const get = cache.cacheable(() => 'fresh', { key: 'k' });
    expect(get()).toBe('fresh');
    expect(invalid).toEqual([expect.objectContaining({ reason: 'unreadable entry' })]);
    expect(cache.get('k')).toBe('fresh');
  });

  it('drops __proto__ written with escapes, and keeps ordinary constructor fields', () => {
    const store = new MemoryStore();
    const cache = createCache({ store });
    store.set(
      'quickpost:a',
      '\x011j|9999999999999|0|{"\\u005f_proto__":{"polluted":1},"x":1}',
      60_000,
    );
    const value = cache.get<Record<string, unknown>>('a') as Record<string, unknown>;
    deepMerge({}, value);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(value).toEqual({ x: 1 });
    cache.set('b', { team: 'a', constructor: { name: 'Ferrari' } });
    expect(cache.get('b')).toEqual({ team: 'a', constructor: { name: 'Ferrari' } });
  });

  it('keeps a synchronous store synchronous when it throws (no breaker promises)', () => {
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
