/**
 * Tags on real Redis, standalone and Cluster, through both client libraries: invalidating a tag
 * removes exactly the entries carrying it, across processes; a value computed before a tag
 * invalidation and stored after it is refused; and a randomized torture with reply delays shows
 * no stale list, with a control (the stamp check switched off) that does.
 */
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cache, createCache, renderTag, type Store } from '../../src/index.js';
import { NodeRedisStore } from '../../src/node-redis.js';
import { RedisStore } from '../../src/redis.js';
import {
  clusterClient,
  type DelayedClient,
  delayedClusterClient,
  delayedStandaloneClient,
  nodeRedisClient,
  nodeRedisCluster,
  standaloneClient,
} from '../helpers/redis-clients.js';
import { deferred, quietLogger } from '../helpers/stores.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A RedisStore whose records never see an invalidation stamp: the race tags must close stays open. */
class UnstampedStore extends RedisStore {
  override tag(key: string, tags: readonly string[], ttlMs: number): Promise<boolean> {
    return super.tag(key, tags, ttlMs, Number.POSITIVE_INFINITY);
  }
}

interface Post {
  readonly slug: string;
  readonly version: number;
}

type StoreMaker = () => Promise<{ store: Store; close: () => Promise<unknown> }>;

const makers: [string, StoreMaker][] = [
  [
    'RedisStore on a standalone Redis',
    async () => {
      const client = standaloneClient();
      return { store: new RedisStore({ client }), close: () => client.quit() };
    },
  ],
  [
    'RedisStore on a 3-master Redis Cluster',
    async () => {
      const client = clusterClient();
      return { store: new RedisStore({ client }), close: () => client.quit() };
    },
  ],
  [
    'NodeRedisStore on a standalone Redis',
    async () => {
      const client = await nodeRedisClient();
      return { store: new NodeRedisStore({ client }), close: () => client.close() };
    },
  ],
  [
    'NodeRedisStore on a 3-master Redis Cluster',
    async () => {
      const client = await nodeRedisCluster();
      return { store: new NodeRedisStore({ client }), close: () => client.close() };
    },
  ],
];

describe.each(makers)('tags with %s', (_name, make) => {
  const closers: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    await Promise.all(closers.map((close) => close()));
  });

  /** Two processes sharing one prefix and one database of posts. */
  async function setup() {
    const prefix = `tg-${randomUUID().slice(0, 8)}`;
    const versions = new Map(['a', 'b', 'c', 'd'].map((slug) => [slug, 0]));
    const gate = { wait: Promise.resolve() as Promise<unknown> };
    let loads = 0;
    const instance = async () => {
      const { store, close } = await make();
      closers.push(close);
      const cache = createCache({ store, prefix, timeout: 2000, logger: quietLogger });
      const list = cache.cacheable(
        async (slugs: string[]): Promise<Post[]> => {
          loads += 1;
          const page = slugs.map((slug) => ({ slug, version: versions.get(slug) as number }));
          await gate.wait;
          return page;
        },
        {
          key: 'posts:list:{{slugs}}',
          context: (slugs) => ({ slugs }),
          tagsFromResult: (page) => page.map((post) => renderTag('post:{{slug}}', post)),
        },
      );
      const edit = cache.invalidating(
        async (slug: string) => {
          versions.set(slug, (versions.get(slug) as number) + 1);
        },
        { tags: ['post:{{slug}}'], context: (slug) => ({ slug }) },
      );
      return { cache, list, edit };
    };
    return { a: await instance(), b: await instance(), gate, loads: () => loads };
  }

  it('removes exactly the entries carrying a tag, whichever process cached them', async () => {
    const { a, b, loads } = await setup();
    const pages = [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d']];
    for (const page of pages) await a.list(page);
    expect(loads()).toBe(4);
    await b.edit('b');
    for (const page of pages) await a.list(page);
    // Only the two lists showing `b` were computed again.
    expect(loads()).toBe(6);
    expect((await a.list(['a', 'b']))[1]).toEqual({ slug: 'b', version: 1 });
    expect(await b.cache.invalidateTags(['post:{{slug}}'], { slug: 'c' })).toBe(2);
  });

  it('refuses a value computed before a tag invalidation and stored after it', async () => {
    const { a, b, gate, loads } = await setup();
    const skips: string[] = [];
    a.cache.on('skip', ({ reason }) => skips.push(reason));
    const held = deferred<void>();
    gate.wait = held.promise;
    // A reads version 0 of `b`, then waits; B edits `b` and invalidates its tag meanwhile.
    const stale = a.list(['a', 'b']);
    await sleep(50);
    await b.edit('b');
    held.resolve();
    expect((await stale)[1]?.version).toBe(0);
    expect(skips).toContain('a tag of the value was invalidated while computing');
    gate.wait = Promise.resolve();
    expect((await a.list(['a', 'b']))[1]?.version).toBe(1);
    expect(loads()).toBe(2);
  });
});

describe.each([
  ['a standalone Redis', standaloneClient, delayedStandaloneClient],
  ['a 3-master Redis Cluster', clusterClient, delayedClusterClient],
] as const)('tag torture on %s', (name, connect, connectDelayed) => {
  const clients: (Redis | Cluster)[] = [];
  const proxies: (() => Promise<void>)[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
    await Promise.all(proxies.map((close) => close()));
  });

  /**
   * 4 processes (two behind a few ms of reply latency), 24 readers of lists of posts (by
   * category and page, tagged by the posts they show through `tagsFromResult`), 4 writers
   * editing posts and invalidating only `post:{{slug}}`. A read is stale if a post in it is
   * older than the version whose invalidation had returned before the read started.
   */
  async function torture(checked: boolean) {
    const prefix = `tt-${randomUUID().slice(0, 8)}`;
    const caches: Cache<Store>[] = [];
    for (let i = 0; i < 4; i += 1) {
      let client: Redis | Cluster;
      if (i < 2) {
        client = connect();
      } else {
        const delayed: DelayedClient<Redis | Cluster> = await connectDelayed(
          () => 2 + Math.random() * 6,
        );
        client = delayed.client;
        proxies.push(delayed.closeProxies);
      }
      clients.push(client);
      caches.push(
        createCache({
          store: checked ? new RedisStore({ client }) : new UnstampedStore({ client }),
          prefix,
          timeout: 2000,
          logger: quietLogger,
        }),
      );
    }
    const slugs = Array.from({ length: 12 }, (_, i) => `p${i}`);
    const categories = ['redis', 'node', 'ts'];
    const categoryOf = (slug: string) => categories[Number(slug.slice(1)) % 3] as string;
    const versions = new Map(slugs.map((slug) => [slug, 0]));
    const invalidatedAt = new Map(slugs.map((slug) => [slug, 0]));
    const random = (max: number) => Math.floor(Math.random() * max);

    const listPosts = caches.map((cache) =>
      cache.cacheable(
        async (filters: { category?: string; page: number }): Promise<Post[]> => {
          const list: Post[] = [];
          const shown = slugs.filter(
            (slug) => filters.category === undefined || categoryOf(slug) === filters.category,
          );
          for (const slug of shown.slice((filters.page - 1) * 3, filters.page * 3)) {
            list.push({ slug, version: versions.get(slug) as number });
            await sleep(random(3));
          }
          return list;
        },
        {
          key: 'posts:list:{{filters}}',
          context: (filters) => ({ filters }),
          ttl: 60,
          tagsFromResult: (list) => list.map((post) => renderTag('post:{{slug}}', post)),
        },
      ),
    );
    const editPost = caches.map((cache) =>
      cache.invalidating(
        async (slug: string) => {
          await sleep(random(3));
          const version = (versions.get(slug) as number) + 1;
          versions.set(slug, version);
          return version;
        },
        { tags: ['post:{{slug}}'], context: (slug) => ({ slug }) },
      ),
    );

    let reads = 0;
    let writes = 0;
    let stale = 0;
    const deadline = Date.now() + 3000;
    const reader = async (i: number) => {
      while (Date.now() < deadline) {
        const mustSee = new Map(invalidatedAt);
        const category = random(4) === 0 ? undefined : categories[random(3)];
        const filters = { page: 1 + random(2), ...(category === undefined ? {} : { category }) };
        const got = await (listPosts[i % 4] as (f: typeof filters) => Promise<Post[]>)(filters);
        reads += 1;
        if (got.some((post) => post.version < (mustSee.get(post.slug) as number))) stale += 1;
      }
    };
    const writer = async (i: number) => {
      while (Date.now() < deadline) {
        const slug = slugs[random(slugs.length)] as string;
        const version = await (editPost[i % 4] as (slug: string) => Promise<number>)(slug);
        writes += 1;
        invalidatedAt.set(slug, Math.max(invalidatedAt.get(slug) as number, version));
        await sleep(random(15));
      }
    };
    await Promise.all([
      ...Array.from({ length: 24 }, (_, i) => reader(i)),
      ...Array.from({ length: 4 }, (_, i) => writer(i)),
    ]);
    console.log(
      `[tag torture] ${name}, ${checked ? 'stamps checked' : 'control, stamps ignored'}: reads=${reads}, writes=${writes}, stale=${stale}`,
    );
    return { reads, writes, stale };
  }

  it('serves no list older than a tag invalidation that returned (randomized torture)', async () => {
    const { reads, writes, stale } = await torture(true);
    expect(reads).toBeGreaterThan(1000);
    expect(writes).toBeGreaterThan(100);
    expect(stale).toBe(0);
  });

  it('catches stale lists when the stamp check is off (the torture test can fail)', async () => {
    expect((await torture(false)).stale).toBeGreaterThan(0);
  });
});
