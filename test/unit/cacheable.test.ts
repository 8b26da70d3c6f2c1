import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  createCache,
  InvalidOptionError,
  MemoryStore,
  TemplateSyntaxError,
} from '../../src/index.js';
import { AsyncMemoryStore, ChaosStore, deferred, recordingLogger } from '../helpers/stores.js';

type Req = { user: string };
const req: Req = { user: 'u1' };

afterEach(() => {
  vi.useRealTimers();
});

describe('cacheable on an async function', () => {
  it('computes on a miss, then answers from the cache', async () => {
    const cache = createCache();
    const load = vi.fn(async (_req: Req, slug: string) => ({ slug, title: `Post ${slug}` }));
    const getPost = cache.cacheable(load, {
      key: 'posts:{{slug}}',
      context: (_r, slug) => ({ slug }),
    });
    expect(await getPost(req, 'a')).toEqual({ slug: 'a', title: 'Post a' });
    expect(await getPost(req, 'a')).toEqual({ slug: 'a', title: 'Post a' });
    expect(await getPost(req, 'b')).toEqual({ slug: 'b', title: 'Post b' });
    expect(load).toHaveBeenCalledTimes(2);
    expect(cache.store.get('quickpost:posts:a')).toContain('"title":"Post a"');
  });

  it('expires entries after ttl seconds', async () => {
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

  it('uses the cache’s default ttl when the wrapper has none', async () => {
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

  it('does not cache errors and rethrows the same object', async () => {
    const cache = createCache();
    const failure = new Error('db down');
    let fail = true;
    const getPost = cache.cacheable(
      async (slug: string) => {
        if (fail) throw failure;
        return slug;
      },
      { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
    );
    await expect(getPost('a')).rejects.toBe(failure);
    fail = false;
    expect(await getPost('a')).toBe('a');
  });

  it('caches null and undefined results, unless shouldCache declines', async () => {
    const cache = createCache();
    const loadNull = vi.fn(async (_id: number) => null);
    const findPost = cache.cacheable(loadNull, { key: 'find:{{id}}', context: (id) => ({ id }) });
    expect(await findPost(1)).toBeNull();
    expect(await findPost(1)).toBeNull();
    expect(loadNull).toHaveBeenCalledTimes(1);

    const loadUndefined = vi.fn(async () => undefined);
    const maybe = cache.cacheable(loadUndefined, { key: 'maybe' });
    await maybe();
    await maybe();
    expect(loadUndefined).toHaveBeenCalledTimes(1);

    const loadPicky = vi.fn(async (id: number) => (id > 0 ? { id } : null));
    const picky = cache.cacheable(loadPicky, {
      key: 'picky:{{id}}',
      context: (id) => ({ id }),
      shouldCache: (post) => post !== null,
    });
    await picky(0);
    await picky(0);
    await picky(1);
    await picky(1);
    expect(loadPicky).toHaveBeenCalledTimes(3);
  });

  it('shares one computation between concurrent misses of a key', async () => {
    const cache = createCache({ store: new AsyncMemoryStore() });
    const gate = deferred<string>();
    const load = vi.fn((_slug: string) => gate.promise);
    const getPost = cache.cacheable(load, { key: 'posts:{{slug}}', context: (slug) => ({ slug }) });
    const calls = Array.from({ length: 20 }, () => getPost('a'));
    await vi.waitFor(() => expect(load).toHaveBeenCalled());
    gate.resolve('value');
    expect(await Promise.all(calls)).toEqual(Array(20).fill('value'));
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('passes arguments and this through, and keeps the function’s name and length', async () => {
    const cache = createCache();
    const repo = {
      table: 'posts',
      async find(this: { table: string }, id: number, _opts?: object) {
        return `${this.table}/${id}`;
      },
    };
    const find = cache.cacheable(repo.find, { key: 'find:{{id}}', context: (id) => ({ id }) });
    expect(find.name).toBe('find');
    expect(find.length).toBe(2);
    expect(await find.call(repo, 7)).toBe('posts/7');
    const anonymous = cache.cacheable(async () => 1, { key: 'one', name: 'getOne' });
    expect(anonymous.name).toBe('getOne');
  });

  it('reads values back with their types (Date, Map, BigInt)', async () => {
    const cache = createCache();
    const load = vi.fn(async () => ({ at: new Date(0), counts: new Map([['a', 1n]]) }));
    const get = cache.cacheable(load, { key: 'stats' });
    await get();
    const hit = await get();
    expect(load).toHaveBeenCalledTimes(1);
    expect(hit.at).toBeInstanceOf(Date);
    expect(hit.counts.get('a')).toBe(1n);
  });
});

describe('cacheable on a sync function', () => {
  it('stays synchronous on a synchronous store', () => {
    const cache = createCache();
    const load = vi.fn((id: number) => ({ id }));
    const getUser = cache.cacheable(load, { key: 'users:{{id}}', context: (id) => ({ id }) });
    const first = getUser(1);
    expect(first).toEqual({ id: 1 });
    expect(first).not.toBeInstanceOf(Promise);
    expect(getUser(1)).toEqual({ id: 1 });
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('throws errors synchronously, uncached, as the same object', () => {
    const cache = createCache();
    const failure = new Error('nope');
    const get = cache.cacheable(
      (_id: number): number => {
        throw failure;
      },
      { key: 'x:{{id}}', context: (id) => ({ id }) },
    );
    expect(() => get(1)).toThrow(failure);
    expect(cache.store.size).toBe(0);
  });

  it('returns a promise on an asynchronous store', async () => {
    const cache = createCache({ store: new AsyncMemoryStore() });
    const getUser = cache.cacheable((id: number) => ({ id }), {
      key: 'users:{{id}}',
      context: (id) => ({ id }),
    });
    const result = getUser(1);
    expect(result).toBeInstanceOf(Promise);
    expect(await result).toEqual({ id: 1 });
  });

  it('stays synchronous while an async computation of the same key is in flight', async () => {
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

  it('switches to promises once a plain function turns out to return one', async () => {
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
});

describe('cacheable keys', () => {
  it('puts the prefix in front exactly once', async () => {
    const cache = createCache({ prefix: 'blog' });
    const get = cache.cacheable((slug: string) => slug, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    get('a');
    expect(cache.store.get('blog:posts:a')).toBeDefined();
    expect(cache.get('posts:a')).toBe('a');
  });

  it('gives hostile values their own entries', () => {
    const cache = createCache();
    const load = vi.fn((slug: string) => `post ${slug}`);
    const get = cache.cacheable(load, { key: 'posts:{{slug}}', context: (slug) => ({ slug }) });
    const slugs = [
      '*',
      '?',
      '[a-z]',
      'a\\',
      'x:comments',
      '{x}',
      '',
      'ü',
      '\u0000',
      'a'.repeat(10_000),
    ];
    for (const slug of slugs) expect(get(slug)).toBe(`post ${slug}`);
    for (const slug of slugs) expect(get(slug)).toBe(`post ${slug}`);
    expect(load).toHaveBeenCalledTimes(slugs.length);
  });

  it('hashes object context values so equal filters share an entry', () => {
    const cache = createCache();
    const load = vi.fn((filters: { tag: string; page: number }) => [filters.tag, filters.page]);
    const list = cache.cacheable(load, {
      key: 'posts:list:{{filters}}',
      context: (filters) => ({ filters }),
    });
    list({ tag: 'redis', page: 1 });
    list({ page: 1, tag: 'redis' } as { tag: string; page: number });
    list({ tag: 'redis', page: 2 });
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('fails when the wrapper is made for a malformed template or a missing context', () => {
    const cache = createCache();
    expect(() => cache.cacheable(() => 1, { key: 'posts:{{slug' } as never)).toThrow(
      TemplateSyntaxError,
    );
    expect(() =>
      cache.cacheable((slug: string) => slug, { key: 'posts:{{slug}}' } as never),
    ).toThrow(
      expect.objectContaining({ option: 'context', message: expect.stringContaining('{{slug}}') }),
    );
  });

  it('rejects (async) or throws (sync) when the context lacks a placeholder', async () => {
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

describe('cacheable with a schema', () => {
  it('treats a stored value that fails the schema as a miss, deletes it and logs it', async () => {
    const logger = recordingLogger();
    const cache = createCache({ logger });
    const Post = z.object({ title: z.string() });
    const load = vi.fn(async (_slug: string) => ({ title: 'fresh' }));
    const getPost = cache.cacheable(load, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
      schema: Post,
      debug: true,
    });
    cache.set('posts:a', { title: 42 });
    expect(await getPost('a')).toEqual({ title: 'fresh' });
    expect(load).toHaveBeenCalledTimes(1);
    expect(logger.lines.debug).toContainEqual(
      expect.stringMatching(/^\[Cache\] INVALID: quickpost:posts:a \(schema: .+; deleted\)$/),
    );
    expect(await getPost('a')).toEqual({ title: 'fresh' });
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('returns the schema’s output on a hit', async () => {
    const cache = createCache();
    const getCount = cache.cacheable(async () => 5, {
      key: 'count',
      schema: z.number().transform((n) => n * 2),
    });
    expect(await getCount()).toBe(5);
    expect(await getCount()).toBe(10);
  });
});

describe('cacheable when the store fails', () => {
  it('calls the function, returns its result and reports the failures', async () => {
    const logger = recordingLogger();
    const store = new ChaosStore({ failing: ['get', 'set'] });
    const cache = createCache({ store, logger });
    const load = vi.fn(async (slug: string) => `post ${slug}`);
    const getPost = cache.cacheable(load, { key: 'posts:{{slug}}', context: (slug) => ({ slug }) });
    expect(await getPost('a')).toBe('post a');
    expect(await getPost('a')).toBe('post a');
    expect(load).toHaveBeenCalledTimes(2);
    expect(logger.lines.warn).toContainEqual(
      expect.stringContaining('get quickpost:posts:a failed'),
    );
    store.failing.delete('get');
    expect(await getPost('b')).toBe('post b');
    expect(logger.lines.warn).toContainEqual(
      expect.stringContaining('set quickpost:posts:b failed'),
    );
  });

  it('treats an unreadable stored value as a miss and deletes it', async () => {
    const store = new MemoryStore();
    const cache = createCache({ store });
    store.set('quickpost:posts:a', 'not an entry', 10_000);
    const getPost = cache.cacheable((slug: string) => `post ${slug}`, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    expect(getPost('a')).toBe('post a');
    expect(store.get('quickpost:posts:a')?.startsWith('\x011j|')).toBe(true);
  });
});

describe('cacheable and invalidation in flight', () => {
  it('does not store, or hand to later callers, a value computed before an invalidation', async () => {
    const cache = createCache({ store: new AsyncMemoryStore() });
    let row = 'old';
    const reading = deferred<void>();
    const release = deferred<void>();
    const getPost = cache.cacheable(
      async (_slug: string) => {
        const seen = row;
        reading.resolve();
        await release.promise;
        return seen;
      },
      { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
    );
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
  });
});

describe('cacheable debug mode', () => {
  it('logs the context, key, MISS, SET and HIT lines', async () => {
    const logger = recordingLogger();
    const cache = createCache({ logger });
    async function getPost(_req: Req, slug: string) {
      return { slug };
    }
    const cached = cache.cacheable(getPost, {
      key: 'posts:{{slug}}',
      ttl: 600,
      context: (_r, slug) => ({ slug }),
      debug: true,
    });
    await cached(req, 'my-post');
    await cached(req, 'my-post');
    expect(logger.lines.debug).toEqual([
      '[Cache] getPost | Context: {"slug":"my-post"} | Key: quickpost:posts:my-post',
      '[Cache] MISS: quickpost:posts:my-post',
      '[Cache] SET: quickpost:posts:my-post (TTL: 600s)',
      '[Cache] getPost | Context: {"slug":"my-post"} | Key: quickpost:posts:my-post',
      '[Cache] HIT: quickpost:posts:my-post',
    ]);
  });

  it('logs nothing when debug is off', async () => {
    const logger = recordingLogger();
    const cache = createCache({ logger });
    const get = cache.cacheable(async () => 1, { key: 'one' });
    await get();
    await get();
    expect(logger.lines.debug).toEqual([]);
  });

  it('follows the cache’s debug setting unless the wrapper overrides it', async () => {
    const logger = recordingLogger();
    const cache = createCache({ logger, debug: true });
    await cache.cacheable(async () => 1, { key: 'one', name: 'one' })();
    await cache.cacheable(async () => 2, { key: 'two', debug: false })();
    expect(logger.lines.debug[0]).toBe('[Cache] one | Context: {} | Key: quickpost:one');
    expect(logger.lines.debug.join('\n')).not.toContain('quickpost:two');
  });
});

describe('cacheable options', () => {
  it.each([
    [{ key: 'k', ttl: -5 }, 'ttl', '`ttl` must be a positive number of seconds, got -5'],
    [{ key: 'k', ttl: 0 }, 'ttl', 'got 0'],
    [{ key: 42 }, 'key', '`key` must be a key template string'],
    [{ key: 'k', debug: 'yes' }, 'debug', "got 'yes'"],
    [{ key: 'k', context: 'slug' }, 'context', 'must be a function'],
    [{ key: 'k', schema: {} }, 'schema', 'Standard Schema'],
    [{ key: 'k', tll: 5 }, 'tll', '`tll` is not an option of cacheable'],
  ])('rejects %j naming `%s`', (options, option, message) => {
    const cache = createCache();
    let error: unknown;
    try {
      cache.cacheable(() => 1, options as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ code: 'E_INVALID_OPTION', option });
    expect((error as Error).message).toContain(message);
  });

  it('rejects a non-function', () => {
    const cache = createCache();
    expect(() => cache.cacheable('nope' as never, { key: 'k' })).toThrow(InvalidOptionError);
  });
});
