import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { MapStore } from '../../examples/map-store.js';
import { createCache } from '../../src/index.js';

function setup() {
  const store = new MapStore();
  return { store, cache: createCache({ store }) };
}

/** A read counting its calls per slug, so tests can tell a hit (no call) from a miss. */
function countingRead(prefix: string) {
  const calls: string[] = [];
  const read = async (slug: string): Promise<string> => {
    calls.push(`${prefix}:${slug}`);
    return `${prefix} of ${slug}`;
  };
  return { calls, read };
}

describe('a cache on a custom asynchronous store (MapStore)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('cacheable: a miss calls the function and stores under the prefixed key, a hit does not call it', async () => {
    const { cache, store } = setup();
    const { calls, read } = countingRead('post');
    const getPost = cache.cacheable(read, { key: 'posts:{{slug}}', context: (slug) => ({ slug }) });

    expect(await getPost('a')).toBe('post of a');
    expect(await getPost('a')).toBe('post of a');
    expect(await getPost('b')).toBe('post of b');
    expect(calls).toEqual(['post:a', 'post:b']);
    expect(await store.get('quickpost:posts:a')).toEqual(expect.any(String));
  });

  it('cacheable: concurrent misses of one key share one computation', async () => {
    const { cache } = setup();
    let calls = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const getPost = cache.cacheable(
      async (slug: string) => {
        calls += 1;
        await gate;
        return `post ${slug}`;
      },
      { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
    );

    const both = Promise.all([getPost('a'), getPost('a')]);
    // Once every pending store read has answered, both callers have missed; one computes.
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(1);
    release();
    expect(await both).toEqual(['post a', 'post a']);
  });

  it("a synchronous function's wrapper returns a promise on this store, hits included", async () => {
    const { cache } = setup();
    let calls = 0;
    const square = (n: number): number => {
      calls += 1;
      return n * n;
    };
    const cachedSquare = cache.cacheable(square, { key: 'square:{{n}}', context: (n) => ({ n }) });

    const miss: Promise<number> = cachedSquare(4);
    expect(miss).toBeInstanceOf(Promise);
    expect(await miss).toBe(16);
    const hit: Promise<number> = cachedSquare(4);
    expect(hit).toBeInstanceOf(Promise);
    expect(await hit).toBe(16);
    expect(calls).toBe(1);
    // The same function on the synchronous memory store stays synchronous.
    expect(
      createCache().cacheable(square, { key: 'square:{{n}}', context: (n) => ({ n }) })(3),
    ).toBe(9);
  });

  it('cacheable: shouldCache and schema work on this store', async () => {
    const { cache, store } = setup();
    let calls = 0;
    const find = cache.cacheable(
      async (slug: string): Promise<{ title: string } | null> => {
        calls += 1;
        return slug === 'a' ? { title: 'A' } : null;
      },
      {
        key: 'posts:{{slug}}',
        context: (slug) => ({ slug }),
        shouldCache: (post) => post !== null,
        schema: z.object({ title: z.string() }).nullable(),
      },
    );

    expect(await find('missing')).toBeNull();
    expect(await store.get('quickpost:posts:missing')).toBeUndefined();
    await cache.set('posts:a', { title: 42 });
    expect(await find('a')).toEqual({ title: 'A' });
    expect(await cache.get('posts:a')).toEqual({ title: 'A' });
    expect(calls).toBe(2);
  });

  it('invalidating with a `:*` pattern removes the base key and its sub-keys, not other posts', async () => {
    const { cache } = setup();
    const post = countingRead('post');
    const comments = countingRead('comments');
    const getPost = cache.cacheable(post.read, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    const getComments = cache.cacheable(comments.read, {
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
    // Only `a` and `a:comments` were read again; `ab` shares the prefix `a` but is another post.
    expect(post.calls).toEqual(['post:a', 'post:ab', 'post:b', 'post:a']);
    expect(comments.calls).toEqual(['comments:a', 'comments:ab', 'comments:b', 'comments:a']);
  });

  it('invalidating: a hostile `*` slug removes nothing else, a failed mutation removes nothing', async () => {
    const { cache } = setup();
    await cache.set('posts:a', 'A');
    await cache.set('posts:a:likes', 3);
    const removePost = cache.invalidating(
      async (slug: string, fail: boolean) => {
        if (fail) throw new Error('database down');
        return slug;
      },
      { patterns: ['posts:{{slug}}:*'], context: (slug) => ({ slug }) },
    );

    expect(await removePost('*', false)).toBe('*');
    await expect(removePost('a', true)).rejects.toThrow('database down');
    expect(await cache.get('posts:a')).toBe('A');
    expect(await cache.get('posts:a:likes')).toBe(3);
  });

  it('invalidating: contextFromResult fills the patterns from the result', async () => {
    const { cache } = setup();
    await cache.set('posts:new-post', null);
    await cache.set('posts:list:all', ['old-post']);
    await cache.set('posts:old-post', 'kept');
    const createPost = cache.invalidating(async (title: string) => ({ slug: 'new-post', title }), {
      patterns: ['posts:{{slug}}:*', 'posts:list:*'],
      contextFromResult: (created) => ({ slug: created.slug }),
    });

    expect(await createPost('New post')).toEqual({ slug: 'new-post', title: 'New post' });
    expect(await cache.get('posts:new-post')).toBeUndefined();
    expect(await cache.get('posts:list:all')).toBeUndefined();
    expect(await cache.get('posts:old-post')).toBe('kept');
  });

  it('manual get / set / delete / deletePattern', async () => {
    const { cache } = setup();
    expect(await cache.get('k')).toBeUndefined();
    await cache.set('k', { n: 1 });
    expect(await cache.get('k')).toEqual({ n: 1 });
    expect(await cache.delete('k')).toBe(true);
    expect(await cache.delete('k')).toBe(false);
    expect(await cache.get('k')).toBeUndefined();

    await cache.set('users:1', 'one');
    await cache.set('users:2', 'two');
    await cache.set('posts:1', 'post');
    expect(await cache.deletePattern('users:?')).toBe(2);
    expect(await cache.deletePattern('users:?')).toBe(0);
    expect(await cache.get('users:1')).toBeUndefined();
    expect(await cache.get('posts:1')).toBe('post');
  });

  it('manual getOrSet computes once, then reads the stored value', async () => {
    const { cache } = setup();
    let calls = 0;
    const compute = (): string[] => {
      calls += 1;
      return ['redis', 'node'];
    };

    expect(await cache.getOrSet('tags', compute)).toEqual(['redis', 'node']);
    expect(await cache.getOrSet('tags', compute)).toEqual(['redis', 'node']);
    expect(await cache.getOrSet('count', async () => 7)).toBe(7);
    expect(await cache.getOrSet('count', async () => 8)).toBe(7);
    expect(calls).toBe(1);
    expect(await cache.get('tags')).toEqual(['redis', 'node']);
  });

  it('entries expire after their TTL, and expired entries do not count as removed', async () => {
    vi.useFakeTimers();
    const { cache } = setup();
    const { calls, read } = countingRead('post');
    const getPost = cache.cacheable(read, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
      ttl: 10,
    });
    await cache.set('manual', 1, { ttl: 5 });
    await cache.set('gone:1', 1, { ttl: 5 });
    await getPost('a');

    vi.advanceTimersByTime(4_999);
    expect(await cache.get('manual')).toBe(1);
    vi.advanceTimersByTime(1);
    expect(await cache.get('manual')).toBeUndefined();
    expect(await cache.delete('manual')).toBe(false);
    expect(await cache.deletePattern('gone:*')).toBe(0);
    await getPost('a');
    expect(calls).toEqual(['post:a']);

    vi.advanceTimersByTime(5_000);
    await getPost('a');
    expect(calls).toEqual(['post:a', 'post:a']);
  });

  it('Date and Map values come back as Date and Map', async () => {
    const { cache } = setup();
    let calls = 0;
    const getStats = cache.cacheable(
      async (slug: string) => {
        calls += 1;
        return {
          slug,
          publishedAt: new Date('2024-05-01T10:00:00.000Z'),
          likesByDay: new Map([['2024-05-01', 3]]),
        };
      },
      { key: 'stats:{{slug}}', context: (slug) => ({ slug }) },
    );

    const computed = await getStats('a');
    const hit = await getStats('a');
    expect(calls).toBe(1);
    expect(hit).not.toBe(computed);
    expect(hit.publishedAt).toBeInstanceOf(Date);
    expect(hit.publishedAt.toISOString()).toBe('2024-05-01T10:00:00.000Z');
    expect(hit.likesByDay).toBeInstanceOf(Map);
    expect([...hit.likesByDay]).toEqual([['2024-05-01', 3]]);

    await cache.set('manual', new Map([['at', new Date(0)]]));
    const manual = await cache.get<Map<string, Date>>('manual');
    expect(manual?.get('at')).toEqual(new Date(0));
  });
});
