/**
 * Tags on the in-process stores: what `tags`, `tagsFromResult`, `invalidating`'s tags and
 * `cache.invalidateTags` remove, the race a tag learned from a result must close (a value computed
 * before a tag invalidation and stored after it), durability while a tag invalidation is not
 * confirmed, deferral scopes, and the errors. The same on real Redis: test/redis/tags.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  type CacheEventMap,
  createCache,
  InvalidationError,
  InvalidOptionError,
  MemoryStore,
  renderTag,
} from '../../src/index.js';
import { ChaosStore } from '../../src/testing/index.js';
import { AsyncMemoryStore, deferred, quietLogger, recordingLogger } from '../helpers/stores.js';

interface Post {
  readonly id: number;
  readonly author: string;
  title: string;
}

/** The posts a blog reads. */
function database(): Post[] {
  return [
    { id: 1, author: 'ada', title: 'A' },
    { id: 2, author: 'ada', title: 'B' },
    { id: 3, author: 'bob', title: 'C' },
  ];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A blog on `store`: lists of posts tagged by the posts they show, and by their author. */
function blog(
  options: {
    store?: ConstructorParameters<typeof ChaosStore>[0];
    lease?: false;
    l1?: boolean;
    /** The database, to share it between two caches standing for two processes. */
    posts?: Post[];
  } = {},
) {
  const posts: Post[] = options.posts ?? database();
  const store = new ChaosStore(options.store ?? new MemoryStore());
  const cache = createCache({
    store,
    logger: quietLogger,
    ...(options.lease === false ? { lease: false as const } : {}),
    ...(options.l1 === true ? { l1: true } : {}),
  });
  const gate = { wait: Promise.resolve() as Promise<unknown> };
  let loads = 0;
  const list = cache.cacheable(
    async (ids: number[]) => {
      loads += 1;
      const page = posts.filter((post) => ids.includes(post.id)).map((post) => ({ ...post }));
      await gate.wait;
      return page;
    },
    {
      key: 'posts:list:{{ids}}',
      context: (ids) => ({ ids }),
      tagsFromResult: (page) => page.map((post) => renderTag('post:{{id}}', post)),
    },
  );
  const byAuthor = cache.cacheable(
    async (author: string) => {
      loads += 1;
      return posts.filter((post) => post.author === author).map((post) => ({ ...post }));
    },
    {
      key: 'authors:{{author}}:posts',
      context: (author) => ({ author }),
      tags: ['author:{{author}}'],
    },
  );
  const rename = cache.invalidating(
    async (id: number, title: string) => {
      const post = posts.find((p) => p.id === id) as Post;
      post.title = title;
      return post;
    },
    {
      tags: ['post:{{id}}'],
      context: (id) => ({ id }),
      tagsFromResult: (post) => [renderTag('author:{{author}}', post)],
    },
  );
  return { cache, store, list, byAuthor, rename, gate, loads: () => loads };
}

describe('tags', () => {
  it('invalidate exactly the entries carrying them, from the result and from the context', async () => {
    const { list, byAuthor, rename, loads } = blog();
    await list([1, 2]);
    await list([2, 3]);
    await list([3]);
    await byAuthor('ada');
    await byAuthor('bob');
    expect(loads()).toBe(5);
    await rename(1, 'A2');
    // The list showing post 1 and ada's posts (the tag of the result) are gone; the rest stay.
    expect((await list([1, 2]))[0]?.title).toBe('A2');
    expect((await byAuthor('ada'))[0]?.title).toBe('A2');
    await list([2, 3]);
    await list([3]);
    await byAuthor('bob');
    expect(loads()).toBe(7);
  });

  it('are removed by cache.invalidateTags, with values encoded as keys encode them', async () => {
    const cache = createCache({ logger: quietLogger });
    let loads = 0;
    const hostile = 'a b:*{x}';
    const find = cache.cacheable(
      async (name: string) => {
        loads += 1;
        return name;
      },
      { key: 'find:{{name}}', context: (name) => ({ name }), tags: ['name:{{name}}'] },
    );
    const byResult = cache.cacheable(async (name: string) => ({ name }), {
      key: 'by-result:{{name}}',
      context: (name) => ({ name }),
      tagsFromResult: (value) => [renderTag('name:{{name}}', value)],
    });
    await find(hostile);
    await find('other');
    await byResult(hostile);
    expect(renderTag('name:{{name}}', { name: hostile })).toBe('name:a%20b%3A%2A%7Bx%7D');
    expect(await cache.invalidateTags(['name:{{name}}'], { name: hostile })).toBe(2);
    expect(await cache.invalidateTags(['name:{{name}}'], { name: hostile })).toBe(0);
    await find('other');
    expect(loads).toBe(2);
  });

  it('refuse a value computed before a tag invalidation and stored after it, whichever process computed it', async () => {
    // Two caches on one store stand for two processes: no in-process bookkeeping is shared.
    const shared = new MemoryStore();
    const a = blog({ store: shared });
    const b = blog({ store: shared });
    const skips: CacheEventMap['skip'][] = [];
    a.cache.on('skip', (event) => skips.push(event));
    const held = deferred<void>();
    a.gate.wait = held.promise;
    const computing = a.list([1, 2]);
    await sleep(5);
    expect(await b.cache.invalidateTags(['post:{{id}}'], { id: 1 })).toBe(0);
    held.resolve();
    await computing;
    expect(skips.map((skip) => skip.reason)).toEqual([
      'a tag of the value was invalidated while computing',
    ]);
    a.gate.wait = Promise.resolve();
    await a.list([1, 2]);
    expect(a.loads()).toBe(2);
  });

  it('refuse it without leases too (the value is written, then deleted)', async () => {
    const shared = new MemoryStore();
    const a = blog({ store: shared, lease: false });
    const b = blog({ store: shared, lease: false });
    const held = deferred<void>();
    a.gate.wait = held.promise;
    const computing = a.list([1, 2]);
    await sleep(5);
    await b.cache.invalidateTags(['post:{{id}}'], { id: 2 });
    held.resolve();
    await computing;
    a.gate.wait = Promise.resolve();
    await a.list([1, 2]);
    expect(a.loads()).toBe(2);
  });

  it('refuse the value of a function that returned a promise to a synchronous call, from when it started', async () => {
    // A function that reads its data at once and returns a promise, on a synchronous store: the
    // check counts from its start, not from when the cache saw the promise.
    const store = new MemoryStore();
    const reader = createCache({ store, logger: quietLogger });
    const writer = createCache({ store, logger: quietLogger });
    let title = 'old';
    const list = reader.cacheable(
      (page: number) => {
        const snapshot = [{ slug: 'a', page, title }];
        return new Promise<typeof snapshot>((resolve) => setTimeout(() => resolve(snapshot), 5));
      },
      {
        key: 'list:{{page}}',
        context: (page) => ({ page }),
        tagsFromResult: (posts) => posts.map((post) => renderTag('post:{{slug}}', post)),
      },
    );
    queueMicrotask(() => {
      title = 'new';
      writer.invalidateTags(['post:{{slug}}'], { slug: 'a' });
    });
    expect((await list(1))[0]?.title).toBe('old');
    expect((await list(1))[0]?.title).toBe('new');
  });

  it('hand no caller that came after a tag invalidation a value the tag check refused (no leases)', async () => {
    const shared = new MemoryStore();
    const posts = database();
    const a = blog({ store: shared, lease: false, posts });
    const b = blog({ store: shared, lease: false, posts });
    const held = deferred<void>();
    a.gate.wait = held.promise;
    const first = a.list([1]);
    await sleep(5);
    await b.rename(1, 'A2');
    // Joins the computation in flight, which read the old title.
    const second = a.list([1]);
    held.resolve();
    expect((await first)[0]?.title).toBe('A');
    a.gate.wait = Promise.resolve();
    expect((await second)[0]?.title).toBe('A2');
  });

  it('let no caller arriving after a tag invalidation join a computation that started before it', async () => {
    const { cache, list, gate, loads } = blog();
    const held = deferred<void>();
    gate.wait = held.promise;
    const first = list([1]);
    await sleep(1);
    await cache.invalidateTags(['author:{{author}}'], { author: 'nobody' });
    const second = list([1]);
    held.resolve();
    await Promise.all([first, second]);
    expect(loads()).toBe(2);
  });

  it('drop the entries from the in-process tier at once', async () => {
    const { list, rename, loads } = blog({ l1: true });
    await list([1]);
    await list([1]);
    expect(loads()).toBe(1);
    await rename(1, 'A2');
    expect((await list([1]))[0]?.title).toBe('A2');
  });

  it('keep tagged entries out of reads while a tag invalidation is not confirmed', async () => {
    const { cache, store, list, byAuthor, loads } = blog();
    await list([1]);
    await byAuthor('bob');
    store.fail('invalidateTag');
    const pending: CacheEventMap['invalidationPending'][] = [];
    cache.on('invalidationPending', (event) => pending.push(event));
    await expect(cache.invalidateTags(['post:{{id}}'], { id: 1 })).rejects.toThrow('chaos');
    expect(pending.map(({ kind, pattern }) => `${kind} ${pattern}`)).toEqual([
      'tag quickpost:post:1',
    ]);
    // Any tagged entry may carry the tag: none is served from the store until it is confirmed.
    await list([1]);
    await byAuthor('bob');
    expect(loads()).toBe(4);
    store.heal();
    // Retried until confirmed; then tagged entries are cached and served again.
    for (let i = 0; i < 100 && (await cache.health()).invalidations.pending > 0; i += 1) {
      await sleep(20);
    }
    expect((await cache.health()).invalidations.pending).toBe(0);
    await list([1]);
    await list([1]);
    expect(loads()).toBe(5);
  });

  it('are held by deferInvalidations until the function resolved, and dropped if it throws', async () => {
    const { cache, list, rename, loads } = blog();
    await list([1]);
    await expect(
      cache.deferInvalidations(async () => {
        await rename(1, 'rolled back');
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    await list([1]);
    expect(loads()).toBe(1);
    await cache.deferInvalidations(async () => {
      await rename(1, 'A2');
      // Inside, tagged reads skip the cache: the request reads its own write.
      expect((await list([1]))[0]?.title).toBe('A2');
    });
    expect((await list([1]))[0]?.title).toBe('A2');
    expect(loads()).toBe(3);
  });

  it('emit kind "tag" on invalidate events, and the tags on mutation events', async () => {
    const { cache, list, rename } = blog();
    const events: string[] = [];
    cache.on('mutation', ({ tags }) => events.push(`mutation ${tags.join(' ')}`));
    cache.on('invalidate', ({ kind, pattern, count, templates }) =>
      events.push(`${kind} ${pattern} ${count} ${templates.join(' ')}`),
    );
    await list([1, 3]);
    await rename(3, 'C2');
    expect(events.sort()).toEqual([
      'mutation quickpost:post:3 quickpost:author:bob',
      'tag quickpost:author:bob 0 posts:list:{{ids}} authors:{{author}}:posts',
      'tag quickpost:post:3 1 posts:list:{{ids}} authors:{{author}}:posts',
    ]);
  });

  it('show in debug lines', async () => {
    const logger = recordingLogger();
    const cache = createCache({ logger, debug: true });
    const rename = cache.invalidating(async (slug: string) => slug, {
      tags: ['post:{{slug}}'],
      context: (slug) => ({ slug }),
      name: 'renamePost',
    });
    const get = cache.cacheable(async (slug: string) => slug, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
      tags: ['post:{{slug}}'],
    });
    await get('my-slug');
    await rename('my-slug');
    expect(logger.lines.debug.slice(-2)).toEqual([
      '[Cache] renamePost | Context: {"slug":"my-slug"} | Tags: quickpost:post:my-slug',
      '[Cache] INVALIDATE TAG: quickpost:post:my-slug (1 key)',
    ]);
  });

  it('keep a synchronous function on MemoryStore synchronous', () => {
    const cache = createCache({ logger: quietLogger });
    let loads = 0;
    const square = cache.cacheable(
      (n: number) => {
        loads += 1;
        return n * n;
      },
      { key: 'square:{{n}}', context: (n) => ({ n }), tags: ['n:{{n}}'] },
    );
    expect(square(3)).toBe(9);
    expect(square(3)).toBe(9);
    expect(cache.invalidateTags(['n:{{n}}'], { n: 3 })).toBe(1);
    expect(square(3)).toBe(9);
    expect(loads).toBe(2);
  });
});

describe('tag errors', () => {
  it('refuse tags on a store without them, naming the capability', async () => {
    const cache = createCache({ store: new AsyncMemoryStore(), logger: quietLogger });
    expect(() => cache.cacheable(async () => 1, { key: 'one', tags: ['t'] })).toThrow(
      InvalidOptionError,
    );
    expect(() => cache.invalidating(async () => 1, { tags: ['t'] })).toThrow(/TaggingStore/);
    await expect(cache.invalidateTags(['t'])).rejects.toThrow(/need.*store with tags/);
  });

  it('refuse an invalidating wrapper with neither patterns nor tags', () => {
    const cache = createCache({ logger: quietLogger });
    expect(() => cache.invalidating(async () => 1, {} as never)).toThrow(/`patterns` \(or `tags`/);
  });

  it('store nothing, and report it, when tagsFromResult of a cacheable fails', async () => {
    const cache = createCache({ logger: quietLogger });
    const errors: unknown[] = [];
    cache.on('error', ({ error }) => errors.push(error));
    let loads = 0;
    const broken = cache.cacheable(
      async () => {
        loads += 1;
        return 1;
      },
      {
        key: 'broken',
        tagsFromResult: () => {
          throw new Error('no tags today');
        },
      },
    );
    expect(await broken()).toBe(1);
    expect(await broken()).toBe(1);
    expect(loads).toBe(2);
    expect(errors).toHaveLength(2);
  });

  it('reject with InvalidationError and invalidate every tagged entry when tagsFromResult of a mutation fails', async () => {
    const { cache, list, byAuthor, loads } = blog();
    const broken = cache.invalidating(async () => 'done', {
      tagsFromResult: () => {
        throw new Error('bug');
      },
    });
    await list([1]);
    await byAuthor('ada');
    const error = await broken().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidationError);
    expect(error).toMatchObject({
      reason: 'tagsFromResult',
      result: 'done',
      patterns: ['quickpost:posts:list:*', 'quickpost:authors:*:posts'],
    });
    await list([1]);
    await byAuthor('ada');
    expect(loads()).toBe(4);
  });
});
