/**
 * Invalidation is exact: a caller never gets a value older than an invalidation that returned
 * before it arrived, whatever the interleaving. The rule under test (src/core/read/flights.ts):
 * a caller may take a result shared in its process only if the store operation that vouched for
 * that result was sent after the caller arrived; otherwise it reads again.
 */
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cache, createCache, type Store } from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { ChaosStore } from '../../src/testing/index.js';
import {
  clusterClient,
  type DelayedClient,
  delayedClusterClient,
  delayedStandaloneClient,
  standaloneClient,
} from '../helpers/redis-clients.js';
import { deferred } from '../helpers/stores.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isEntry = (answer: unknown) => typeof answer === 'string' && answer.charCodeAt(0) === 1;

describe.each([
  ['a standalone Redis', standaloneClient, delayedStandaloneClient],
  ['a 3-master Redis Cluster', clusterClient, delayedClusterClient],
] as const)('exact invalidation on %s', (name, connect, connectDelayed) => {
  const clients: (Redis | Cluster)[] = [];
  const proxies: (() => Promise<void>)[] = [];
  afterAll(async () => {
    // A client behind a proxy may see its connection end before QUIT's reply: close it anyway.
    await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
    await Promise.all(proxies.map((close) => close()));
  });

  /** A cache with its own connection, as a separate process would have; its store can misbehave. */
  function instance(prefix: string, options: { lease?: false } = {}) {
    const client = connect();
    clients.push(client);
    const store = new ChaosStore(new RedisStore({ client }));
    // A generous timeout: a read timed out by a busy machine would (correctly) compute alone.
    const cache = createCache({ store, prefix, timeout: 2000, ...options });
    return { cache, store };
  }

  /** Three processes: a reader whose replies can be held, another reader, and a writer. */
  function setup() {
    const prefix = `ex-${randomUUID().slice(0, 8)}`;
    return { a: instance(prefix), b: instance(prefix), w: instance(prefix), prefix };
  }

  function writerOf(cache: Cache<Store>, db: { row: unknown }) {
    return cache.invalidating(
      async (_slug: string, row: unknown) => {
        db.row = row;
      },
      { patterns: ['posts:{{slug}}:*'], context: (slug) => ({ slug }) },
    );
  }

  it('does not hand a caller a value read by a lease-wait GET sent before it arrived', async () => {
    const { a, b, w } = setup();
    const db = { row: 'v1' as unknown };
    const holderGo = deferred<void>();
    const holderStarted = deferred<void>();
    const fromB = b.cache.cacheable(
      async (_slug: string) => {
        const seen = db.row;
        holderStarted.resolve();
        await holderGo.promise;
        return seen;
      },
      { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
    );
    const fromA = a.cache.cacheable(async (_slug: string) => db.row, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    const update = writerOf(w.cache, db);

    const filledByB = fromB('a');
    await holderStarted.promise;
    const waiting = new Promise<void>((resolve) => a.cache.on('wait', () => resolve()));
    const early = fromA('a');
    await waiting;
    // A's next GET that reads B's value is applied by Redis, but its reply is held.
    const held = a.store.hold('get', { when: (_key, answer) => isEntry(answer) });
    holderGo.resolve();
    expect(await filledByB).toBe('v1');
    await held.reached;
    await update('a', 'v2');
    const late = fromA('a');
    held.release();
    expect(await early).toBe('v1');
    expect(await late).toBe('v2');
    expect(await fromA('a')).toBe('v2');
  });

  it('does not hand a caller a value whose fill was sent before it arrived', async () => {
    const { a, w } = setup();
    const db = { row: 'v1' as unknown };
    let runs = 0;
    const fromA = a.cache.cacheable(
      async (_slug: string) => {
        runs += 1;
        return db.row;
      },
      { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
    );
    const update = writerOf(w.cache, db);
    const held = a.store.hold('compareAndSet', { when: (_key, answer) => answer === true });
    const early = fromA('a');
    await held.reached;
    // The old value is in Redis now; the writer commits and removes it; then a caller arrives.
    await update('a', 'v2');
    const late = fromA('a');
    held.release();
    expect(await early).toBe('v1');
    expect(await late).toBe('v2');
    expect(runs).toBe(2);
    expect(await a.cache.get('posts:{{slug}}', { slug: 'a' })).toBe('v2');
  });

  it('shares a result `shouldCache` declined only if its lease survived', async () => {
    const { a, w } = setup();
    const db = { row: null as unknown };
    const go = deferred<void>();
    const started = deferred<void>();
    let runs = 0;
    const fromA = a.cache.cacheable(
      async (_slug: string) => {
        runs += 1;
        const seen = db.row;
        if (runs === 1) {
          started.resolve();
          await go.promise;
        }
        return seen;
      },
      {
        key: 'posts:{{slug}}',
        context: (slug) => ({ slug }),
        shouldCache: (post) => post !== null,
      },
    );
    const update = writerOf(w.cache, db);
    const early = fromA('a');
    await started.promise;
    // The post is created and the writer's invalidation removes the reader's lease.
    await update('a', 'v2');
    const late = fromA('a');
    go.resolve();
    expect(await early).toBeNull();
    expect(await late).toBe('v2');
  });

  it('shares a declined result with callers that joined when nothing invalidated it', async () => {
    const { a } = setup();
    const go = deferred<void>();
    let runs = 0;
    const fromA = a.cache.cacheable(
      async (_slug: string) => {
        runs += 1;
        await go.promise;
        return null;
      },
      {
        key: 'posts:{{slug}}',
        context: (slug) => ({ slug }),
        shouldCache: (post) => post !== null,
      },
    );
    const calls = [fromA('a'), fromA('a'), fromA('a')];
    await sleep(20);
    go.resolve();
    expect(await Promise.all(calls)).toEqual([null, null, null]);
    expect(runs).toBe(1);
  });

  /**
   * Randomized torture: 4 processes (two of them behind a few ms of reply latency), 32 readers
   * of posts and of lists of posts filtered by hashed objects, 4 writers editing posts and
   * invalidating `posts:{{slug}}:*` and `posts:list:*`, some results declined by `shouldCache`.
   * A read is stale if it returns, for any post, a version older than the one whose invalidation
   * had returned before the read started.
   */
  async function torture(options: { lease?: false }) {
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
        createCache({ store: new RedisStore({ client }), prefix, timeout: 2000, ...options }),
      );
    }
    const slugs = Array.from({ length: 3 }, (_, i) => `p${i}`);
    const tags = ['redis', 'node', 'ts'];
    const tagOf = (slug: string) => tags[Number(slug.slice(1)) % tags.length] as string;
    const versions = new Map(slugs.map((slug) => [slug, 0]));
    const invalidatedAt = new Map(slugs.map((slug) => [slug, 0]));
    const random = (max: number) => Math.floor(Math.random() * max);
    type Post = { slug: string; version: number };

    const getPost = caches.map((cache) =>
      cache.cacheable(
        async (slug: string): Promise<Post> => {
          await sleep(random(3));
          const version = versions.get(slug) as number;
          await sleep(random(6));
          return { slug, version };
        },
        {
          key: 'posts:{{slug}}',
          context: (slug) => ({ slug }),
          ttl: 60,
          shouldCache: (post) => post.version % 4 !== 3,
        },
      ),
    );
    const listPosts = caches.map((cache) =>
      cache.cacheable(
        async (filters: { tag?: string; page: number }): Promise<Post[]> => {
          const list: Post[] = [];
          for (const slug of slugs) {
            if (filters.tag !== undefined && tagOf(slug) !== filters.tag) continue;
            list.push({ slug, version: versions.get(slug) as number });
            await sleep(random(2));
          }
          return list;
        },
        {
          key: 'posts:list:{{filters}}',
          context: (filters) => ({ filters }),
          ttl: 60,
          shouldCache: (list) => list.reduce((sum, post) => sum + post.version, 0) % 5 !== 4,
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
        { patterns: ['posts:{{slug}}:*', 'posts:list:*'], context: (slug) => ({ slug }) },
      ),
    );

    let reads = 0;
    let writes = 0;
    let stale = 0;
    const deadline = Date.now() + 3000;
    const reader = async (i: number) => {
      while (Date.now() < deadline) {
        const mustSee = new Map(invalidatedAt);
        let got: Post[];
        if (Math.random() < 0.7) {
          const slug = slugs[random(slugs.length)] as string;
          got = [await (getPost[i % 4] as (slug: string) => Promise<Post>)(slug)];
        } else {
          const tag = random(4) === 0 ? undefined : tags[random(tags.length)];
          const filters = tag === undefined ? { page: 1 } : { page: 1, tag };
          got = await (listPosts[i % 4] as (f: typeof filters) => Promise<Post[]>)(filters);
        }
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
      ...Array.from({ length: 32 }, (_, i) => reader(i)),
      ...Array.from({ length: 4 }, (_, i) => writer(i)),
    ]);
    console.log(
      `[torture] ${name}, leases ${options.lease === false ? 'off' : 'on'}: reads=${reads}, writes=${writes}, stale=${stale}`,
    );
    return { reads, writes, stale };
  }

  it('serves no value older than an invalidation that returned (randomized torture)', async () => {
    const { reads, writes, stale } = await torture({});
    expect(reads).toBeGreaterThan(1000);
    expect(writes).toBeGreaterThan(100);
    expect(stale).toBe(0);
  });

  it('catches stale reads when leases are off (the torture test can fail)', async () => {
    expect((await torture({ lease: false })).stale).toBeGreaterThan(0);
  });
});
