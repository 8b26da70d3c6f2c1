/**
 * The in-process tier on Redis: kept coherent by Redis's client-side caching (broadcast tracking
 * on a connection of the store's own per server). Another instance's changes reach this
 * instance's tier after one notification; a lost tracking connection drops the tier and stops it
 * until tracking is back. Run on both Redis stores (RedisStore on ioredis, NodeRedisStore on
 * node-redis), standalone and Cluster.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type AtomicStore,
  type Cache,
  type ChangeListener,
  createCache,
  type NotifyingStore,
  type Store,
} from '../../src/index.js';
import { ChaosStore } from '../../src/testing/index.js';
import {
  clusterClient,
  nodeRedisClient,
  nodeRedisCluster,
  standaloneClient,
} from '../helpers/redis-clients.js';
import { ioredisStore, nodeRedisStore } from '../helpers/redis-stores.js';
import { quietLogger } from '../helpers/stores.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each([
  ['RedisStore', 'a standalone Redis', ioredisStore(standaloneClient), standaloneClient],
  ['RedisStore', 'a 3-master Redis Cluster', ioredisStore(clusterClient), clusterClient],
  ['NodeRedisStore', 'a standalone Redis', nodeRedisStore(nodeRedisClient), standaloneClient],
  ['NodeRedisStore', 'a 3-master Redis Cluster', nodeRedisStore(nodeRedisCluster), clusterClient],
] as const)('the in-process tier, %s on %s', (storeName, topology, newStore, connect) => {
  const name = `${storeName} on ${topology}`;
  /** Closes each client made by the suite. */
  const closers: (() => Promise<unknown>)[] = [];
  const caches: Cache<Store>[] = [];
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close({ timeout: 100 })));
    await Promise.all(closers.map((close) => close().catch(() => undefined)));
  });
  /** A store on a client of its own, closed after the suite. */
  const own = async () => {
    const made = await newStore();
    closers.push(made.close);
    return made.store;
  };

  /** Two instances (own clients) with the tier, sharing a prefix, and a database behind them. */
  async function setup() {
    const prefix = `l1-${randomUUID().slice(0, 8)}`;
    const db = new Map<string, number>();
    const make = async () => {
      // Counts the store's reads; passes the store's change notifications through.
      const store = new ChaosStore(await own());
      const cache = createCache<Store>({
        store,
        prefix,
        l1: true,
        logger: quietLogger,
        timeout: 2000,
      });
      caches.push(cache);
      const getPost = cache.cacheable(
        async (slug: string) => ({ slug, version: db.get(slug) ?? 0 }),
        { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
      );
      return { cache, store, getPost };
    };
    const a = await make();
    const b = await make();
    // The tier serves once tracking is set up on every server.
    await sleep(300);
    return { db, a, b };
  }

  it('serves hits from the process, and sees another instance’s change after one notification', async () => {
    const { db, a, b } = await setup();
    const trials = 100;
    const delays: number[] = [];
    for (let i = 0; i < trials; i += 1) {
      const slug = `p${i % 10}`;
      await a.getPost(slug);
      // A fill notifies too (Redis reports every change under the prefix, ours included): the
      // value is kept from the read after that notification.
      await sleep(5);
      await a.getPost(slug);
      const before = a.store.calls.get;
      expect((await a.getPost(slug)).version).toBe(db.get(slug) ?? 0);
      expect(a.store.calls.get).toBe(before);
      const version = i + 1;
      db.set(slug, version);
      const changed = performance.now();
      await b.cache.delete('posts:{{slug}}', { slug });
      // Poll A until its tier (or the store) gives the new version.
      while ((await a.getPost(slug)).version !== version) await sleep(0);
      delays.push(performance.now() - changed);
    }
    delays.sort((x, y) => x - y);
    console.log(
      `[l1] ${name}: ${trials} changes by another instance reached this instance's tier after p50 ${delays[trials / 2]?.toFixed(2)} ms, worst ${delays.at(-1)?.toFixed(2)} ms (from the start of the invalidating call)`,
    );
    // The delay itself is a measurement (the `[l1]` line; target: worst under 50 ms on a quiet
    // machine), not an assertion: with other test files on the same two cores, the event loop of
    // either instance can be held up for tens of milliseconds. What must hold under any load is
    // that the change is seen, and within a second.
    expect(delays.at(-1)).toBeLessThan(1000);
  });

  it('drops the tier and stops using it when its tracking connection is killed, then resumes', async () => {
    const { db, a, b } = await setup();
    await a.getPost('k');
    await sleep(5);
    await a.getPost('k');
    // Any client can list and kill connections: the admin is an ioredis one.
    const admin = connect();
    closers.push(() => admin.quit());
    await admin.ping();
    const servers = 'nodes' in admin ? admin.nodes('master') : [admin];
    let killed = 0;
    for (const server of servers) {
      const list = String(await server.client('LIST'));
      for (const line of list.split('\n')) {
        if (!line.includes('name=quickpost-cache:l1')) continue;
        const id = /id=(\d+)/.exec(line)?.[1];
        if (id === undefined) continue;
        await server.client('KILL', 'ID', id);
        killed += 1;
      }
    }
    expect(killed).toBeGreaterThan(0);
    // A change made at once must not stay unseen: within a second, A serves the new value.
    db.set('k', 1);
    const changed = performance.now();
    await b.cache.delete('posts:{{slug}}', { slug: 'k' });
    while ((await a.getPost('k')).version !== 1) {
      expect(performance.now() - changed).toBeLessThan(1000);
      await sleep(1);
    }
    const seenAfter = performance.now() - changed;
    // Tracking comes back (ioredis reconnects): hits come from the process again.
    await sleep(1500);
    await a.getPost('k');
    await sleep(5);
    await a.getPost('k');
    const before = a.store.calls.get;
    await a.getPost('k');
    expect(a.store.calls.get).toBe(before);
    console.log(
      `[l1] ${name}: killed ${killed} tracking connection(s); the change was seen after ${seenAfter.toFixed(1)} ms; the tier serves again after reconnecting`,
    );
  });

  it('keeps no value whose read reply arrives after the notification of a change made after the read', async () => {
    const prefix = `l1-${randomUUID().slice(0, 8)}`;
    const db = new Map<string, number>();
    const [redisA, redisB] = [await own(), await own()];
    const target = `${prefix}:posts:race`;
    // A's store, with a window on the notifications its tier receives.
    let notified = (_keys: readonly string[] | null) => {};
    const noticed = () =>
      new Promise<void>((resolve) => {
        notified = (keys) => {
          if (keys === null || keys.includes(target)) resolve();
        };
      });
    const observed: Store & AtomicStore & NotifyingStore = {
      get: (key) => redisA.get(key),
      set: (key, value, ttlMs) => redisA.set(key, value, ttlMs),
      delete: (key) => redisA.delete(key),
      deletePattern: (pattern) => redisA.deletePattern(pattern),
      setIfAbsent: (key, value, ttlMs) => redisA.setIfAbsent(key, value, ttlMs),
      compareAndSet: (key, expected, value, ttlMs) =>
        redisA.compareAndSet(key, expected, value, ttlMs),
      compareAndDelete: (key, expected) => redisA.compareAndDelete(key, expected),
      watch: (watched, listener: ChangeListener) =>
        redisA.watch(watched, {
          changed: (keys) => {
            listener.changed(keys);
            notified(keys);
          },
          lost: () => listener.lost(),
          ready: () => listener.ready(),
        }),
    };
    const chaos = new ChaosStore(observed);
    const a = createCache<Store>({ store: chaos, prefix, l1: true, logger: quietLogger });
    const b = createCache<Store>({ store: redisB, prefix });
    caches.push(a, b);
    const load = async (slug: string) => db.get(slug) ?? 0;
    const options = { key: 'posts:{{slug}}', context: (slug: string) => ({ slug }) } as const;
    const [getA, getB] = [a.cacheable(load, options), b.cacheable(load, options)];
    await sleep(300);

    // B stores version 0; A hears of that write before it reads.
    const filled = noticed();
    expect(await getB('race')).toBe(0);
    await filled;
    // A's read reaches Redis and is answered (version 0), but the reply is held back...
    const held = chaos.hold('get', { phase: 'reply', when: (key) => key === target });
    const first = getA('race');
    await held.reached;
    // ...while B changes the post, and the notification of that change reaches A first.
    db.set('race', 1);
    const changed = noticed();
    await b.delete('posts:{{slug}}', { slug: 'race' });
    await changed;
    held.release();
    // The held reply is older than the change: A may answer with it once, not keep it.
    expect(await first).toBe(0);
    const reads = chaos.calls.get;
    expect(await getA('race')).toBe(1);
    expect(chaos.calls.get).toBeGreaterThan(reads);
  });

  it('serves the old value when notifications are off (control: the coherence checks can fail)', async () => {
    const prefix = `l1-${randomUUID().slice(0, 8)}`;
    const db = new Map<string, number>();
    const [redisA, redisB] = [await own(), await own()];
    // The same store seen through the four required methods: no change notifications.
    const deaf: Store = {
      get: (key) => redisA.get(key),
      set: (key, value, ttlMs) => redisA.set(key, value, ttlMs),
      delete: (key) => redisA.delete(key),
      deletePattern: (pattern) => redisA.deletePattern(pattern),
    };
    const a = createCache<Store>({ store: deaf, prefix, l1: { ttl: 60_000 }, logger: quietLogger });
    const b = createCache<Store>({ store: redisB, prefix });
    caches.push(a, b);
    const getPost = a.cacheable(async (slug: string) => db.get(slug) ?? 0, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    await getPost('c');
    await getPost('c');
    db.set('c', 1);
    await b.delete('posts:{{slug}}', { slug: 'c' });
    await sleep(50);
    expect(await getPost('c')).toBe(0);
  });
});
