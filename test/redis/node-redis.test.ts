/**
 * NodeRedisStore on a real Redis, standalone and Cluster, beyond the suites it shares with
 * RedisStore (conformance.test.ts, behaviour.test.ts, l1.test.ts): leases across processes and
 * across the two stores, the key index, clients of every shape (RESP2 and RESP3, a Buffer type
 * mapping, node-redis 5), the connection it opens, and the index left off when Redis may evict.
 */
import { randomUUID } from 'node:crypto';
import { type Cluster, Redis } from 'ioredis';
import { createClient, RESP_TYPES } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Cache, type CacheEventMap, createCache, type Store } from '../../src/index.js';
import { type NodeRedisClient, NodeRedisStore } from '../../src/node-redis.js';
import { RedisStore } from '../../src/redis.js';
import {
  clusterClient,
  type NodeRedisTestOptions,
  nodeRedisClient,
  nodeRedisClient5,
  nodeRedisCluster,
  nodeRedisCluster5,
  standaloneClient,
} from '../helpers/redis-clients.js';
import { type FaultRedis, startFaultRedis } from '../helpers/redis-servers.js';
import { recordingLogger } from '../helpers/stores.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Something with a way to close it, closed after the file. */
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await Promise.all(closers.map((close) => close().catch(() => undefined)));
});

/** A client of its own, as a separate process would have; closed after the file. */
async function own<T extends object>(made: T | Promise<T>): Promise<T> {
  const client = await made;
  // node-redis clients `close()`, ioredis ones `quit()`.
  const end = client as { close?: () => Promise<unknown>; quit?: () => Promise<unknown> };
  closers.push(() => (end.close ?? end.quit)?.call(client) ?? Promise.resolve());
  return client;
}

/** A connected node-redis 6 client or Cluster client, as the test helpers make them. */
type TestClient = Awaited<ReturnType<typeof nodeRedisClient | typeof nodeRedisCluster>>;

/**
 * The name of every command a node-redis client sends, recorded where it is sent: the client, or
 * for a Cluster its client of each node, to which the store sends SCAN and UNLINK per master.
 */
function recordCommands(client: NodeRedisClient): string[] {
  const names: string[] = [];
  const seen = new WeakSet<object>();
  const wrap = (target: { sendCommand: (...args: never[]) => Promise<unknown> }, at: number) => {
    if (seen.has(target)) return;
    seen.add(target);
    const send = target.sendCommand.bind(target) as (...args: unknown[]) => Promise<unknown>;
    (target as { sendCommand: unknown }).sendCommand = (...args: unknown[]) => {
      names.push(String((args[at] as string[])[0]).toLowerCase());
      return send(...args);
    };
  };
  if ('nodeClient' in client) {
    wrap(client, 2);
    const nodeClient = client.nodeClient.bind(client);
    client.nodeClient = async (node) => {
      const made = await nodeClient(node);
      wrap(made, 0);
      return made;
    };
  } else {
    wrap(client, 0);
  }
  return names;
}

describe.each<
  [string, (options?: NodeRedisTestOptions) => Promise<TestClient>, () => Redis | Cluster]
>([
  ['a standalone Redis', nodeRedisClient, standaloneClient],
  ['a 3-master Redis Cluster', nodeRedisCluster, clusterClient],
])('NodeRedisStore on %s', (name, connect, admin) => {
  it('runs the loader once for 1,000 concurrent callers over 4 processes, two of them on ioredis', async () => {
    const prefix = `nr-${randomUUID().slice(0, 8)}`;
    const stores: Store[] = [
      new NodeRedisStore({ client: await own(connect()) }),
      new NodeRedisStore({ client: await own(connect()) }),
      new RedisStore({ client: await own(admin()) }),
      new RedisStore({ client: await own(admin()) }),
    ];
    // A generous timeout: this is about leases, and a read timed out by a busy machine would
    // (correctly) compute without one.
    const caches = stores.map((store) => createCache({ store, prefix, timeout: 2000 }));
    let runs = 0;
    const wrappers = caches.map((cache) =>
      cache.cacheable(
        async (slug: string) => {
          runs += 1;
          await sleep(50);
          return `post ${slug}`;
        },
        { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
      ),
    );
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        (wrappers[i % 4] as (slug: string) => Promise<string>)('hot'),
      ),
    );
    expect(new Set(results)).toEqual(new Set(['post hot']));
    console.log(`[node-redis] ${name}: 1,000 callers over 4 processes, loader runs: ${runs}`);
    expect(runs).toBe(1);
  });

  it('answers a pattern invalidation from the key index: the keys are in the index, no SCAN is sent, the right keys go', async () => {
    const prefix = `nr-${randomUUID().slice(0, 8)}`;
    const client = await own(connect());
    const sent = recordCommands(client);
    const cache = createCache({ store: new NodeRedisStore({ client }), prefix, timeout: 2000 });
    const scans: CacheEventMap['scan'][] = [];
    cache.on('scan', (event) => {
      scans.push(event);
    });
    const db = new Map([
      ['a', 'a1'],
      ['b', 'b1'],
    ]);
    const getBody = cache.cacheable(async (slug: string) => db.get(slug), {
      key: 'posts:{{slug}}:body',
      context: (slug) => ({ slug }),
    });
    const update = cache.invalidating(
      async (slug: string, row: string) => {
        db.set(slug, row);
      },
      { patterns: ['posts:{{slug}}:*'], context: (slug) => ({ slug }) },
    );
    expect(await getBody('a')).toBe('a1');
    expect(await getBody('b')).toBe('b1');
    const redis = await own(admin());
    expect(await redis.zrange(`${prefix}|index|posts:`, '0', '-1')).toEqual(['a:body', 'b:body']);
    expect(await redis.zrange(`${prefix}|index|posts:a:`, '0', '-1')).toEqual(['body']);
    const before = sent.length;

    await update('a', 'a2');

    expect(scans).toEqual([]);
    expect(sent.slice(before)).toContain('zscan');
    expect(sent).not.toContain('scan');
    expect(await redis.exists(`${prefix}:posts:a:body`)).toBe(0);
    expect(await redis.exists(`${prefix}:posts:b:body`)).toBe(1);
    expect(await getBody('a')).toBe('a2');
    expect(await getBody('b')).toBe('b1');
  });

  it('reads text whatever the client’s type mapping (Buffer) and protocol (RESP2)', async () => {
    const buffers = await own(connect());
    const clients: NodeRedisClient[] = [
      (buffers as { withTypeMapping(mapping: object): NodeRedisClient }).withTypeMapping({
        [RESP_TYPES.BLOB_STRING]: Buffer,
      }),
      await own(connect({ RESP: 2 })),
    ];
    for (const client of clients) {
      const prefix = `nr-${randomUUID().slice(0, 8)}`;
      const cache = createCache({ store: new NodeRedisStore({ client }), prefix, timeout: 2000 });
      let loads = 0;
      const getPost = cache.cacheable(
        async (slug: string) => {
          loads += 1;
          return { slug, loads };
        },
        { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
      );
      expect(await getPost('x')).toEqual({ slug: 'x', loads: 1 });
      expect(await getPost('x')).toEqual({ slug: 'x', loads: 1 });
      expect(await cache.deletePattern('posts:*')).toBe(1);
      expect(await getPost('x')).toEqual({ slug: 'x', loads: 2 });
    }
  });
});

describe.each<[string, () => Promise<NodeRedisClient & object>]>([
  ['a standalone Redis', nodeRedisClient5],
  ['a 3-master Redis Cluster', nodeRedisCluster5],
])('NodeRedisStore on a node-redis 5 client, on %s', (_name, connect) => {
  it('runs every store operation, deletes by pattern, and serves a cache', async () => {
    const client = await own(connect());
    const store = new NodeRedisStore({ client });
    const ns = `redis5:${randomUUID()}:`;
    expect(await store.get(`${ns}a`)).toBeNull();
    await store.set(`${ns}a`, 'one', 60_000);
    expect(await store.get(`${ns}a`)).toBe('one');
    expect(await store.setIfAbsent(`${ns}a`, 'two', 60_000)).toBe(false);
    expect(await store.getOrLease(`${ns}b`, 'lease', 60_000)).toBeNull();
    expect(await store.compareAndSet(`${ns}b`, 'lease', 'three', undefined)).toBe(true);
    expect(await store.compareAndDelete(`${ns}b`, 'three')).toBe(true);
    await Promise.all(
      Array.from({ length: 300 }, (_, i) => store.set(`${ns}posts:${i}`, 'v', 60_000)),
    );
    expect(await store.deletePattern(`${ns}posts:*`)).toBe(300);
    expect(await store.delete(`${ns}a`)).toBe(true);

    const cache = createCache({ store, prefix: `redis5-${randomUUID()}`, timeout: 2000 });
    let loads = 0;
    const getPost = cache.cacheable(async (slug: string) => ({ slug, loads: ++loads }), {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    const updatePost = cache.invalidating(async (slug: string) => slug, {
      patterns: ['posts:{{slug}}:*'],
      context: (slug) => ({ slug }),
    });
    expect(await getPost('hello')).toEqual({ slug: 'hello', loads: 1 });
    expect(await getPost('hello')).toEqual({ slug: 'hello', loads: 1 });
    await updatePost('hello');
    expect(await getPost('hello')).toEqual({ slug: 'hello', loads: 2 });
  });
});

describe('NodeRedisStore', () => {
  it('opens and closes its own connection from a URL, but never closes a client it was given', async () => {
    const { host, port } = inject('redis').standalone;
    const owned = new NodeRedisStore<ReturnType<typeof createClient>>({
      url: `redis://${host}:${port}`,
    });
    // Sent before the connection is ready: they wait in node-redis's offline queue.
    const key = `owned:${randomUUID()}`;
    await owned.set(key, 'v', 1000);
    expect(await owned.get(key)).toBe('v');
    await owned.close();
    expect(owned.client.isOpen).toBe(false);
    const client = await own(nodeRedisClient());
    const borrowed = new NodeRedisStore({ client });
    await borrowed.close();
    expect(await client.ping()).toBe('PONG');
  });

  it('closes a connection it opened that never became ready (Redis unreachable)', async () => {
    const owned = new NodeRedisStore<ReturnType<typeof createClient>>({
      url: 'redis://127.0.0.1:1',
    });
    await sleep(50);
    expect(owned.client.isReady).toBe(false);
    await owned.close();
    expect(owned.client.isOpen).toBe(false);
  });
});

describe('NodeRedisStore on a Redis of its own, started with --maxmemory 100mb --maxmemory-policy allkeys-lru', () => {
  let server: FaultRedis;
  let admin: Redis;
  const clients: { close(): Promise<unknown> }[] = [];
  beforeAll(async () => {
    server = await startFaultRedis(['--maxmemory', '100mb', '--maxmemory-policy', 'allkeys-lru']);
    admin = new Redis({ host: server.host, port: server.port });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await admin?.quit().catch(() => admin.disconnect());
    await server?.stop();
  });

  // CONFIG GET answers a flat array in RESP2 and a map in RESP3: the store reads both.
  it.each([2, 3] as const)(
    "with index 'auto', keeps no index and scans, reading the eviction policy in RESP%i",
    async (resp) => {
      const client = createClient({ socket: { host: server.host, port: server.port }, RESP: resp });
      client.on('error', () => undefined);
      clients.push(await client.connect());
      const prefix = `nr-${randomUUID().slice(0, 8)}`;
      const logger = recordingLogger();
      const cache: Cache<Store> = createCache({
        store: new NodeRedisStore({ client }),
        prefix,
        logger,
        timeout: 2000,
      });
      const scans: CacheEventMap['scan'][] = [];
      cache.on('scan', (event) => {
        scans.push(event);
      });
      await cache.set('posts:a', 'a');
      expect(await admin.keys(`${prefix}|index|*`)).toEqual([]);
      expect(await cache.deletePattern('posts:*')).toBe(1);
      expect(scans).toEqual([
        expect.objectContaining({
          reason: expect.stringMatching(/may evict keys.*maxmemory 104857600.*allkeys-lru/),
        }),
      ]);
      expect(logger.lines.warn.filter((line) => line.includes('NO KEY INDEX'))).toEqual([
        expect.stringContaining('[Cache] NO KEY INDEX: Redis may evict keys'),
      ]);
    },
  );
});
