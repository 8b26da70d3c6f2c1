import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/index.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('time to live of cached results', () => {
  it('answers from an entry until exactly its `ttl`, then runs the function again', async () => {
    vi.useFakeTimers();
    const cache = createCache({ ttl: 60 });
    let version = 0;
    const getPost = cache.cacheable(async (slug: string) => `${slug}@${++version}`, {
      key: 'posts:{{slug}}',
      ttl: 10,
      context: (slug) => ({ slug }),
    });
    expect(await getPost('a')).toBe('a@1');
    vi.advanceTimersByTime(9_999);
    expect(await getPost('a')).toBe('a@1');
    vi.advanceTimersByTime(2);
    expect(await getPost('a')).toBe('a@2');
  });

  it('gives a wrapper without `ttl` the cache’s default ttl, to the millisecond', async () => {
    vi.useFakeTimers();
    const cache = createCache({ ttl: 5 });
    let version = 0;
    const get = cache.cacheable(async () => ++version, { key: 'counter' });
    await get();
    vi.advanceTimersByTime(4_999);
    expect(await get()).toBe(1);
    vi.advanceTimersByTime(2);
    expect(await get()).toBe(2);
  });
});
