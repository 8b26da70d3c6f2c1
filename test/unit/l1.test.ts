/**
 * The in-process tier (`l1`): hits without a store read, coherent through the store's change
 * notifications (MemoryStore notifies in process; RedisStore through Redis: test/redis/l1.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { createCache, MemoryStore } from '../../src/index.js';
import { ChaosStore } from '../../src/testing/index.js';

const settle = () => new Promise((resolve) => setImmediate(resolve));

function twoInstances(l1: Parameters<typeof createCache>[0] extends infer O ? O : never = {}) {
  const shared = new ChaosStore(new MemoryStore());
  const db = new Map([['a', { title: 'v1' }]]);
  const make = () => {
    const cache = createCache({ store: shared, l1: true, ...l1 });
    const getPost = cache.cacheable(async (slug: string) => db.get(slug), {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    return { cache, getPost };
  };
  return { shared, db, a: make(), b: make() };
}

describe('the in-process tier', () => {
  it('serves hits without reading the store', async () => {
    const { shared, a } = twoInstances();
    await settle();
    await a.getPost('a');
    await a.getPost('a');
    const reads = shared.calls.get;
    for (let i = 0; i < 10; i += 1) expect(await a.getPost('a')).toEqual({ title: 'v1' });
    expect(shared.calls.get).toBe(reads);
  });

  it('drops a value another instance changes, through the store’s notifications', async () => {
    const { db, a, b } = twoInstances();
    await settle();
    await a.getPost('a');
    await a.getPost('a');
    db.set('a', { title: 'v2' });
    await b.cache.deletePattern('posts:{{slug}}:*', { slug: 'a' });
    expect(await a.getPost('a')).toEqual({ title: 'v2' });
    await b.cache.set('posts:{{slug}}', { title: 'v3' }, { context: { slug: 'a' } });
    expect(await a.getPost('a')).toEqual({ title: 'v3' });
  });

  it('applies this instance’s own invalidations and sets at once', async () => {
    const { db, a } = twoInstances();
    await settle();
    await a.getPost('a');
    await a.getPost('a');
    db.set('a', { title: 'v2' });
    await a.cache.delete('posts:{{slug}}', { slug: 'a' });
    expect(await a.getPost('a')).toEqual({ title: 'v2' });
    await a.cache.set('posts:{{slug}}', { title: 'v3' }, { context: { slug: 'a' } });
    expect(await a.getPost('a')).toEqual({ title: 'v3' });
  });

  it('keeps nothing from a read whose key changed while its reply was on its way', async () => {
    const { shared, db, a, b } = twoInstances();
    await settle();
    await a.getPost('a');
    const held = shared.hold('get', { when: (key) => key === 'quickpost:posts:a' });
    const read = a.getPost('a');
    await held.reached;
    // The store already answered v1; the change, and its notification, overtake that reply.
    db.set('a', { title: 'v2' });
    await b.cache.set('posts:{{slug}}', { title: 'v2' }, { context: { slug: 'a' } });
    held.release();
    expect(await read).toEqual({ title: 'v1' });
    expect(await a.getPost('a')).toEqual({ title: 'v2' });
  });

  it('hands out frozen values by default, fresh copies with values: decoded', async () => {
    const frozen = twoInstances();
    await settle();
    await frozen.a.getPost('a');
    const first = (await frozen.a.getPost('a')) as { title: string };
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => {
      first.title = 'mutated';
    }).toThrow(TypeError);
    expect(await frozen.a.getPost('a')).toEqual({ title: 'v1' });

    const decoded = twoInstances({ l1: { values: 'decoded' } });
    await settle();
    await decoded.a.getPost('a');
    const one = (await decoded.a.getPost('a')) as { title: string };
    one.title = 'mutated';
    expect(await decoded.a.getPost('a')).toEqual({ title: 'v1' });
  });

  it('keeps a wrapper with l1: false out of it', async () => {
    const store = new ChaosStore(new MemoryStore());
    const cache = createCache({ store, l1: true });
    const load = cache.cacheable(async () => 1, { key: 'k', l1: false });
    await settle();
    await load();
    const reads = store.calls.get;
    await load();
    await load();
    expect(store.calls.get).toBe(reads + 2);
  });

  it('keeps values l1.ttl at most on a store without change notifications', async () => {
    const inner = new MemoryStore();
    const store = {
      get: (key: string) => inner.get(key),
      set: (key: string, value: string, ttl: number) => inner.set(key, value, ttl),
      delete: (key: string) => inner.delete(key),
      deletePattern: (pattern: string) => inner.deletePattern(pattern),
    };
    const cache = createCache({ store, l1: { ttl: 50 } });
    let value = 1;
    const load = cache.cacheable(() => value, { key: 'k' });
    await load();
    await load();
    // Changed around the cache: the tier does not know, for 50 ms at most.
    value = 2;
    inner.delete('quickpost:k');
    expect(await load()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await load()).toBe(2);
  });
});
