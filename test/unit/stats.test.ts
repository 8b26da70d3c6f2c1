import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type CacheStats,
  createCache,
  InvalidOptionError,
  MemoryStore,
  type TemplateStats,
} from '../../src/index.js';
import { ChaosStore } from '../../src/testing/index.js';
import { AsyncMemoryStore, quietLogger } from '../helpers/stores.js';

afterEach(() => {
  vi.useRealTimers();
});

/** Counters all zero, with some set. */
function counters(some: Partial<TemplateStats> = {}): TemplateStats {
  return {
    hits: 0,
    misses: 0,
    staleServed: 0,
    loads: 0,
    loadErrors: 0,
    loadMs: undefined,
    errors: 0,
    invalidations: 0,
    keysRemoved: 0,
    ...some,
  };
}

/** The counters without `loadMs`, which depends on the clock. */
function counts(stats: TemplateStats | undefined): Omit<TemplateStats, 'loadMs'> | undefined {
  if (stats === undefined) return undefined;
  const { loadMs: _, ...rest } = stats;
  return rest;
}

describe('cache.stats()', () => {
  it('counts hits, misses and loads per key template, and for the whole cache', async () => {
    const cache = createCache({ store: new AsyncMemoryStore() });
    const getPost = cache.cacheable(async (slug: string) => ({ slug }), {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    const getUser = cache.cacheable(async (id: number) => ({ id }), {
      key: 'users:{{id}}',
      context: (id) => ({ id }),
    });
    cache.cacheable(async () => 'never called', { key: 'unused' });
    await getPost('a');
    await getPost('a');
    await getPost('a');
    await getPost('b');
    await getUser(1);
    await cache.get('manual:key');
    await cache.getOrSet('manual:other', async () => 1);

    const stats = cache.stats();
    expect(Object.keys(stats.templates)).toEqual(['posts:{{slug}}', 'users:{{id}}', 'unused']);
    expect(counts(stats.templates['posts:{{slug}}'])).toEqual(
      counts(counters({ hits: 2, misses: 2, loads: 2 })),
    );
    expect(counts(stats.templates['users:{{id}}'])).toEqual(
      counts(counters({ misses: 1, loads: 1 })),
    );
    expect(stats.templates.unused).toEqual(counters());
    // The manual API counts in the totals only: one miss of `get`, one miss and load of `getOrSet`.
    expect(counts(stats.totals)).toEqual(counts(counters({ hits: 2, misses: 5, loads: 4 })));
    expect(stats.totals.loadMs).toEqual({
      p50: expect.any(Number),
      p99: expect.any(Number),
      max: expect.any(Number),
    });
  });

  it('counts hits from the in-process tier as hits', async () => {
    const cache = createCache({ store: new MemoryStore(), l1: true });
    const reads: string[] = [];
    cache.on('hit', ({ key }) => reads.push(key));
    const get = cache.cacheable((slug: string) => slug.toUpperCase(), {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    // Wait for the tier to go live (the store's change notifications start asynchronously).
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(get('a')).toBe('A');
    expect(get('a')).toBe('A'); // from the store, now kept in the tier
    const storeGets = vi.spyOn(cache.store, 'get');
    expect(get('a')).toBe('A');
    expect(get('a')).toBe('A');
    expect(storeGets).not.toHaveBeenCalled();
    expect(cache.stats().templates['posts:{{slug}}']?.hits).toBe(3);
    expect(reads).toHaveLength(3);
  });

  it('counts stale values served, and the refresh as a load', async () => {
    vi.useFakeTimers();
    const cache = createCache({ store: new AsyncMemoryStore() });
    const get = cache.cacheable(async () => 'v', { key: 'counter', ttl: 10, staleTtl: 60 });
    await get();
    await vi.advanceTimersByTimeAsync(11_000);
    await get();
    await vi.advanceTimersByTimeAsync(1);
    expect(counts(cache.stats().templates.counter)).toEqual(
      counts(counters({ misses: 1, staleServed: 1, loads: 2 })),
    );
  });

  it('times loads: p50, p99 and the longest, in ms', async () => {
    vi.useFakeTimers();
    const cache = createCache({ store: new AsyncMemoryStore() });
    const get = cache.cacheable(
      async (ms: number) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return ms;
      },
      { key: 'slow:{{ms}}', context: (ms) => ({ ms }) },
    );
    // 98 loads of 10 ms, one of 40 ms, one of 2,000 ms.
    const durations = [...Array.from({ length: 98 }, () => 10), 40, 2000];
    for (const [i, ms] of durations.entries()) {
      const pending = get(ms + i / 1000);
      await vi.advanceTimersByTimeAsync(ms + 1);
      await pending;
    }
    const loadMs = cache.stats().templates['slow:{{ms}}']?.loadMs;
    // Fake timers make each load take exactly its delay (±1 ms); the histogram's estimate is
    // within 9% of it.
    expect(loadMs?.p50).toBeGreaterThanOrEqual(10 * 0.91);
    expect(loadMs?.p50).toBeLessThanOrEqual(11 * 1.09);
    expect(loadMs?.p99).toBeGreaterThanOrEqual(40 * 0.91);
    expect(loadMs?.p99).toBeLessThanOrEqual(41 * 1.09);
    expect(loadMs?.max).toBeGreaterThanOrEqual(2000);
    expect(loadMs?.max).toBeLessThanOrEqual(2001);
  });

  it('counts failed loads and failed store calls', async () => {
    const store = new ChaosStore(new MemoryStore());
    const cache = createCache({ store, logger: quietLogger, breaker: false });
    const get = cache.cacheable(
      async (slug: string) => {
        if (slug === 'bad') throw new Error('db down');
        return slug;
      },
      { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
    );
    await expect(get('bad')).rejects.toThrow('db down');
    store.fail('get');
    expect(await get('a')).toBe('a');
    const stats = cache.stats().templates['posts:{{slug}}'];
    expect(counts(stats)).toEqual(
      counts(counters({ misses: 2, loads: 2, loadErrors: 1, errors: 1 })),
    );
  });

  it('attributes invalidations and the keys they removed to the templates their pattern can match', async () => {
    const cache = createCache({ store: new MemoryStore() });
    const getPost = cache.cacheable((slug: string) => slug, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    const getComments = cache.cacheable((slug: string) => [slug], {
      key: 'posts:{{slug}}:comments',
      context: (slug) => ({ slug }),
    });
    const getList = cache.cacheable((page: number) => [page], {
      key: 'posts:list:{{page}}',
      context: (page) => ({ page }),
    });
    cache.cacheable(() => 'x', { key: 'users:{{id}}', context: () => ({ id: 1 }) });
    getPost('a');
    getComments('a');
    getPost('b');
    getList(1);
    getList(2);
    const updatePost = cache.invalidating(async (_slug: string) => undefined, {
      patterns: ['posts:{{slug}}:*', 'posts:list:*'],
      context: (slug) => ({ slug }),
    });
    await updatePost('a');
    // The manual API's invalidations are attributed the same way; one that can match no
    // template counts in the totals only.
    await cache.delete('posts:{{slug}}', { slug: 'b' });
    await cache.deletePattern('other:*');

    const { templates, totals } = cache.stats();
    // `posts:a:*` removed posts:a and posts:a:comments (2 keys): it can match the first two
    // templates. `posts:list:*` removed the two list pages: it can match all three `posts`
    // templates (`posts:list` and `posts:list:comments` are keys of the first two, with the slug
    // `list`). `posts:b` removed one key, of the first template.
    expect(templates['posts:{{slug}}']).toMatchObject({ invalidations: 3, keysRemoved: 5 });
    expect(templates['posts:{{slug}}:comments']).toMatchObject({
      invalidations: 2,
      keysRemoved: 4,
    });
    expect(templates['posts:list:{{page}}']).toMatchObject({ invalidations: 1, keysRemoved: 2 });
    expect(templates['users:{{id}}']).toMatchObject({ invalidations: 0, keysRemoved: 0 });
    expect(totals).toMatchObject({ invalidations: 4, keysRemoved: 5 });
  });

  it('starts again from zero after stats({ reset: true }), which answers the counters before', async () => {
    const cache = createCache({ store: new AsyncMemoryStore() });
    const get = cache.cacheable(async () => 1, { key: 'k' });
    const made = cache.stats().since;
    await get();
    await get();
    const before: CacheStats = cache.stats({ reset: true });
    expect(before.since).toBe(made);
    expect(before.templates.k).toMatchObject({ hits: 1, misses: 1, loads: 1 });
    const after = cache.stats();
    expect(after.since).toBeGreaterThanOrEqual(made);
    expect(after.templates.k).toEqual(counters());
    expect(after.totals).toEqual(counters());
    await get();
    expect(cache.stats().templates.k).toMatchObject({ hits: 1, misses: 0 });
  });

  it('is off with `stats: false`: stats() throws an InvalidOptionError naming the option', () => {
    const cache = createCache({ stats: false });
    expect(() => cache.stats()).toThrow(InvalidOptionError);
    expect(() => cache.stats()).toThrow(/`stats: false`/);
    try {
      cache.stats();
    } catch (error) {
      expect((error as InvalidOptionError).option).toBe('stats');
    }
    expect(() => createCache({ stats: 'yes' as unknown as boolean })).toThrow(
      /`stats` must be true or false/,
    );
  });
});
