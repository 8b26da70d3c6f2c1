import { describe, expect, it, vi } from 'vitest';
import {
  createCache,
  InvalidationError,
  InvalidOptionError,
  MemoryStore,
  MissingContextValueError,
} from '../../src/index.js';
import { ChaosStore } from '../../src/testing/index.js';
import { AsyncMemoryStore, recordingLogger } from '../helpers/stores.js';

type Req = { user: string };
const req: Req = { user: 'u1' };

const SEEDED_KEYS = [
  'posts:my-slug',
  'posts:my-slug:comments',
  'posts:my-slug:likes',
  'posts:my-slug-2',
  'posts:other',
  'posts:other:comments',
  'posts:list:~abc',
  'posts:list:~def',
  'users:1:profile',
];

/** A cache whose store holds SEEDED_KEYS; `left()` lists those still there. */
function seeded(store = new MemoryStore()) {
  const cache = createCache({ store });
  for (const key of SEEDED_KEYS) store.set(`quickpost:${key}`, 'v', 60_000);
  const left = () => SEEDED_KEYS.filter((key) => store.get(`quickpost:${key}`) !== undefined);
  return { cache, store, left };
}

describe('invalidating', () => {
  it('runs the mutation, then deletes the patterns (a trailing :* takes the base key too)', async () => {
    const { cache, left } = seeded();
    const save = vi.fn(async (_req: Req, slug: string, title: string) => ({ slug, title }));
    const updatePost = cache.invalidating(save, {
      patterns: ['posts:{{slug}}:*', 'posts:list:*'],
      context: (_r, slug) => ({ slug }),
    });
    expect(await updatePost(req, 'my-slug', 'New')).toEqual({ slug: 'my-slug', title: 'New' });
    expect(save).toHaveBeenCalledWith(req, 'my-slug', 'New');
    expect(left()).toEqual([
      'posts:my-slug-2',
      'posts:other',
      'posts:other:comments',
      'users:1:profile',
    ]);
  });

  it('returns the mutation’s result object itself', async () => {
    const { cache } = seeded();
    const result = { ok: true };
    const mutate = cache.invalidating(async () => result, { patterns: ['posts:list:*'] });
    expect(await mutate()).toBe(result);
  });

  it('deletes nothing and rethrows the same error when the mutation fails', async () => {
    const { cache, left } = seeded();
    const before = left();
    const failure = new Error('constraint violated');
    const updatePost = cache.invalidating(
      async (_slug: string): Promise<void> => {
        throw failure;
      },
      { patterns: ['posts:{{slug}}:*'], context: (slug) => ({ slug }) },
    );
    await expect(updatePost('my-slug')).rejects.toBe(failure);
    expect(left()).toEqual(before);
  });

  it('deletes only after the mutation has finished', async () => {
    const store = new AsyncMemoryStore();
    const cache = createCache({ store });
    const updatePost = cache.invalidating(
      async (slug: string) => {
        store.calls.push(`mutation ${slug}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        store.calls.push(`mutation done ${slug}`);
      },
      { patterns: ['posts:{{slug}}:*'], context: (slug) => ({ slug }) },
    );
    await updatePost('a');
    expect(store.calls).toEqual([
      'mutation a',
      'mutation done a',
      'deletePattern quickpost:posts:a:*',
      'delete quickpost:posts:a',
    ]);
  });

  it('can take placeholder values from the mutation’s result', async () => {
    const { cache, left } = seeded();
    const createPost = cache.invalidating(
      async (_req: Req, title: string) => ({ slug: 'my-slug', title }),
      {
        patterns: ['posts:{{slug}}:*', 'posts:list:*'],
        contextFromResult: (post, _r, title) => {
          expect(title).toBe('Hello');
          return { slug: post.slug };
        },
      },
    );
    await createPost(req, 'Hello');
    expect(left()).toEqual([
      'posts:my-slug-2',
      'posts:other',
      'posts:other:comments',
      'users:1:profile',
    ]);
  });

  it('keeps a synchronous mutation synchronous on a synchronous store', () => {
    const { cache, left } = seeded();
    const result = { id: 1 };
    const like = cache.invalidating((slug: string) => (slug ? result : result), {
      patterns: ['posts:{{slug}}:likes'],
      context: (slug) => ({ slug }),
    });
    expect(like('my-slug')).toBe(result);
    expect(left()).not.toContain('posts:my-slug:likes');
    expect(left()).toContain('posts:my-slug');
  });

  it('returns a promise for a synchronous mutation on an asynchronous store', async () => {
    const cache = createCache({ store: new AsyncMemoryStore() });
    const like = cache.invalidating((slug: string) => slug.length, {
      patterns: ['posts:{{slug}}:likes'],
      context: (slug) => ({ slug }),
    });
    const pending = like('abc');
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toBe(3);
  });

  it('treats hostile values as literal text that matches nothing else', async () => {
    const { cache, left } = seeded();
    const updatePost = cache.invalidating(async (_slug: string) => undefined, {
      patterns: ['posts:{{slug}}:*'],
      context: (slug) => ({ slug }),
    });
    for (const slug of [
      '*',
      '?',
      'my-slug*',
      'my-slug?',
      '[m]y-slug',
      'my-slug\\',
      '',
      'my-slug:*',
    ]) {
      await updatePost(slug);
    }
    expect(left()).toHaveLength(9);
  });

  it('does not run the mutation when the patterns cannot be rendered', async () => {
    const { cache } = seeded();
    const save = vi.fn(async (_slug: string) => 'saved');
    const updatePost = cache.invalidating(save, {
      patterns: ['posts:{{slug}}:*'],
      context: () => ({}) as { slug: string },
    });
    await expect(updatePost('a')).rejects.toMatchObject({ code: 'E_MISSING_CONTEXT_VALUE' });
    expect(save).not.toHaveBeenCalled();
  });

  it('returns the result and reports when the deletes fail', async () => {
    const logger = recordingLogger();
    const cache = createCache({
      store: new ChaosStore(new MemoryStore()).fail(['deletePattern', 'delete']),
      logger,
    });
    const updatePost = cache.invalidating(async (slug: string) => `saved ${slug}`, {
      patterns: ['posts:{{slug}}:*'],
      context: (slug) => ({ slug }),
    });
    expect(await updatePost('a')).toBe('saved a');
    expect(logger.lines.warn).toEqual([
      expect.stringContaining(
        'INVALIDATION PENDING: deleting quickpost:posts:a:* failed; retrying until the store confirms it',
      ),
    ]);
  });

  // Issue 10: a `contextFromResult` bug was logged like a store failure and the result returned,
  // leaving the entries stale until their TTL with nothing but a log line to show for it.
  it.each(['report', 'throw'] as const)(
    'with invalidationErrors: %s, rejects with InvalidationError carrying the result when `contextFromResult` leaves a value out, and invalidates every key its patterns could match',
    async (invalidationErrors) => {
      const { store, left } = seeded();
      const logger = recordingLogger();
      const cache = createCache({ store, logger, invalidationErrors });
      const result = { slug: undefined as unknown as string };
      const createPost = cache.invalidating(async () => result, {
        patterns: ['posts:{{slug}}:*', 'users:{{slug}}:profile'],
        contextFromResult: (post) => ({ slug: post.slug }),
      });
      const error = (await createPost().catch((e: unknown) => e)) as InvalidationError;
      expect(error).toBeInstanceOf(InvalidationError);
      expect(error).toMatchObject({
        code: 'E_INVALIDATION_FAILED',
        reason: 'contextFromResult',
        patterns: ['quickpost:posts:*:*', 'quickpost:users:*:profile'],
      });
      expect(error.result).toBe(result);
      expect(error.message).toContain('a bug to fix in `contextFromResult`');
      expect(error.cause).toBeInstanceOf(MissingContextValueError);
      expect(error.cause).toMatchObject({ origin: 'contextFromResult', placeholder: 'slug' });
      expect((error.cause as Error).message).toContain(
        'but the `contextFromResult` function of invalidating(posts:{{slug}}:*, users:{{slug}}:profile) returned none',
      );
      // Every post (and every user profile) is gone: nothing the bug kept from being invalidated
      // stays stale.
      expect(left()).toEqual([]);
      expect(logger.lines.error).toEqual([]);
    },
  );

  it('passes the error `contextFromResult` threw on as the cause, synchronously for a synchronous mutation on a synchronous store', () => {
    const { cache, left } = seeded();
    const bug = new TypeError("Cannot read properties of null (reading 'slug')");
    const createPost = cache.invalidating((): { slug: string } | null => null, {
      patterns: ['posts:{{slug}}:*'],
      contextFromResult: () => {
        throw bug;
      },
    });
    let error: unknown;
    try {
      createPost();
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(InvalidationError);
    expect(error).toMatchObject({ reason: 'contextFromResult', result: null, cause: bug });
    expect(left()).toEqual(['users:1:profile']);
  });

  it('rejects (never throws) when a sync mutation throws on an asynchronous store', async () => {
    const cache = createCache({ store: new AsyncMemoryStore() });
    const failure = new Error('nope');
    const like = cache.invalidating(
      (_slug: string): number => {
        throw failure;
      },
      { patterns: ['posts:{{slug}}:likes'], context: (slug) => ({ slug }) },
    );
    const pending = like('a');
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).rejects.toBe(failure);
  });

  it('still deletes the other patterns when one pattern’s delete fails', async () => {
    const logger = recordingLogger();
    const store = new AsyncMemoryStore();
    const failing = store.deletePattern.bind(store);
    store.deletePattern = async (pattern: string) => {
      if (pattern.includes(':comments')) throw new Error('shard down');
      return failing(pattern);
    };
    const cache = createCache({ store, logger });
    await cache.set('posts:a:likes', 1);
    await cache.set('posts:list:1', 1);
    const update = cache.invalidating(async (_slug: string) => 'ok', {
      patterns: ['posts:{{slug}}:comments:*', 'posts:{{slug}}:likes', 'posts:list:*'],
      context: (slug) => ({ slug }),
    });
    expect(await update('a')).toBe('ok');
    expect(await cache.get('posts:a:likes')).toBeUndefined();
    expect(await cache.get('posts:list:1')).toBeUndefined();
    expect(logger.lines.warn.filter((line) => line.includes('PENDING'))).toEqual([
      expect.stringContaining('INVALIDATION PENDING: deleting quickpost:posts:a:comments:* failed'),
    ]);
  });

  it('logs INVALIDATE lines with counts in debug mode', async () => {
    const logger = recordingLogger();
    const store = new MemoryStore();
    const cache = createCache({ store, logger, debug: true });
    store.set('quickpost:posts:my-slug', 'v', 10_000);
    store.set('quickpost:posts:my-slug:comments', 'v', 10_000);
    store.set('quickpost:posts:my-slug:likes', 'v', 10_000);
    async function updatePost(_slug: string) {}
    await cache.invalidating(updatePost, {
      patterns: ['posts:{{slug}}:*', 'posts:list:*'],
      context: (slug) => ({ slug }),
    })('my-slug');
    expect(logger.lines.debug).toEqual([
      '[Cache] updatePost | Context: {"slug":"my-slug"} | Patterns: quickpost:posts:my-slug:*, quickpost:posts:list:*',
      '[Cache] INVALIDATE: quickpost:posts:my-slug:* (3 keys)',
      '[Cache] INVALIDATE: quickpost:posts:list:* (0 keys)',
    ]);
  });

  it.each([
    [{ patterns: [] }, 'patterns'],
    [{ patterns: 'posts:*' }, 'patterns'],
    [{ patterns: ['posts:{{slug'] }, undefined],
    [{ patterns: ['posts:{{slug}}:*'] }, 'context'],
    [
      { patterns: ['posts:{{slug}}'], context: () => ({}), contextFromResult: () => ({}) },
      'contextFromResult',
    ],
  ])('rejects %j when the wrapper is made', (options, option) => {
    const cache = createCache();
    expect(() => cache.invalidating(async () => 1, options as never)).toThrow(
      option === undefined
        ? expect.objectContaining({ code: 'E_TEMPLATE_SYNTAX' })
        : expect.objectContaining({ option }),
    );
    if (option !== undefined) {
      expect(() => cache.invalidating(async () => 1, options as never)).toThrow(InvalidOptionError);
    }
  });
});
