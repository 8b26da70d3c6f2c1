import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createCache,
  MemoryStore,
  MissingContextValueError,
  type Store,
  TemplateSyntaxError,
} from '../../src/index.js';
import {
  ChaosStore,
  PassThroughStore,
  recordCache,
  useCacheClock,
} from '../../src/testing/index.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A blog's cached reads and one mutation on `store`, counting the functions' runs. */
function blog(store: Store) {
  const cache = createCache({ store, prefix: 'blog' });
  const runs = { post: 0, comments: 0 };
  const getPost = cache.cacheable(
    async function getPost(slug: string) {
      runs.post += 1;
      return { slug };
    },
    { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
  );
  const getComments = cache.cacheable(
    async (slug: string) => {
      runs.comments += 1;
      return [`${slug}!`];
    },
    { key: 'posts:{{slug}}:comments', context: (slug) => ({ slug }) },
  );
  const updatePost = cache.invalidating(async (slug: string) => ({ slug }), {
    patterns: ['posts:{{slug}}:*'],
    context: (slug) => ({ slug }),
  });
  return { cache, runs, getPost, getComments, updatePost };
}

describe.each([
  ['MemoryStore', () => new MemoryStore()],
  ['an asynchronous store', () => new ChaosStore(new MemoryStore())],
])('recordCache on %s', (_name, makeStore) => {
  it('counts hits, misses and sets per key and per template', async () => {
    const { cache, getPost, getComments } = blog(makeStore());
    const rec = recordCache(cache);
    await getPost('a');
    await getPost('a');
    await getPost('b');
    await getComments('a');
    expect(rec.misses('posts:{{slug}}')).toBe(2);
    expect(rec.hits('posts:{{slug}}')).toBe(1);
    expect(rec.sets('posts:{{slug}}')).toBe(2);
    expect(rec.misses('posts:a')).toBe(1);
    expect(rec.hits('posts:a')).toBe(1);
    expect(rec.hits('posts:b')).toBe(0);
    // A template counts only the keys it can render: not those of `posts:{{slug}}:comments`.
    expect(rec.misses('posts:{{slug}}:comments')).toBe(1);
    expect(rec.misses()).toBe(3);
    expect(rec.events[0]).toEqual({
      kind: 'miss',
      key: 'posts:a',
      template: 'posts:{{slug}}',
      name: 'getPost',
    });
  });

  it('counts manual reads of a template’s keys under that template', async () => {
    const { cache, getPost } = blog(makeStore());
    const rec = recordCache(cache);
    await getPost('a');
    await cache.get('posts:{{slug}}', { slug: 'a' });
    expect(rec.hits('posts:{{slug}}')).toBe(1);
    expect(rec.events.at(-1)).toMatchObject({ kind: 'hit', name: 'manual', template: '' });
  });

  it('counts confirmed invalidations by pattern or pattern template', async () => {
    const { cache, getPost, updatePost } = blog(makeStore());
    const rec = recordCache(cache);
    await getPost('a');
    await updatePost('a');
    await getPost('a');
    expect(rec.invalidations('posts:{{slug}}:*')).toBe(1);
    expect(rec.invalidations('posts:a:*')).toBe(1);
    expect(rec.invalidations('posts:b:*')).toBe(0);
    expect(rec.misses('posts:a')).toBe(2);
  });

  it('counts values that survive hostile key values under their own key', async () => {
    const { cache, getPost } = blog(makeStore());
    const rec = recordCache(cache);
    await getPost('x:y');
    await getPost('*');
    expect(rec.misses('posts:{{slug}}')).toBe(2);
    expect(rec.misses('posts:x%3Ay')).toBe(1);
    expect(rec.misses('posts:x:y')).toBe(0);
  });

  it('forgets on reset and keeps recording; stops on stop and keeps its counts', async () => {
    const { cache, getPost } = blog(makeStore());
    const rec = recordCache(cache);
    await getPost('a');
    rec.reset();
    expect(rec.misses()).toBe(0);
    await getPost('a');
    expect(rec.hits()).toBe(1);
    rec.stop();
    await getPost('a');
    await getPost('b');
    expect(rec.hits()).toBe(1);
    expect(rec.misses()).toBe(0);
    expect(rec.events).toHaveLength(1);
  });

  it('rejects a malformed template with TemplateSyntaxError', () => {
    const rec = recordCache(blog(makeStore()).cache);
    expect(() => rec.misses('posts:{{slug')).toThrow(TemplateSyntaxError);
  });
});

describe('PassThroughStore', () => {
  it('turns caching off: every call runs the function, nothing is served from the store', async () => {
    const { cache, runs, getPost, updatePost } = blog(new PassThroughStore());
    const rec = recordCache(cache);
    await getPost('a');
    await getPost('a');
    expect(await updatePost('a')).toEqual({ slug: 'a' });
    await getPost('a');
    expect(runs.post).toBe(3);
    expect(rec.hits()).toBe(0);
    expect(rec.misses('posts:{{slug}}')).toBe(3);
  });

  it('keeps a synchronous function’s wrapper synchronous, and turns off the in-process tier too', () => {
    const cache = createCache({ store: new PassThroughStore(), l1: true });
    let runs = 0;
    const square = cache.cacheable(
      (n: number) => {
        runs += 1;
        return n * n;
      },
      { key: 'sq:{{n}}', context: (n) => ({ n }) },
    );
    expect(square(3)).toBe(9);
    expect(square(3)).toBe(9);
    expect(runs).toBe(2);
    expect(cache.get('sq:{{n}}', { n: 3 })).toBeUndefined();
  });

  it('still renders and checks keys, so a context mistake fails as it would in production', async () => {
    const { cache } = blog(new PassThroughStore());
    const getUser = cache.cacheable(async (id?: string) => id, {
      key: 'users:{{id}}',
      context: (id) => ({ id: id as string }),
    });
    await expect(getUser(undefined)).rejects.toThrow(MissingContextValueError);
  });

  it('lets concurrent calls of one key share one computation, as with caching on', async () => {
    const { runs, getPost } = blog(new PassThroughStore());
    await Promise.all([getPost('a'), getPost('a')]);
    expect(runs.post).toBe(1);
  });
});

describe('useCacheClock', () => {
  it('lets an entry expire once the clock passes its ttl, without waiting', async () => {
    const clock = useCacheClock();
    const cache = createCache();
    let version = 0;
    const getPost = cache.cacheable(async (slug: string) => `${slug}@${++version}`, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
      ttl: 600,
    });
    expect(await getPost('a')).toBe('a@1');
    clock.advanceSeconds(599.9);
    expect(await getPost('a')).toBe('a@1');
    clock.advanceSeconds(0.2);
    expect(await getPost('a')).toBe('a@2');
  });

  it('moves the in-process tier’s expiry and stale-while-revalidate too', async () => {
    const clock = useCacheClock(new Date('2030-01-01T00:00:00Z'));
    const cache = createCache({ l1: { ttl: 60_000 } });
    const rec = recordCache(cache);
    let version = 0;
    const getPost = cache.cacheable(async (slug: string) => `${slug}@${++version}`, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
      ttl: 10,
      staleTtl: 30,
    });
    await getPost('a');
    clock.advanceSeconds(11);
    expect(await getPost('a')).toBe('a@1');
    expect(rec.stale('posts:a')).toBe(1);
    await vi.waitFor(() => expect(rec.sets('posts:a')).toBe(2));
    clock.set(new Date('2030-01-01T00:10:00Z'));
    expect(await getPost('a')).toBe('a@3');
  });

  it('fakes only the clock: timers keep running, and restore gives the real clock back', async () => {
    const clock = useCacheClock(0);
    expect(Date.now()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1));
    clock.restore();
    expect(Date.now()).toBeGreaterThan(new Date('2024-01-01').getTime());
  });
});
