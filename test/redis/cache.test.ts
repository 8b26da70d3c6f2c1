import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { type Cache, createCache } from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { clusterClient, standaloneClient } from '../helpers/redis-clients.js';
import { deferred, recordingLogger } from '../helpers/stores.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each([
  ['a standalone Redis', standaloneClient],
  ['a 3-master Redis Cluster', clusterClient],
])('the cache on RedisStore over %s', (_name, connect: () => Redis | Cluster) => {
  const clients: (Redis | Cluster)[] = [];
  let raw: Redis | Cluster;

  /** A cache with its own prefix and its own ioredis connection, like one app process. */
  function newCache(
    prefix: string,
    options: { debug?: boolean; logger?: ReturnType<typeof recordingLogger> } = {},
  ): Cache<RedisStore> {
    const client = connect();
    clients.push(client);
    // A generous timeout: these tests are about features, not about a busy machine's latency.
    return createCache({ store: new RedisStore({ client }), prefix, timeout: 2000, ...options });
  }
  const uniquePrefix = () => `it-${randomUUID().slice(0, 8)}`;

  beforeAll(() => {
    raw = connect();
    clients.push(raw);
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.quit()));
  });

  it('computes on a miss, answers hits from Redis, and stores readable JSON', async () => {
    const prefix = uniquePrefix();
    const cache = newCache(prefix);
    const load = vi.fn(async (slug: string) => ({ slug, title: `Post ${slug}` }));
    const getPost = cache.cacheable(load, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
      ttl: 60,
    });
    expect(await getPost('my-post')).toEqual({ slug: 'my-post', title: 'Post my-post' });
    expect(await getPost('my-post')).toEqual({ slug: 'my-post', title: 'Post my-post' });
    expect(load).toHaveBeenCalledTimes(1);
    const stored = await raw.get(`${prefix}:posts:my-post`);
    expect(stored).toMatch(/^\x011j\|\d+\|\d+\|\{"slug":"my-post","title":"Post my-post"\}$/);
    const ttl = await raw.pttl(`${prefix}:posts:my-post`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('expires entries after their ttl', async () => {
    const cache = newCache(uniquePrefix());
    let version = 0;
    const get = cache.cacheable(async () => ++version, { key: 'counter', ttl: 0.2 });
    expect(await get()).toBe(1);
    expect(await get()).toBe(1);
    await sleep(500);
    expect(await get()).toBe(2);
  });

  it('returns promises for sync functions, rethrows errors uncached, caches null', async () => {
    const cache = newCache(uniquePrefix());
    const square = cache.cacheable((n: number) => n * n, {
      key: 'sq:{{n}}',
      context: (n) => ({ n }),
    });
    const pending = square(3);
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toBe(9);
    const failure = new Error('db down');
    const failing = cache.cacheable(
      async (_id: number): Promise<number> => {
        throw failure;
      },
      { key: 'fail:{{id}}', context: (id) => ({ id }) },
    );
    await expect(failing(1)).rejects.toBe(failure);
    const findNull = vi.fn(async () => null);
    const find = cache.cacheable(findNull, { key: 'null' });
    expect(await find()).toBeNull();
    expect(await find()).toBeNull();
    expect(findNull).toHaveBeenCalledTimes(1);
  });

  it('round-trips Date, BigInt, Map, Set and undefined', async () => {
    const cache = newCache(uniquePrefix());
    const value = {
      at: new Date(0),
      big: 2n ** 70n,
      map: new Map([['a', new Set([1])]]),
      none: undefined,
    };
    const get = cache.cacheable(async () => value, { key: 'rich' });
    await get();
    expect(await get()).toStrictEqual(value);
  });

  it('shares one computation between concurrent misses in a process', async () => {
    const cache = newCache(uniquePrefix());
    const gate = deferred<string>();
    const load = vi.fn(() => gate.promise);
    const get = cache.cacheable(load, { key: 'slow' });
    const calls = Array.from({ length: 50 }, () => get());
    await vi.waitFor(() => expect(load).toHaveBeenCalled());
    gate.resolve('done');
    expect(await Promise.all(calls)).toEqual(Array(50).fill('done'));
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('treats values failing the schema, and unreadable values, as misses and deletes them', async () => {
    const prefix = uniquePrefix();
    const logger = recordingLogger();
    const cache = newCache(prefix, { logger, debug: true });
    await raw.set(`${prefix}:posts:a`, '\x011j|9999999999999|0|{"title":42}', 'PX', 60_000);
    await raw.set(`${prefix}:posts:b`, 'written by something else', 'PX', 60_000);
    const getPost = cache.cacheable(async (slug: string) => ({ title: slug }), {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
      schema: z.object({ title: z.string() }),
    });
    expect(await getPost('a')).toEqual({ title: 'a' });
    expect(await getPost('b')).toEqual({ title: 'b' });
    expect(logger.lines.debug.filter((line) => line.startsWith('[Cache] INVALID'))).toHaveLength(2);
    expect(await raw.get(`${prefix}:posts:b`)).toMatch(/^\x011j\|/);
  });

  it('invalidates by pattern after a mutation, the trailing :* taking the base key', async () => {
    const prefix = uniquePrefix();
    const cache = newCache(prefix);
    for (const key of [
      'posts:a',
      'posts:a:comments',
      'posts:ab',
      'posts:b:comments',
      'posts:list:~1',
      'users:1',
    ]) {
      await cache.set(key, 1);
    }
    const updatePost = cache.invalidating(async (slug: string) => ({ slug }), {
      patterns: ['posts:{{slug}}:*', 'posts:list:*'],
      context: (slug) => ({ slug }),
    });
    await updatePost('a');
    for (const key of ['posts:a', 'posts:a:comments', 'posts:list:~1'])
      expect(await cache.get(key)).toBeUndefined();
    for (const key of ['posts:ab', 'posts:b:comments', 'users:1'])
      expect(await cache.get(key)).toBe(1);
  });

  it('keeps hostile values literal: they neither read nor delete other entries', async () => {
    const cache = newCache(uniquePrefix());
    const load = vi.fn(async (slug: string) => `post ${slug}`);
    const getPost = cache.cacheable(load, { key: 'posts:{{slug}}', context: (slug) => ({ slug }) });
    const slugs = [
      'a',
      'b',
      '*',
      '?',
      '[a-z]',
      'a\\',
      'x:y',
      '{x}',
      '',
      'a'.repeat(10_000),
      'ünï😀',
      '\u0000',
    ];
    for (const slug of slugs) expect(await getPost(slug)).toBe(`post ${slug}`);
    const deletePost = cache.invalidating(async (_slug: string) => true, {
      patterns: ['posts:{{slug}}:*'],
      context: (slug) => ({ slug }),
    });
    for (const slug of ['*', '?', '[a-z]', 'a\\', '{x}']) await deletePost(slug);
    for (const slug of ['a', 'b', 'x:y', '', 'ünï😀', '\u0000'])
      expect(await getPost(slug)).toBe(`post ${slug}`);
    expect(load).toHaveBeenCalledTimes(slugs.length);
  });

  it('takes placeholder values from the result, and deletes nothing when the mutation fails', async () => {
    const cache = newCache(uniquePrefix());
    await cache.set('posts:new-post', 'stale');
    await cache.set('posts:other', 'kept');
    const failing = cache.invalidating(
      async (_slug: string): Promise<void> => {
        throw new Error('no');
      },
      { patterns: ['posts:{{slug}}:*'], context: (slug) => ({ slug }) },
    );
    await expect(failing('other')).rejects.toThrow('no');
    expect(await cache.get('posts:other')).toBe('kept');
    const createPost = cache.invalidating(async (title: string) => ({ slug: 'new-post', title }), {
      patterns: ['posts:{{slug}}:*'],
      contextFromResult: (post) => ({ slug: post.slug }),
    });
    await createPost('New post');
    expect(await cache.get('posts:new-post')).toBeUndefined();
  });

  it('offers the manual API with template keys', async () => {
    const cache = newCache(uniquePrefix());
    await cache.set('posts:{{slug}}', { n: 1 }, { context: { slug: 'a b' }, ttl: 30 });
    expect(await cache.get('posts:{{slug}}', { slug: 'a b' })).toEqual({ n: 1 });
    expect(await cache.delete('posts:{{slug}}', { slug: 'a b' })).toBe(true);
    expect(await cache.delete('posts:{{slug}}', { slug: 'a b' })).toBe(false);
    expect(await cache.getOrSet('count', async () => 5)).toBe(5);
    expect(await cache.getOrSet('count', async () => 6)).toBe(5);
    for (let i = 0; i < 30; i += 1) await cache.set(`bulk:${i}`, i);
    expect(await cache.deletePattern('bulk:*')).toBe(30);
    expect(await cache.deletePattern('bulk:*')).toBe(0);
  });

  it('lets two cache instances (two app processes) see each other’s sets and invalidations', async () => {
    const prefix = uniquePrefix();
    const appA = newCache(prefix);
    const appB = newCache(prefix);
    const loadA = vi.fn(async (slug: string) => `A:${slug}`);
    const loadB = vi.fn(async (slug: string) => `B:${slug}`);
    const getPostA = appA.cacheable(loadA, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    const getPostB = appB.cacheable(loadB, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    expect(await getPostA('x')).toBe('A:x');
    expect(await getPostB('x')).toBe('A:x');
    expect(loadB).not.toHaveBeenCalled();
    const updateOnB = appB.invalidating(async (_slug: string) => undefined, {
      patterns: ['posts:{{slug}}:*'],
      context: (slug) => ({ slug }),
    });
    await updateOnB('x');
    expect(await getPostA('x')).toBe('A:x');
    expect(loadA).toHaveBeenCalledTimes(2);
    await appB.set('posts:y', 'set by B');
    expect(await appA.get('posts:y')).toBe('set by B');
  });

  it('logs the original debug lines', async () => {
    const prefix = uniquePrefix();
    const logger = recordingLogger();
    const cache = newCache(prefix, { logger });
    async function getPost(slug: string) {
      return { slug };
    }
    const cached = cache.cacheable(getPost, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
      ttl: 600,
      debug: true,
    });
    await cached('my-post');
    await cached('my-post');
    expect(logger.lines.debug).toEqual([
      `[Cache] getPost | Context: {"slug":"my-post"} | Key: ${prefix}:posts:my-post`,
      `[Cache] MISS: ${prefix}:posts:my-post`,
      `[Cache] SET: ${prefix}:posts:my-post (TTL: 600s)`,
      `[Cache] getPost | Context: {"slug":"my-post"} | Key: ${prefix}:posts:my-post`,
      `[Cache] HIT: ${prefix}:posts:my-post`,
    ]);
  });
});
