import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  type Cache,
  type CacheEventMap,
  type CacheLogger,
  type CacheOptions,
  createCache,
  type Duration,
  type Store,
} from '../index.js';

/** How {@link describeCacheBehaviour} gets, and disposes of, the stores under test. */
export interface CacheBehaviourOptions<S extends Store> {
  /** Shown in the test names. */
  name: string;
  /** Creates the store; called once for the whole suite. */
  create: () => S | Promise<S>;
  /** Disposes of each store after the suite (close connections, stop timers). */
  dispose?: (store: S) => unknown;
  /**
   * Two stores on the same data, as two processes would hold them (two clients of one Redis; for
   * an in-process store, the same store twice); called once. Given, the suite also checks what
   * two cache instances sharing a store see of each other. Leave it out for a store whose data
   * lives in one instance only.
   */
  shared?: () => readonly [S, S] | Promise<readonly [S, S]>;
  /**
   * The caches' `timeout` (a number of milliseconds, or a duration such as `'2s'`). The suite
   * checks behaviour, not latency: a generous bound keeps a busy machine from turning a hit into
   * a miss.
   * @default 2000
   */
  timeout?: Duration;
}

/** Values users put into keys that are wildcards, separators or otherwise unusual in a key. */
const HOSTILE_VALUES: readonly string[] = [
  '*',
  '?',
  '[a-z]',
  '[ae]',
  '[^x]',
  '\\',
  '\\*',
  'a\\',
  ':',
  'x:y',
  'x:*',
  '{x}',
  '{{x}}',
  '',
  ' ',
  'a'.repeat(10_000),
  'ünïcödé 😀',
  '\u0000',
  '%2A',
  '~',
];

/** Ordinary values living next to the hostile ones, which no hostile value may reach. */
const BYSTANDERS: readonly string[] = ['a', 'ae', 'alice', 'b', 'bob', 'my-post', 'x', 'x:y:z'];

/** A promise with its resolve and reject functions outside, to order steps in a test. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((done, fail) => {
    resolve = done;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/** The result of `run` as a promise, whether it returned, threw, or returned a promise. */
function outcome<T>(run: () => T): Promise<Awaited<T>> {
  try {
    return Promise.resolve(run()) as Promise<Awaited<T>>;
  } catch (error) {
    return Promise.reject(error);
  }
}

/** A logger that keeps every debug line and drops the rest. */
function debugLines(): CacheLogger & { lines: string[] } {
  const lines: string[] = [];
  const ignore = () => undefined;
  return {
    lines,
    debug: (message) => lines.push(message),
    info: ignore,
    warn: ignore,
    error: ignore,
  };
}

/**
 * What the cache promises on any store, as a vitest suite: run it on your own store next to
 * `describeStoreConformance`. It uses the public API only (`createCache`, `cacheable`,
 * `invalidating`, the manual API, events) and checks hits, misses and how often the function
 * runs; key rendering (hashed objects, hostile values); invalidation by patterns, including the
 * trailing `:*` rule; `shouldCache` and `schema`; the manual API; errors; one computation for
 * concurrent misses; that a computation overtaken by an invalidation stores nothing; values that
 * round-trip; events and debug lines; what is synchronous on a store with `sync: true`; TTL expiry
 * (one test, about half a second of real time); and, with `shared`, two cache instances on one
 * store. Every test uses its own random key prefix (deleted after it), so the suite can run
 * against a store that holds other data.
 *
 * @example
 * // my-store.test.ts
 * import { describeCacheBehaviour } from 'quickpost-cache/testing';
 * describeCacheBehaviour({ name: 'MyStore', create: () => new MyStore(), dispose: (s) => s.close() });
 */
export function describeCacheBehaviour<S extends Store>(options: CacheBehaviourOptions<S>): void {
  describe(`Cache behaviour: ${options.name}`, () => {
    let store: S;
    let pair: readonly [S, S] | undefined;
    /** This test's key prefix. */
    let prefix = '';
    /** Stores this test wrote to, cleaned after it. */
    const touched = new Set<Store>();
    const timeout = options.timeout ?? 2000;

    beforeAll(async () => {
      store = await options.create();
      if (options.shared !== undefined) pair = await options.shared();
    });
    afterAll(async () => {
      const stores = new Set<S>();
      if (store !== undefined) stores.add(store);
      for (const each of pair ?? []) stores.add(each);
      for (const each of stores) await options.dispose?.(each);
    });
    beforeEach(() => {
      prefix = `qc-behaviour-${randomUUID()}`;
    });
    afterEach(async () => {
      for (const each of touched) await each.deletePattern(`${prefix}:*`);
      touched.clear();
    });

    /** A cache on the store (or on `on`) with this test's prefix. */
    function newCache(
      extra: Omit<CacheOptions<Store>, 'store' | 'prefix'> = {},
      on: Store = store,
    ): Cache<Store> {
      touched.add(on);
      return createCache<Store>({ store: on, prefix, timeout, ...extra });
    }
    const full = (key: string) => `${prefix}:${key}`;
    const isAtomic = (candidate: Store) =>
      ['setIfAbsent', 'compareAndSet', 'compareAndDelete'].every(
        (method) => typeof (candidate as unknown as Record<string, unknown>)[method] === 'function',
      );

    describe('reading through', () => {
      it('runs the function on a miss and answers hits without running it again', async () => {
        const cache = newCache();
        const load = vi.fn(async (slug: string) => ({ slug, title: `Post ${slug}` }));
        const getPost = cache.cacheable(load, {
          key: 'posts:{{slug}}',
          context: (slug) => ({ slug }),
        });
        expect(await getPost('a')).toEqual({ slug: 'a', title: 'Post a' });
        expect(await getPost('a')).toEqual({ slug: 'a', title: 'Post a' });
        expect(await getPost('b')).toEqual({ slug: 'b', title: 'Post b' });
        expect(await getPost('b')).toEqual({ slug: 'b', title: 'Post b' });
        expect(load.mock.calls).toEqual([['a'], ['b']]);
      });

      it('stores each entry under the prefix, once, as readable JSON', async () => {
        const cache = newCache();
        const getPost = cache.cacheable(async (slug: string) => ({ slug, title: 'Hello' }), {
          key: 'posts:{{slug}}',
          context: (slug) => ({ slug }),
        });
        await getPost('my-post');
        const stored = String(await store.get(full('posts:my-post')));
        // The documented entry format: \x01, format 1, kind j(son), |expiresAt|computeMs|, JSON.
        expect(stored.charAt(0)).toBe('\x01');
        expect(stored.slice(1)).toMatch(/^1j\|\d+\|\d+\|\{"slug":"my-post","title":"Hello"\}$/);
        expect(await cache.get('posts:my-post')).toEqual({ slug: 'my-post', title: 'Hello' });
      });

      it('passes the arguments and `this` to the function, and keeps its name and length', async () => {
        const cache = newCache();
        const repo = {
          table: 'posts',
          async find(this: { table: string }, id: number, _options?: object) {
            return `${this.table}/${id}`;
          },
        };
        const find = cache.cacheable(repo.find, { key: 'find:{{id}}', context: (id) => ({ id }) });
        expect(find.name).toBe('find');
        expect(find.length).toBe(2);
        expect(await find.call(repo, 7)).toBe('posts/7');
        expect(await find.call({ table: 'other' }, 7)).toBe('posts/7');
        expect(cache.cacheable(async () => 1, { key: 'one', name: 'getOne' }).name).toBe('getOne');
      });

      it('caches null and undefined results like any other', async () => {
        const cache = newCache();
        const loadNull = vi.fn(async (_id: number) => null);
        const findPost = cache.cacheable(loadNull, {
          key: 'find:{{id}}',
          context: (id) => ({ id }),
        });
        expect(await findPost(1)).toBeNull();
        expect(await findPost(1)).toBeNull();
        const loadUndefined = vi.fn(async () => undefined);
        const maybe = cache.cacheable(loadUndefined, { key: 'maybe' });
        expect(await maybe()).toBeUndefined();
        expect(await maybe()).toBeUndefined();
        expect(loadNull).toHaveBeenCalledTimes(1);
        expect(loadUndefined).toHaveBeenCalledTimes(1);
      });

      it('returns but does not store a result that `shouldCache` declines', async () => {
        const cache = newCache();
        const skipped: string[] = [];
        cache.on('skip', ({ key }) => skipped.push(key));
        const load = vi.fn(async (id: number) => (id > 0 ? { id } : null));
        const find = cache.cacheable(load, {
          key: 'find:{{id}}',
          context: (id) => ({ id }),
          shouldCache: (post) => post !== null,
        });
        expect(await find(0)).toBeNull();
        expect(await find(0)).toBeNull();
        expect(await find(1)).toEqual({ id: 1 });
        expect(await find(1)).toEqual({ id: 1 });
        expect(load.mock.calls).toEqual([[0], [0], [1]]);
        expect(await cache.get('find:0')).toBeUndefined();
        expect(skipped).toEqual([full('find:0'), full('find:0')]);
      });

      it('passes errors through as the same object and caches nothing for them', async () => {
        const cache = newCache();
        const failure = new Error('db down');
        let fail = true;
        const load = vi.fn(async (slug: string) => {
          if (fail) throw failure;
          return slug;
        });
        const getPost = cache.cacheable(load, {
          key: 'posts:{{slug}}',
          context: (slug) => ({ slug }),
        });
        await expect(getPost('a')).rejects.toBe(failure);
        await expect(getPost('a')).rejects.toBe(failure);
        expect(await cache.get('posts:a')).toBeUndefined();
        fail = false;
        expect(await getPost('a')).toBe('a');
        expect(await getPost('a')).toBe('a');
        expect(load).toHaveBeenCalledTimes(3);

        const syncFailure = new Error('sync failure');
        const throwing = cache.cacheable(
          (_id: number): number => {
            throw syncFailure;
          },
          { key: 'throws:{{id}}', context: (id) => ({ id }) },
        );
        await expect(outcome(() => throwing(1))).rejects.toBe(syncFailure);
        expect(await cache.get('throws:1')).toBeUndefined();
      });

      it('fails without running the function when the context lacks a placeholder', async () => {
        const cache = newCache();
        const load = vi.fn(async (_slug: string) => 1);
        const get = cache.cacheable(load, {
          key: 'posts:{{slug}}',
          context: () => ({}) as { slug: string },
        });
        await expect(outcome(() => get('a'))).rejects.toMatchObject({
          code: 'E_MISSING_CONTEXT_VALUE',
          placeholder: 'slug',
        });
        expect(load).not.toHaveBeenCalled();
      });

      it('runs the function once for concurrent misses of one key', async () => {
        const cache = newCache();
        const gate = deferred<string>();
        const load = vi.fn((_slug: string) => gate.promise);
        const getPost = cache.cacheable(load, {
          key: 'posts:{{slug}}',
          context: (slug) => ({ slug }),
        });
        const calls = Array.from({ length: 20 }, () => getPost('a'));
        const other = getPost('b');
        await vi.waitFor(() => expect(load).toHaveBeenCalledTimes(2));
        gate.resolve('value');
        expect(await Promise.all(calls)).toEqual(Array(20).fill('value'));
        expect(await other).toBe('value');
        // One call per key; the two keys may live on different servers, so in either order.
        expect(load.mock.calls.map(([slug]) => slug).sort()).toEqual(['a', 'b']);
        expect(await getPost('a')).toBe('value');
        expect(load).toHaveBeenCalledTimes(2);
      });

      it('fails a function that calls itself for its own key, instead of waiting forever', async () => {
        const cache = newCache();
        const load: () => Promise<string> = cache.cacheable(
          async function recursive(): Promise<string> {
            return `outer(${await load()})`;
          },
          { key: 'self' },
        );
        await expect(load()).rejects.toMatchObject({
          code: 'E_REENTRANT_CALL',
          key: full('self'),
        });
      });

      it('expires entries after their TTL, the cache’s default or their own', async () => {
        // The one test that waits for real time: a store's expiry cannot be faked from here.
        const cache = newCache({ ttl: 0.2 });
        let version = 0;
        const count = cache.cacheable(async () => ++version, { key: 'counter' });
        const lasting = cache.cacheable(async () => ++version, { key: 'lasting', ttl: 60 });
        expect(await count()).toBe(1);
        expect(await lasting()).toBe(2);
        await cache.set('manual', 'm', { ttl: 0.2 });
        await cache.set('manual:gone', 'm', { ttl: 0.2 });
        await cache.set('manual:kept', 'k', { ttl: 60 });
        expect(await count()).toBe(1);
        await new Promise((resolve) => setTimeout(resolve, 400));
        expect(await cache.get('manual')).toBeUndefined();
        expect(await cache.delete('manual')).toBe(false);
        expect(await cache.deletePattern('manual:*')).toBe(1);
        expect(await count()).toBe(3);
        expect(await lasting()).toBe(2);
      });
    });

    describe('keys', () => {
      it('hashes objects: equal objects share one entry whatever their property order', async () => {
        const cache = newCache();
        type Filters = { tag: string; page: number; extra?: { a: number; b: number[] } };
        const load = vi.fn(async (filters: Filters) => [filters.tag, filters.page]);
        const list = cache.cacheable(load, {
          key: 'posts:list:{{filters}}',
          context: (filters) => ({ filters }),
        });
        await list({ tag: 'redis', page: 1 });
        await list({ page: 1, tag: 'redis' });
        await list({ tag: 'redis', page: 2 });
        await list({ tag: 'redis', page: 1, extra: { a: 1, b: [1, 2] } });
        await list({ extra: { b: [1, 2], a: 1 }, page: 1, tag: 'redis' });
        await list({ tag: 'redis', page: 1, extra: { a: 1, b: [2, 1] } });
        expect(load).toHaveBeenCalledTimes(4);
      });

      it('keeps values apart that only a separator in them would join', async () => {
        const cache = newCache();
        const load = vi.fn(async (a: string, b: string) => `${a}|${b}`);
        const pair = cache.cacheable(load, {
          key: 'pair:{{a}}:{{b}}',
          context: (a, b) => ({ a, b }),
        });
        expect(await pair('x:y', 'z')).toBe('x:y|z');
        expect(await pair('x', 'y:z')).toBe('x|y:z');
        expect(await pair('x:y', 'z')).toBe('x:y|z');
        expect(load).toHaveBeenCalledTimes(2);
      });

      it('gives every hostile value (`*`, `x:y`, `[ae]`, …) its own entry, never another one’s', async () => {
        const cache = newCache();
        const load = vi.fn(async (slug: string) => `post:${slug}`);
        const getPost = cache.cacheable(load, {
          key: 'posts:{{slug}}',
          context: (slug) => ({ slug }),
        });
        const slugs = [...BYSTANDERS, ...HOSTILE_VALUES];
        for (const slug of slugs) expect(await getPost(slug)).toBe(`post:${slug}`);
        for (const slug of slugs) expect(await getPost(slug)).toBe(`post:${slug}`);
        expect(load).toHaveBeenCalledTimes(slugs.length);
      });

      it('lets a hostile value invalidate only its own keys', async () => {
        const cache = newCache();
        const keys = (id: string): [string, Record<string, string | number>][] => [
          ['posts:{{slug}}', { slug: id }],
          ['posts:{{slug}}:comments', { slug: id }],
          ['users:{{user}}:posts:{{page}}', { user: id, page: 1 }],
        ];
        for (const id of BYSTANDERS) {
          for (const [template, context] of keys(id)) await cache.set(template, id, { context });
        }
        const mutate = cache.invalidating(async (_user: string, _slug: string) => true, {
          patterns: ['posts:{{slug}}:*', 'users:{{user}}:posts:*'],
          context: (user, slug) => ({ user, slug }),
        });
        for (const value of HOSTILE_VALUES) await mutate(value, value);
        for (const id of BYSTANDERS) {
          for (const [template, context] of keys(id)) {
            expect(await cache.get(template, context), `${template} ${id}`).toBe(id);
          }
        }
        for (const value of HOSTILE_VALUES) {
          expect(await cache.deletePattern('posts:{{slug}}:*', { slug: value })).toBe(0);
        }
      });
    });

    describe('invalidation', () => {
      const SEEDED = [
        'posts:my-slug',
        'posts:my-slug:comments',
        'posts:my-slug:likes',
        'posts:my-slug-2',
        'posts:my-slugs',
        'posts:other',
        'posts:other:comments',
        'posts:list:~abc',
        'posts:list:~def',
        'users:1:profile',
      ];
      /** A cache holding SEEDED; `left()` lists the seeded keys still there. */
      async function seeded() {
        const cache = newCache();
        for (const key of SEEDED) await cache.set(key, key);
        const left = async () => {
          const present = await Promise.all(
            SEEDED.map(async (key) => (await cache.get(key)) !== undefined),
          );
          return SEEDED.filter((_, i) => present[i]);
        };
        return { cache, left };
      }

      it('runs the mutation, then deletes the keys its patterns match, a trailing `:*` taking the key itself', async () => {
        const { cache, left } = await seeded();
        const result = { ok: true };
        const save = vi.fn(async (_slug: string, _title: string) => result);
        const updatePost = cache.invalidating(save, {
          patterns: ['posts:{{slug}}:*', 'posts:list:*'],
          context: (slug) => ({ slug }),
        });
        expect(await updatePost('my-slug', 'New')).toBe(result);
        expect(save).toHaveBeenCalledWith('my-slug', 'New');
        expect(await left()).toEqual([
          'posts:my-slug-2',
          'posts:my-slugs',
          'posts:other',
          'posts:other:comments',
          'users:1:profile',
        ]);
      });

      it('deletes only what a pattern without a trailing `:*` matches', async () => {
        const { cache, left } = await seeded();
        const like = cache.invalidating(async (_slug: string) => 1, {
          patterns: ['posts:{{slug}}:likes', 'posts:list:~ab?'],
          context: (slug) => ({ slug }),
        });
        await like('my-slug');
        expect(await left()).toEqual(
          SEEDED.filter((key) => key !== 'posts:my-slug:likes' && key !== 'posts:list:~abc'),
        );
      });

      it('deletes nothing when the mutation fails, and passes its error through as the same object', async () => {
        const { cache, left } = await seeded();
        const failure = new Error('constraint violated');
        const updatePost = cache.invalidating(
          async (_slug: string): Promise<void> => {
            throw failure;
          },
          { patterns: ['posts:{{slug}}:*', 'posts:list:*'], context: (slug) => ({ slug }) },
        );
        await expect(updatePost('my-slug')).rejects.toBe(failure);
        expect(await left()).toEqual(SEEDED);
      });

      it('does not run the mutation when its patterns cannot be rendered', async () => {
        const { cache, left } = await seeded();
        const save = vi.fn(async (_slug: string) => 'saved');
        const updatePost = cache.invalidating(save, {
          patterns: ['posts:{{slug}}:*'],
          context: () => ({}) as { slug: string },
        });
        await expect(outcome(() => updatePost('my-slug'))).rejects.toMatchObject({
          code: 'E_MISSING_CONTEXT_VALUE',
        });
        expect(save).not.toHaveBeenCalled();
        expect(await left()).toEqual(SEEDED);
      });

      it('fills the patterns from the mutation’s result with `contextFromResult`', async () => {
        const { cache, left } = await seeded();
        const createPost = cache.invalidating(
          async (title: string) => ({ slug: 'my-slug', title }),
          {
            patterns: ['posts:{{slug}}:*', 'posts:list:*'],
            contextFromResult: (post, title) => {
              expect(title).toBe('Hello');
              return { slug: post.slug };
            },
          },
        );
        expect(await createPost('Hello')).toEqual({ slug: 'my-slug', title: 'Hello' });
        expect(await left()).toEqual([
          'posts:my-slug-2',
          'posts:my-slugs',
          'posts:other',
          'posts:other:comments',
          'users:1:profile',
        ]);
      });

      it('makes the next call of an invalidated key run the function again, and no other', async () => {
        const cache = newCache();
        const posts = vi.fn(async (slug: string) => `post ${slug}`);
        const comments = vi.fn(async (slug: string) => `comments of ${slug}`);
        const getPost = cache.cacheable(posts, {
          key: 'posts:{{slug}}',
          context: (slug) => ({ slug }),
        });
        const getComments = cache.cacheable(comments, {
          key: 'posts:{{slug}}:comments',
          context: (slug) => ({ slug }),
        });
        const updatePost = cache.invalidating(async (slug: string) => `updated ${slug}`, {
          patterns: ['posts:{{slug}}:*'],
          context: (slug) => ({ slug }),
        });
        const readAll = async () => {
          for (const slug of ['a', 'ab', 'b']) {
            await getPost(slug);
            await getComments(slug);
          }
        };
        await readAll();
        expect(await updatePost('a')).toBe('updated a');
        await readAll();
        expect(posts.mock.calls).toEqual([['a'], ['ab'], ['b'], ['a']]);
        expect(comments.mock.calls).toEqual([['a'], ['ab'], ['b'], ['a']]);
      });
    });

    describe('the manual API', () => {
      it('gets, sets and deletes; `delete` says whether the key held a value', async () => {
        const cache = newCache();
        expect(await cache.get('k')).toBeUndefined();
        await cache.set('k', { n: 1 });
        expect(await cache.get('k')).toEqual({ n: 1 });
        await cache.set('k', { n: 2 });
        expect(await cache.get('k')).toEqual({ n: 2 });
        expect(await cache.delete('k')).toBe(true);
        expect(await cache.delete('k')).toBe(false);
        expect(await cache.delete('never')).toBe(false);
        expect(await cache.get('k')).toBeUndefined();
      });

      it('fills key templates from a context, reading and writing what `cacheable` does', async () => {
        const cache = newCache();
        const getPost = cache.cacheable(async (slug: string) => `post ${slug}`, {
          key: 'posts:{{slug}}',
          context: (slug) => ({ slug }),
        });
        await getPost('hello world');
        expect(await cache.get('posts:{{slug}}', { slug: 'hello world' })).toBe('post hello world');
        await cache.set('posts:{{slug}}', 'edited', { context: { slug: 'hello world' }, ttl: 60 });
        expect(await getPost('hello world')).toBe('edited');
        expect(await cache.delete('posts:{{slug}}', { slug: 'hello world' })).toBe(true);
        expect(await getPost('hello world')).toBe('post hello world');
      });

      it('deletes by pattern, counting the keys removed, with the trailing `:*` rule', async () => {
        const cache = newCache();
        for (const key of [
          'posts:a',
          'posts:a:comments',
          'posts:ab',
          'posts:b',
          'users:1',
          'users:2',
        ])
          await cache.set(key, key);
        expect(await cache.deletePattern('users:?')).toBe(2);
        expect(await cache.deletePattern('users:?')).toBe(0);
        expect(await cache.deletePattern('posts:a:*')).toBe(2);
        expect(await cache.get('posts:ab')).toBe('posts:ab');
        expect(await cache.deletePattern('posts:*')).toBe(2);
        expect(await cache.deletePattern('posts:*')).toBe(0);
        for (let i = 0; i < 30; i += 1) await cache.set(`bulk:${i}`, i);
        expect(await cache.deletePattern('bulk:*')).toBe(30);
      });

      it('keeps context values literal in patterns', async () => {
        const cache = newCache();
        for (const key of ['posts:a', 'posts:a:comments', 'posts:b', 'posts:b:comments'])
          await cache.set(key, 1);
        expect(await cache.deletePattern('posts:{{slug}}:*', { slug: '*' })).toBe(0);
        expect(await cache.deletePattern('posts:{{slug}}:*', { slug: '?' })).toBe(0);
        expect(await cache.deletePattern('posts:{{slug}}:*', { slug: 'a' })).toBe(2);
        expect(await cache.get('posts:b')).toBe(1);
      });

      it('computes with `getOrSet` once, then reads the stored value', async () => {
        const cache = newCache();
        const compute = vi.fn((): string[] => ['redis', 'node']);
        expect(await cache.getOrSet('tags', compute)).toEqual(['redis', 'node']);
        expect(await cache.getOrSet('tags', compute)).toEqual(['redis', 'node']);
        expect(compute).toHaveBeenCalledTimes(1);
        expect(await cache.getOrSet('count', async () => 7)).toBe(7);
        expect(await cache.getOrSet('count', async () => 8)).toBe(7);
        expect(await cache.get('tags')).toEqual(['redis', 'node']);
        expect(
          await cache.getOrSet('posts:{{slug}}', () => 'new', { context: { slug: 'b' } }),
        ).toBe('new');
        expect(await cache.get('posts:b')).toBe('new');
      });

      it('runs one `getOrSet` computation for concurrent callers of a key', async () => {
        const cache = newCache();
        const gate = deferred<string>();
        const compute = vi.fn(() => gate.promise);
        const calls = Array.from({ length: 10 }, () => cache.getOrSet('k', compute));
        await vi.waitFor(() => expect(compute).toHaveBeenCalled());
        gate.resolve('v');
        expect(await Promise.all(calls)).toEqual(Array(10).fill('v'));
        expect(await cache.getOrSet('k', compute)).toBe('v');
        expect(compute).toHaveBeenCalledTimes(1);
      });
    });

    describe('stored data it cannot use', () => {
      it('treats an entry it cannot read (foreign text, unknown format) as a miss, and replaces it', async () => {
        const cache = newCache();
        const invalid: CacheEventMap['invalid'][] = [];
        cache.on('invalid', (event) => invalid.push(event));
        await store.set(full('posts:a'), 'written by something else', 60_000);
        await store.set(full('posts:b'), '\x019j|9999999999999|0|"from the future"', 60_000);
        const getPost = cache.cacheable(async (slug: string) => `post ${slug}`, {
          key: 'posts:{{slug}}',
          context: (slug) => ({ slug }),
        });
        expect(await getPost('a')).toBe('post a');
        expect(await getPost('b')).toBe('post b');
        expect(invalid.map((event) => event.key)).toEqual([full('posts:a'), full('posts:b')]);
        expect(String(await store.get(full('posts:a'))).startsWith('\x011j|')).toBe(true);
        expect(await cache.get('posts:b')).toBe('post b');
      });
    });

    describe('schema', () => {
      it('treats a stored value that fails the schema as a miss, deletes and recomputes it', async () => {
        const logger = debugLines();
        const cache = newCache({ logger });
        const Post = z.object({ title: z.string() });
        const load = vi.fn(async (slug: string) => ({ title: `fresh ${slug}` }));
        const getPost = cache.cacheable(load, {
          key: 'posts:{{slug}}',
          context: (slug) => ({ slug }),
          schema: Post,
          debug: true,
        });
        await cache.set('posts:a', { title: 42 });
        expect(await getPost('a')).toEqual({ title: 'fresh a' });
        expect(await getPost('a')).toEqual({ title: 'fresh a' });
        expect(load).toHaveBeenCalledTimes(1);
        expect(logger.lines).toContainEqual(
          expect.stringMatching(
            new RegExp(`^\\[Cache\\] INVALID: ${full('posts:a')} \\(schema: .+; deleted\\)$`),
          ),
        );
      });

      it('returns the schema’s output on a hit', async () => {
        const cache = newCache();
        const getCount = cache.cacheable(async () => 5, {
          key: 'count',
          schema: z.number().transform((n) => n * 2),
        });
        expect(await getCount()).toBe(5);
        expect(await getCount()).toBe(10);
      });
    });

    describe('values', () => {
      it('round-trips Date, BigInt, Map, Set, undefined, NaN and ±Infinity, as fresh objects', async () => {
        const cache = newCache();
        const value = {
          at: new Date('2024-05-01T10:00:00.000Z'),
          big: 2n ** 70n,
          map: new Map<string, unknown>([
            ['a', new Set([1, 2])],
            ['b', { nested: [new Date(0), -1n] }],
          ]),
          none: undefined,
          list: [1, undefined, null, 'two'],
          odd: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
          text: 'ünï 😀 "quoted" \\ \u0000',
          empty: '',
          zero: 0,
          no: false,
        };
        const load = vi.fn(async () => value);
        const get = cache.cacheable(load, { key: 'rich' });
        expect(await get()).toBe(value);
        const hit = await get();
        expect(load).toHaveBeenCalledTimes(1);
        expect(hit).not.toBe(value);
        expect(hit).toStrictEqual(value);
        expect(hit.at).toBeInstanceOf(Date);
        expect(hit.map).toBeInstanceOf(Map);

        for (const [key, plain] of [
          ['date', new Date(0)],
          ['bigint', 1n],
          ['map', new Map([['at', new Date(0)]])],
          ['set', new Set(['x'])],
          ['undefined', undefined],
          ['null', null],
          ['string', ''],
          ['number', 0],
          ['boolean', false],
        ] as const) {
          await cache.set(key, plain);
          expect(await cache.get(key), key).toStrictEqual(plain);
        }
        // `undefined` is a value: `getOrSet` does not compute again.
        expect(await cache.getOrSet('undefined', () => 'computed')).toBeUndefined();
      });
    });

    describe('invalidation during a computation', () => {
      it('stores nothing computed before an invalidation, and later callers see fresh data', async () => {
        const cache = newCache();
        let row = 'old';
        const reading = deferred<void>();
        const release = deferred<void>();
        const load = vi.fn(async (_slug: string) => {
          const seen = row;
          reading.resolve();
          await release.promise;
          return seen;
        });
        const getPost = cache.cacheable(load, {
          key: 'posts:{{slug}}',
          context: (slug) => ({ slug }),
        });
        const updatePost = cache.invalidating(
          async (_slug: string, text: string) => {
            row = text;
          },
          { patterns: ['posts:{{slug}}:*'], context: (slug) => ({ slug }) },
        );
        const early = getPost('a');
        await reading.promise;
        await updatePost('a', 'new');
        const late = getPost('a');
        release.resolve();
        expect(await early).toBe('old');
        expect(await late).toBe('new');
        expect(await getPost('a')).toBe('new');
        expect(await cache.get('posts:a')).toBe('new');
        expect(load).toHaveBeenCalledTimes(2);
      });

      it('does not overwrite a value set by hand during the computation', async () => {
        const cache = newCache();
        const started = deferred<void>();
        const release = deferred<void>();
        const getPost = cache.cacheable(
          async () => {
            started.resolve();
            await release.promise;
            return 'computed';
          },
          { key: 'posts:a' },
        );
        const computing = getPost();
        await started.promise;
        await cache.set('posts:a', 'set by hand');
        release.resolve();
        expect(await computing).toBe('computed');
        expect(await cache.get('posts:a')).toBe('set by hand');
        expect(await getPost()).toBe('set by hand');
      });

      it('does not store a computation whose key was deleted meanwhile', async () => {
        const cache = newCache();
        const started = deferred<void>();
        const release = deferred<void>();
        let version = 0;
        const getPost = cache.cacheable(
          async () => {
            version += 1;
            if (version === 1) {
              started.resolve();
              await release.promise;
            }
            return version;
          },
          { key: 'posts:a' },
        );
        const computing = getPost();
        await started.promise;
        await cache.delete('posts:a');
        release.resolve();
        expect(await computing).toBe(1);
        expect(await cache.get('posts:a')).toBeUndefined();
        expect(await getPost()).toBe(2);
      });
    });

    describe('events and debug lines', () => {
      it('emits lookup, miss, set, hit, skip, invalidate and delete events naming their source and key', async () => {
        const cache = newCache();
        const seen: string[] = [];
        for (const name of ['lookup', 'miss', 'set', 'hit', 'skip', 'invalidate'] as const) {
          cache.on(name, (event) => {
            const where = 'key' in event ? event.key : event.pattern;
            seen.push(`${name} ${event.source.name} ${event.source.template} ${where}`);
          });
        }
        const getPost = cache.cacheable(
          async function getPost(slug: string) {
            return slug;
          },
          { key: 'posts:{{slug}}', context: (slug) => ({ slug }), shouldCache: (v) => v !== 'x' },
        );
        const update = cache.invalidating(async function update(_slug: string) {}, {
          patterns: ['posts:{{slug}}:*'],
          context: (slug) => ({ slug }),
        });
        await getPost('a');
        // A Redis store answers the miss once the fill is sent; `set` follows Redis's answer.
        await cache.settled();
        await getPost('a');
        await getPost('x');
        await update('a');
        const key = full('posts:a');
        expect(seen).toEqual([
          `lookup getPost posts:{{slug}} ${key}`,
          `miss getPost posts:{{slug}} ${key}`,
          `set getPost posts:{{slug}} ${key}`,
          `lookup getPost posts:{{slug}} ${key}`,
          `hit getPost posts:{{slug}} ${key}`,
          `lookup getPost posts:{{slug}} ${full('posts:x')}`,
          `miss getPost posts:{{slug}} ${full('posts:x')}`,
          `skip getPost posts:{{slug}} ${full('posts:x')}`,
          `invalidate update posts:{{slug}}:* ${full('posts:a:*')}`,
        ]);
        // The manual API's events name the source `manual`, with no template.
        const deletes: CacheEventMap['delete'][] = [];
        cache.on('delete', (event) => deletes.push(event));
        await cache.delete('posts:a');
        await cache.set('posts:a', 1);
        await cache.delete('posts:a');
        expect(deletes).toEqual([
          {
            source: expect.objectContaining({ name: 'manual', template: '' }),
            key,
            removed: false,
          },
          { source: expect.objectContaining({ name: 'manual', template: '' }), key, removed: true },
        ]);
      });

      it('reports the count of each invalidation and the TTL of each set', async () => {
        const cache = newCache();
        const events: string[] = [];
        cache.on('invalidate', ({ pattern, count }) => events.push(`${pattern} ${count}`));
        cache.on('set', ({ key, ttlMs }) => events.push(`${key} ${ttlMs}`));
        await cache.set('posts:a', 1, { ttl: 60 });
        await cache.set('posts:a:comments', 1, { ttl: 0.5 });
        await cache.deletePattern('posts:a:*');
        await cache.deletePattern('posts:a:*');
        expect(events).toEqual([
          `${full('posts:a')} 60000`,
          `${full('posts:a:comments')} 500`,
          `${full('posts:a:*')} 2`,
          `${full('posts:a:*')} 0`,
        ]);
      });

      it('logs the original debug lines: context and key, MISS, SET, HIT, INVALIDATE', async () => {
        const logger = debugLines();
        const cache = newCache({ logger });
        async function getPost(slug: string) {
          return { slug };
        }
        async function updatePost(_slug: string) {}
        const cached = cache.cacheable(getPost, {
          key: 'posts:{{slug}}',
          context: (slug) => ({ slug }),
          ttl: 600,
          debug: true,
        });
        const update = cache.invalidating(updatePost, {
          patterns: ['posts:{{slug}}:*'],
          context: (slug) => ({ slug }),
          debug: true,
        });
        await cached('my-post');
        await cache.settled();
        await cached('my-post');
        await update('my-post');
        const key = full('posts:my-post');
        expect(logger.lines).toEqual([
          `[Cache] getPost | Context: {"slug":"my-post"} | Key: ${key}`,
          `[Cache] MISS: ${key}`,
          `[Cache] SET: ${key} (TTL: 600s)`,
          `[Cache] getPost | Context: {"slug":"my-post"} | Key: ${key}`,
          `[Cache] HIT: ${key}`,
          `[Cache] updatePost | Context: {"slug":"my-post"} | Patterns: ${key}:*`,
          `[Cache] INVALIDATE: ${key}:* (1 key)`,
        ]);
      });
    });

    describe('synchronous and asynchronous answers', () => {
      it('on a store with `sync: true`, a synchronous function’s wrapper returns plain values, hits included', async ({
        skip,
      }) => {
        if (store.sync !== true) skip('the store is not synchronous');
        const cache = newCache();
        const load = vi.fn((id: number) => ({ id }));
        const getUser = cache.cacheable(load, { key: 'users:{{id}}', context: (id) => ({ id }) });
        const miss: unknown = getUser(1);
        expect(miss).not.toBeInstanceOf(Promise);
        expect(miss).toEqual({ id: 1 });
        const hit: unknown = getUser(1);
        expect(hit).not.toBeInstanceOf(Promise);
        expect(hit).toEqual({ id: 1 });
        expect(load).toHaveBeenCalledTimes(1);
        const asyncCall: unknown = cache.cacheable(async () => 1, { key: 'async' })();
        expect(asyncCall).toBeInstanceOf(Promise);
        expect(await asyncCall).toBe(1);
      });

      it('on a store with `sync: true`, a synchronous function’s error is thrown at once, uncached', async ({
        skip,
      }) => {
        if (store.sync !== true) skip('the store is not synchronous');
        const cache = newCache();
        const failure = new Error('nope');
        const get = cache.cacheable(
          (_id: number): number => {
            throw failure;
          },
          { key: 'x:{{id}}', context: (id) => ({ id }) },
        );
        expect(() => get(1)).toThrow(failure);
        expect(() => get(1)).toThrow(failure);
        expect(cache.get('x:1')).toBeUndefined();
        // Nothing at all under the key: neither a value nor a lease left behind.
        expect(store.get(full('x:1')) ?? undefined).toBeUndefined();
      });

      it('on a store with `sync: true`, the manual API and synchronous mutations return plain values', async ({
        skip,
      }) => {
        if (store.sync !== true) skip('the store is not synchronous');
        const cache = newCache();
        const answers: unknown[] = [
          cache.set('a', 1),
          cache.get('a'),
          cache.getOrSet('b', () => 2),
          cache.delete('a'),
          cache.deletePattern('b:*'),
          cache.invalidating((n: number) => n + 1, { patterns: ['c:*'] })(1),
        ];
        expect(answers.filter((answer) => answer instanceof Promise)).toEqual([]);
        expect(answers).toEqual([undefined, 1, 2, true, 1, 2]);
      });

      it('on an asynchronous store, every wrapper and the manual API answer with promises, hits included', async ({
        skip,
      }) => {
        if (store.sync === true) skip('the store is synchronous');
        const cache = newCache();
        const load = vi.fn((n: number) => n * n);
        const square = cache.cacheable(load, { key: 'square:{{n}}', context: (n) => ({ n }) });
        const miss: unknown = square(4);
        expect(miss).toBeInstanceOf(Promise);
        expect(await miss).toBe(16);
        const hit: unknown = square(4);
        expect(hit).toBeInstanceOf(Promise);
        expect(await hit).toBe(16);
        expect(load).toHaveBeenCalledTimes(1);
        const like: unknown = cache.invalidating((slug: string) => slug.length, {
          patterns: ['posts:{{slug}}:likes'],
          context: (slug) => ({ slug }),
        })('abc');
        expect(like).toBeInstanceOf(Promise);
        expect(await like).toBe(3);
        const answers: unknown[] = [];
        for (const call of [
          () => cache.set('a', new Date(0)),
          () => cache.get('a'),
          () => cache.getOrSet('b', () => 2),
          () => cache.delete('a'),
          () => cache.deletePattern('b:*'),
        ]) {
          const answer: unknown = call();
          expect(answer).toBeInstanceOf(Promise);
          answers.push(await answer);
        }
        expect(answers).toEqual([undefined, new Date(0), 2, true, 1]);
      });

      it('on an asynchronous store, synchronous errors become rejections with the same object', async ({
        skip,
      }) => {
        if (store.sync === true) skip('the store is synchronous');
        const cache = newCache();
        const failure = new Error('nope');
        const get = cache.cacheable(
          (_id: number): number => {
            throw failure;
          },
          { key: 'x:{{id}}', context: (id) => ({ id }) },
        );
        const like = cache.invalidating(
          (_slug: string): number => {
            throw failure;
          },
          { patterns: ['posts:{{slug}}:likes'], context: (slug) => ({ slug }) },
        );
        for (const call of [() => get(1), () => like('a')]) {
          let pending: unknown;
          expect(() => {
            pending = call();
          }).not.toThrow();
          expect(pending).toBeInstanceOf(Promise);
          await expect(pending).rejects.toBe(failure);
        }
        const empty: string = '';
        await expect(cache.get(empty)).rejects.toMatchObject({ code: 'E_TEMPLATE_SYNTAX' });
        await expect(cache.set('k', 1, { ttl: 0 })).rejects.toMatchObject({
          code: 'E_INVALID_OPTION',
        });
        await expect(cache.getOrSet(empty, () => 1)).rejects.toMatchObject({
          code: 'E_TEMPLATE_SYNTAX',
        });
      });
    });

    describe('two cache instances on one shared store', () => {
      const unshared = options.shared === undefined;

      it.skipIf(unshared)('see each other’s entries and invalidations', async () => {
        const [storeA, storeB] = pair as readonly [S, S];
        const appA = newCache({}, storeA);
        const appB = newCache({}, storeB);
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
        expect(await appA.delete('posts:y')).toBe(true);
        expect(await appB.get('posts:y')).toBeUndefined();
      });

      it.skipIf(unshared)(
        'with atomic writes, run the function once for concurrent misses in both instances',
        async ({ skip }) => {
          const [storeA, storeB] = pair as readonly [S, S];
          if (!isAtomic(storeA))
            skip('the store has no atomic writes: one computation per instance');
          const appA = newCache({}, storeA);
          const appB = newCache({}, storeB);
          const waits: string[] = [];
          appB.on('wait', ({ key }) => waits.push(key));
          const gate = deferred<string>();
          const load = vi.fn(async () => gate.promise);
          const getA = appA.cacheable(load, { key: 'hot' });
          const getB = appB.cacheable(load, { key: 'hot' });
          const first = getA();
          await vi.waitFor(() => expect(load).toHaveBeenCalledTimes(1));
          const calls = [first, getB(), getA(), getB()];
          await vi.waitFor(() => expect(waits).toContain(full('hot')));
          gate.resolve('v');
          expect(await Promise.all(calls)).toEqual(['v', 'v', 'v', 'v']);
          expect(load).toHaveBeenCalledTimes(1);
        },
      );

      it.skipIf(unshared)(
        'with atomic writes, let the other instance compute when the one computing fails',
        async ({ skip }) => {
          const [storeA, storeB] = pair as readonly [S, S];
          if (!isAtomic(storeA)) skip('the store has no atomic writes: nothing to wait for');
          const appA = newCache({}, storeA);
          const appB = newCache({}, storeB);
          const waiting = deferred<void>();
          appB.on('wait', () => waiting.resolve());
          const started = deferred<void>();
          const gate = deferred<string>();
          const failing = appA.cacheable(
            () => {
              started.resolve();
              return gate.promise;
            },
            { key: 'k' },
          );
          const first = failing();
          // Only once A holds the key's lease does B call, so B is the one waiting.
          await started.promise;
          const second = appB.cacheable(async () => 'ok', { key: 'k' })();
          await waiting.promise;
          gate.reject(new Error('db down'));
          await expect(first).rejects.toThrow('db down');
          expect(await second).toBe('ok');
          expect(await appA.get('k')).toBe('ok');
        },
      );

      it.skipIf(unshared)(
        'with atomic writes, store nothing computed before an invalidation made by the other instance',
        async ({ skip }) => {
          const [storeA, storeB] = pair as readonly [S, S];
          if (!isAtomic(storeA)) skip('the store has no atomic writes: protection is per instance');
          const reader = newCache({}, storeA);
          const writer = newCache({}, storeB);
          let row = 'old';
          const reading = deferred<void>();
          const release = deferred<void>();
          let first = true;
          const getPost = reader.cacheable(
            async () => {
              const seen = row;
              if (first) {
                first = false;
                reading.resolve();
                await release.promise;
              }
              return seen;
            },
            { key: 'posts:a' },
          );
          const update = writer.invalidating(
            async () => {
              row = 'new';
            },
            { patterns: ['posts:a:*'] },
          );
          const early = getPost();
          await reading.promise;
          await update();
          release.resolve();
          expect(await early).toBe('old');
          expect(await writer.get('posts:a')).toBeUndefined();
          expect(await getPost()).toBe('new');
        },
      );
    });
  });
}
