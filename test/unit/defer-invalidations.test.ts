import { describe, expect, it } from 'vitest';
import { createCache, MemoryStore } from '../../src/index.js';
import { ChaosStore } from '../../src/testing/index.js';
import { deferred, quietLogger } from '../helpers/stores.js';

/** A cache over a ChaosStore (so store calls can be counted), a database, and its wrappers. */
function blog() {
  const chaos = new ChaosStore(new MemoryStore());
  const cache = createCache({ store: chaos, logger: quietLogger });
  const db = new Map<string, string>([
    ['a', 'A0'],
    ['b', 'B0'],
  ]);
  let loads = 0;
  const getPost = cache.cacheable(
    async (slug: string) => {
      loads += 1;
      return db.get(slug) ?? null;
    },
    { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
  );
  const updatePost = cache.invalidating(
    async (slug: string, title: string) => {
      db.set(slug, title);
      return title;
    },
    { patterns: ['posts:{{slug}}:*'], context: (slug) => ({ slug }) },
  );
  const cached = (slug: string) => chaos.inner.get(`quickpost:posts:${slug}`) !== undefined;
  return { chaos, cache, db, getPost, updatePost, cached, loads: () => loads };
}

describe('cache.deferInvalidations', () => {
  it('holds the invalidations asked inside the scope until it resolves, then runs each once', async () => {
    const { chaos, cache, getPost, updatePost, cached } = blog();
    const deletes = () =>
      chaos.calls.delete + chaos.calls.deletePattern + chaos.calls.deleteTracked;
    // What one invalidation of the pattern sends to the store, outside any scope.
    let before = deletes();
    await updatePost('a', 'A0');
    const one = deletes() - before;
    await getPost('a');
    const commit = deferred<void>();
    const scope = cache.deferInvalidations(async () => {
      await updatePost('a', 'A1');
      await updatePost('a', 'A2');
      await cache.deletePattern('posts:{{slug}}:*', { slug: 'a' });
      await commit.promise;
      return 'done';
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Until the scope resolves (the transaction commits), the entry stays.
    expect(cached('a')).toBe(true);
    before = deletes();
    commit.resolve();
    expect(await scope).toBe('done');
    expect(cached('a')).toBe(false);
    // Three requests of one pattern: what one sends.
    expect(deletes() - before).toBe(one);
  });

  it('runs none of them when the scope throws (the transaction rolled back)', async () => {
    const { cache, getPost, updatePost, cached } = blog();
    await getPost('a');
    const failure = new Error('rolled back');
    await expect(
      cache.deferInvalidations(async () => {
        await updatePost('a', 'A1');
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(cached('a')).toBe(true);
  });

  it('lets a scope inside a scope join the outer one', async () => {
    const { cache, getPost, updatePost, cached } = blog();
    await getPost('a');
    await getPost('b');
    await cache.deferInvalidations(async () => {
      await cache.deferInvalidations(() => updatePost('a', 'A1'));
      expect(cached('a')).toBe(true);
      await updatePost('b', 'B1');
    });
    expect([cached('a'), cached('b')]).toEqual([false, false]);
  });

  it('reads its own writes inside the scope: keys it will invalidate skip the cache, others hit', async () => {
    const { cache, getPost, updatePost, loads } = blog();
    await getPost('a');
    await getPost('b');
    const before = loads();
    await cache.deferInvalidations(async () => {
      await updatePost('a', 'A1');
      expect(await getPost('a')).toBe('A1');
      expect(await getPost('b')).toBe('B0');
    });
    expect(loads() - before).toBe(1);
  });

  it('does not make callers outside the scope skip the cache while it is open', async () => {
    const { cache, getPost, updatePost, loads } = blog();
    await getPost('a');
    const inside = deferred<void>();
    const commit = deferred<void>();
    const scope = cache.deferInvalidations(async () => {
      await updatePost('a', 'A1');
      inside.resolve();
      await commit.promise;
    });
    await inside.promise;
    const before = loads();
    // Not committed yet: another request still sees the cached (and committed) value.
    expect(await getPost('a')).toBe('A0');
    expect(loads()).toBe(before);
    commit.resolve();
    await scope;
    expect(await getPost('a')).toBe('A1');
  });

  it('answers false and 0 at once for manual deletes inside the scope, and deletes after it', async () => {
    const { cache, getPost, cached } = blog();
    await getPost('a');
    await getPost('b');
    await cache.deferInvalidations(async () => {
      expect(await cache.delete('posts:{{slug}}', { slug: 'a' })).toBe(false);
      expect(await cache.deletePattern('posts:*')).toBe(0);
      expect(cached('a')).toBe(true);
    });
    expect([cached('a'), cached('b')]).toEqual([false, false]);
  });

  it('keeps a held invalidation the store refuses at the end pending, and retries it until confirmed', async () => {
    const { chaos, cache, getPost, updatePost, cached } = blog();
    await getPost('a');
    chaos.fail(['deletePattern', 'deleteTracked']);
    const result = await cache.deferInvalidations(() => updatePost('a', 'A1'));
    expect(result).toBe('A1');
    expect(cached('a')).toBe(true);
    // This instance does not serve the key meanwhile.
    expect(await getPost('a')).toBe('A1');
    chaos.heal();
    await expect.poll(() => cached('a'), { timeout: 2000 }).toBe(false);
  });

  it('runs the function of a synchronous scope and answers with a promise of its value', async () => {
    const { cache } = blog();
    await expect(cache.deferInvalidations(() => 42)).resolves.toBe(42);
  });
});
