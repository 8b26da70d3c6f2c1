// What is synchronous on a synchronous store beyond what the cache-behaviour suite checks on every
// store (test/unit/behaviour.test.ts): functions that turn out async, and computations in flight.
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/index.js';

describe('sync and async on a synchronous store', () => {
  it('keeps a synchronous wrapper synchronous while an async computation of its key is in flight', async () => {
    const cache = createCache();
    const slow = cache.getOrSet('users:1', async () => ({ id: 1 }));
    const getUser = cache.cacheable((id: number) => ({ id }), {
      key: 'users:{{id}}',
      context: (id) => ({ id }),
    });
    expect(getUser(1)).toEqual({ id: 1 });
    await slow;
    expect(getUser(2)).toEqual({ id: 2 });
  });

  it('switches a wrapper to promises once its plain function turns out to return one', async () => {
    const cache = createCache();
    const load = (id: number) => Promise.resolve({ id });
    const getUser = cache.cacheable(load, { key: 'users:{{id}}', context: (id) => ({ id }) });
    const miss = getUser(1);
    expect(miss).toBeInstanceOf(Promise);
    await miss;
    const hit = getUser(1);
    expect(hit).toBeInstanceOf(Promise);
    expect(await hit).toEqual({ id: 1 });
  });

  it('shares and caches a `getOrSet` computation whose plain function returns a promise', async () => {
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

  it('rejects an async wrapper’s call, and throws from a sync wrapper’s, when the context lacks a placeholder', async () => {
    const cache = createCache();
    const asyncGet = cache.cacheable(async (_slug: string) => 1, {
      key: 'posts:{{slug}}',
      context: () => ({}) as { slug: string },
    });
    await expect(asyncGet('a')).rejects.toMatchObject({ code: 'E_MISSING_CONTEXT_VALUE' });
    const syncGet = cache.cacheable((_slug: string) => 1, {
      key: 'posts:{{slug}}',
      context: () => ({}) as { slug: string },
    });
    expect(() => syncGet('a')).toThrow(expect.objectContaining({ placeholder: 'slug' }));
  });
});
