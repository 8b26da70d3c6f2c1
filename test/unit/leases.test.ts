import { describe, expect, it } from 'vitest';
import {
  type AtomicStore,
  type CacheEventMap,
  createCache,
  MemoryStore,
  type Store,
  StoreUnavailableError,
} from '../../src/index.js';
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
