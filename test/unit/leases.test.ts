import { describe, expect, it } from 'vitest';
import {
  type AtomicStore,
  type CacheEventMap,
  createCache,
  MemoryStore,
  type Store,
  StoreUnavailableError,
} from '../../src/index.js';
import { ChaosStore } from '../../src/testing/index.js';
import { deferred, recordingLogger } from '../helpers/stores.js';

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

describe('one computation per key across cache instances (leases)', () => {
  it('runs the function once for callers of two caches sharing one MemoryStore', async () => {
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

  it('keeps a lease alive while its holder computes longer than lease.ttl, for each of several holders', async () => {
    const store = new MemoryStore();
    const options = { store, lease: { ttl: 60, wait: 2000 } };
    const [a, b] = [createCache(options), createCache(options)];
    const gate = deferred<void>();
    const runs: string[] = [];
    async function load(slug: string) {
      runs.push(slug);
      await gate.promise;
      return slug;
    }
    const wrap = (cache: typeof a) =>
      cache.cacheable(load, { key: 'posts:{{slug}}', context: (slug) => ({ slug }) });
    const [getA, getB] = [wrap(a), wrap(b)];
    // a holds two leases, taken at different times; b arrives once both are 5 lease TTLs old.
    const first = getA('one');
    await new Promise((resolve) => setTimeout(resolve, 25));
    const second = getA('two');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const waiting = [getB('one'), getB('two')];
    await new Promise((resolve) => setTimeout(resolve, 50));
    gate.resolve();
    expect(await Promise.all([first, second, ...waiting])).toEqual(['one', 'two', 'one', 'two']);
    expect(runs).toEqual(['one', 'two']);
  });

  it('lets callers waiting for a lease compute themselves, without an error, when its holder fails', async () => {
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

  it('does not hand a value computed without a lease (its wait ran out) to callers arriving after an invalidation in another instance', async () => {
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
});

describe('leases when the store is slow or failing', () => {
  it('removes a lease whose request timed out but reached the store late, so nobody waits for it', async () => {
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

  it('removes its lease when the fill that should replace it fails', async () => {
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
});

describe('a miss takes the lease in its read (leasing read)', () => {
  async function setUp() {
    const chaos = new ChaosStore(new MemoryStore());
    const cache = createCache({ store: chaos });
    let runs = 0;
    const get = cache.cacheable(
      async (id: string) => {
        runs += 1;
        return `v${id}`;
      },
      { key: 'k:{{id}}', context: (id) => ({ id }) },
    );
    // The first lease of a cache asks the store's permission first, through the usual path.
    await get('first');
    const before = { ...chaos.calls };
    const sent = () =>
      Object.fromEntries(
        Object.entries(chaos.calls)
          .map(([method, n]) => [method, n - before[method as keyof typeof before]])
          .filter(([, n]) => n !== 0),
      );
    return { chaos, cache, get, sent, runs: () => runs };
  }

  it('reads a new key and takes its lease in one call, then fills: no separate lease request', async () => {
    const { get, sent, runs } = await setUp();
    expect(await get('a')).toBe('va');
    // get counts the leasing read; the index write goes out beside it; the fill replaces the lease.
    expect(sent()).toEqual({ get: 1, track: 1, compareAndSet: 1 });
    expect(runs()).toBe(2);
    expect(await get('a')).toBe('va');
    expect(sent()).toEqual({ get: 2, track: 1, compareAndSet: 1 });
  });

  it('reads a key it found present with a plain read, and again with a leasing read once an invalidation removed it', async () => {
    const { chaos, cache, get, sent } = await setUp();
    const inner = chaos.inner;
    let leasingReads = 0;
    const original = inner.getOrLease.bind(inner);
    inner.getOrLease = (key, lease, ttlMs) => {
      leasingReads += 1;
      return original(key, lease, ttlMs);
    };
    await get('b');
    expect(leasingReads).toBe(1);
    await get('b');
    expect(leasingReads).toBe(1);
    await cache.delete('k:{{id}}', { id: 'b' });
    expect(await get('b')).toBe('vb');
    expect(leasingReads).toBe(2);
    expect(sent().setIfAbsent).toBeUndefined();
  });

  it('shares one leasing read among callers arriving before it is sent: one of them computes', async () => {
    const { get, sent, runs } = await setUp();
    expect(await Promise.all([get('c'), get('c'), get('c')])).toEqual(['vc', 'vc', 'vc']);
    expect(runs()).toBe(2);
    expect(sent()).toEqual({ get: 1, track: 1, compareAndSet: 1 });
  });

  it('releases the lease and computes alone when the index write beside the read fails', async () => {
    const { chaos, get, sent } = await setUp();
    chaos.fail('track');
    expect(await get('d')).toBe('vd');
    expect(sent()).toMatchObject({ get: 1, track: 1, compareAndDelete: 1 });
    expect(sent().compareAndSet).toBeUndefined();
    expect(chaos.inner.get('quickpost:k:d')).toBeUndefined();
  });

  it('releases a lease whose read timed out, so that nobody waits for it', async () => {
    const { chaos, get } = await setUp();
    chaos.delay('get', 400);
    expect(await get('e')).toBe('ve');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(chaos.inner.get('quickpost:k:e')).toBeUndefined();
  });
});
