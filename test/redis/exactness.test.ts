/**
 * Invalidation is exact: a caller never gets a value older than an invalidation that returned
 * before it arrived, whatever the interleaving. The rule under test (src/core/read/flights.ts):
 * a caller may take a result shared in its process only if the store operation that vouched for
 * that result was sent after the caller arrived; otherwise it reads again.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cache, createCache, type Store } from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { ChaosStore } from '../../src/testing/index.js';
import {
  clusterClient,
  delayedClusterClient,
  delayedStandaloneClient,
  standaloneClient,
} from '../helpers/redis-clients.js';
import { deferred } from '../helpers/stores.js';
import {
  type Connections,
  runTorture,
  tortureClients,
  type VersionedPost,
  versionBook,
} from '../helpers/torture.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isEntry = (answer: unknown) => typeof answer === 'string' && answer.charCodeAt(0) === 1;

describe.each([
  ['a standalone Redis', standaloneClient, delayedStandaloneClient],
  ['a 3-master Redis Cluster', clusterClient, delayedClusterClient],
] as const)('exact invalidation on %s', (name, connect, connectDelayed) => {
  const connections: Connections = { clients: [], proxies: [] };
  const { clients } = connections;
  afterAll(async () => {
    // A client behind a proxy may see its connection end before QUIT's reply: close it anyway.
    await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
    await Promise.all(connections.proxies.map((close) => close()));
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
   * Randomized torture over the four instances of test/helpers/torture.ts: 32 readers of posts
   * and of lists of posts filtered by hashed objects, 4 writers editing posts and invalidating
   * `posts:{{slug}}:*` and `posts:list:*`, some results declined by `shouldCache`.
   */
  async function torture(options: { lease?: false }) {
    const prefix = `tt-${randomUUID().slice(0, 8)}`;
    const caches = (await tortureClients(connect, connectDelayed, connections)).map((client) =>
      createCache({ store: new RedisStore({ client }), prefix, timeout: 2000, ...options }),
    );
    const slugs = Array.from({ length: 3 }, (_, i) => `p${i}`);
    const tags = ['redis', 'node', 'ts'];
    const tagOf = (slug: string) => tags[Number(slug.slice(1)) % tags.length] as string;
    const book = versionBook(slugs);
    const random = (max: number) => Math.floor(Math.random() * max);
    type Post = VersionedPost;

    const getPost = caches.map((cache) =>
      cache.cacheable(
        async (slug: string): Promise<Post> => {
          await sleep(random(3));
          const version = book.current(slug);
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
            list.push({ slug, version: book.current(slug) });
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
          return book.bump(slug);
        },
        { patterns: ['posts:{{slug}}:*', 'posts:list:*'], context: (slug) => ({ slug }) },
      ),
    );
    const counts = await runTorture({
      ms: 3000,
      readers: 32,
      writers: 4,
      read: async (i) => {
        const isStale = book.startRead();
        if (Math.random() < 0.7) {
          const slug = slugs[random(slugs.length)] as string;
          return isStale([await (getPost[i % 4] as (slug: string) => Promise<Post>)(slug)]);
        }
        const tag = random(4) === 0 ? undefined : tags[random(tags.length)];
        const filters = tag === undefined ? { page: 1 } : { page: 1, tag };
        return isStale(await (listPosts[i % 4] as (f: typeof filters) => Promise<Post[]>)(filters));
      },
      write: async (i) => {
        const slug = slugs[random(slugs.length)] as string;
        book.invalidated(slug, await (editPost[i % 4] as (slug: string) => Promise<number>)(slug));
      },
    });
    console.log(
      `[torture] ${name}, leases ${options.lease === false ? 'off' : 'on'}: reads=${counts.reads}, writes=${counts.writes}, stale=${counts.stale}`,
    );
    return counts;
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
