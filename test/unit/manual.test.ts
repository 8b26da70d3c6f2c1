import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createCache,
  InvalidOptionError,
  MemoryStore,
  MissingContextValueError,
  SerializationError,
  TemplateSyntaxError,
} from '../../src/index.js';
import { ChaosStore } from '../../src/testing/index.js';
import { AsyncMemoryStore, recordingLogger } from '../helpers/stores.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('manual API on the memory store (synchronous)', () => {
  it('gets, sets and deletes with the prefix added once', () => {
    const cache = createCache({ prefix: 'app' });
    expect(cache.get('posts:a')).toBeUndefined();
    cache.set('posts:a', { title: 'A' });
    expect(cache.get('posts:a')).toEqual({ title: 'A' });
    expect(cache.store.get('app:posts:a')).toContain('{"title":"A"}');
    expect(cache.delete('posts:a')).toBe(true);
    expect(cache.delete('posts:a')).toBe(false);
    expect(cache.get('posts:a')).toBeUndefined();
  });

  it('honours a per-call ttl and the default ttl', () => {
    vi.useFakeTimers();
    const cache = createCache({ ttl: 100 });
    cache.set('short', 1, { ttl: 1 });
    cache.set('default', 2);
    vi.advanceTimersByTime(1_001);
    expect(cache.get('short')).toBeUndefined();
    expect(cache.get('default')).toBe(2);
    vi.advanceTimersByTime(99_000);
    expect(cache.get('default')).toBeUndefined();
  });

  it('deletes by pattern, counting keys, with the trailing :* rule', () => {
    const cache = createCache();
    for (const key of ['posts:a', 'posts:a:comments', 'posts:ab', 'posts:b']) cache.set(key, 1);
    expect(cache.deletePattern('posts:a:*')).toBe(2);
    expect(cache.get('posts:ab')).toBe(1);
    expect(cache.deletePattern('posts:*')).toBe(2);
    expect(cache.deletePattern('posts:*')).toBe(0);
  });

  it('getOrSet computes once and then reads', () => {
    const cache = createCache();
    const compute = vi.fn(() => ({ n: 1 }));
    expect(cache.getOrSet('k', compute)).toEqual({ n: 1 });
    expect(cache.getOrSet('k', compute)).toEqual({ n: 1 });
    expect(compute).toHaveBeenCalledTimes(1);
  });

  it('getOrSet with an async compute returns a promise and shares concurrent calls', async () => {
    const cache = createCache();
    const compute = vi.fn(async () => 'v');
    const [a, b] = await Promise.all([cache.getOrSet('k', compute), cache.getOrSet('k', compute)]);
    expect([a, b]).toEqual(['v', 'v']);
    expect(compute).toHaveBeenCalledTimes(1);
    const hit = cache.getOrSet('k', compute);
    expect(hit).toBeInstanceOf(Promise);
    expect(await hit).toBe('v');
    expect(compute).toHaveBeenCalledTimes(1);
  });

  it('throws SerializationError for values that cannot be stored', () => {
    const cache = createCache();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => cache.set('k', cyclic)).toThrow(SerializationError);
    expect(() => cache.set('k', cyclic)).toThrow(expect.objectContaining({ key: 'quickpost:k' }));
  });

  it('fills key templates from a context, with the same encoding as the wrappers', () => {
    const cache = createCache();
    const getPost = cache.cacheable((slug: string) => `post ${slug}`, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    getPost('hello world');
    expect(cache.get('posts:{{slug}}', { slug: 'hello world' })).toBe('post hello world');
    cache.set('posts:{{slug}}', 'edited', { context: { slug: 'hello world' }, ttl: 60 });
    expect(getPost('hello world')).toBe('edited');
    expect(cache.getOrSet('posts:{{slug}}', () => 'new', { context: { slug: 'b' } })).toBe('new');
    expect(cache.delete('posts:{{slug}}', { slug: 'b' })).toBe(true);
  });

  it('keeps values from a context literal in patterns', () => {
    const cache = createCache();
    for (const key of ['posts:a', 'posts:a:comments', 'posts:b', 'posts:b:comments'])
      cache.set(key, 1);
    expect(cache.deletePattern('posts:{{slug}}:*', { slug: '*' })).toBe(0);
    expect(cache.deletePattern('posts:{{slug}}:*', { slug: 'a' })).toBe(2);
    expect(cache.get('posts:b')).toBe(1);
  });

  it('rejects malformed keys, missing context values and bad ttls', () => {
    const cache = createCache();
    // @ts-expect-error a malformed literal key is a compile error too
    expect(() => cache.get('')).toThrow(TemplateSyntaxError);
    // @ts-expect-error a malformed literal key is a compile error too
    expect(() => cache.set('posts:*', 1)).toThrow(TemplateSyntaxError);
    expect(() => cache.get('posts:{{slug}}', {} as { slug: string })).toThrow(
      MissingContextValueError,
    );
    expect(() => cache.set('k', 1, { ttl: -1 })).toThrow(
      expect.objectContaining({ option: 'ttl', message: expect.stringContaining('got -1') }),
    );
  });

  it('logs HIT, MISS, SET, DELETE and INVALIDATE in debug mode', () => {
    const logger = recordingLogger();
    const cache = createCache({ logger, debug: true });
    cache.get('a');
    cache.set('a', 1, { ttl: 60 });
    cache.get('a');
    cache.delete('a');
    cache.deletePattern('a:*');
    expect(logger.lines.debug).toEqual([
      '[Cache] MISS: quickpost:a',
      '[Cache] SET: quickpost:a (TTL: 60s)',
      '[Cache] HIT: quickpost:a',
      '[Cache] INVALIDATE: quickpost:a (1 key)',
      '[Cache] DELETE: quickpost:a',
      '[Cache] INVALIDATE: quickpost:a:* (0 keys)',
    ]);
  });
});

describe('manual API on an asynchronous store', () => {
  it('answers with promises', async () => {
    const cache = createCache({ store: new AsyncMemoryStore() });
    const set = cache.set('a', new Date(0));
    expect(set).toBeInstanceOf(Promise);
    await set;
    expect(await cache.get('a')).toEqual(new Date(0));
    expect(await cache.deletePattern('*')).toBe(1);
    expect(await cache.getOrSet('b', () => 2)).toBe(2);
    expect(await cache.delete('b')).toBe(true);
  });

  it('turns thrown argument errors into rejections', async () => {
    const cache = createCache({ store: new AsyncMemoryStore() });
    const empty: string = '';
    await expect(cache.get(empty)).rejects.toBeInstanceOf(TemplateSyntaxError);
    await expect(cache.set('k', 1, { ttl: 0 })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(cache.getOrSet(empty, () => 1)).rejects.toBeInstanceOf(TemplateSyntaxError);
  });

  it('reads through store failures as misses, but rejects failed writes', async () => {
    const logger = recordingLogger();
    const down = new Error('store is down');
    const store = new ChaosStore(new MemoryStore()).fail(
      ['get', 'set', 'delete', 'deletePattern'],
      {
        error: down,
      },
    );
    const cache = createCache({ store, logger });
    expect(await cache.get('a')).toBeUndefined();
    expect(logger.lines.warn).toHaveLength(1);
    await expect(cache.set('a', 1)).rejects.toBe(down);
    await expect(cache.delete('a')).rejects.toBe(down);
    await expect(cache.deletePattern('a:*')).rejects.toBe(down);
    expect(await cache.getOrSet('a', () => 5)).toBe(5);
  });
});
