// Each store on clients other than the default one. The previous major of its library: a client
// made by ioredis 5 (the `ioredis5` alias beside our ioredis 6) or node-redis 5 (the `redis5`
// alias beside redis 6) is a copy of the library the store did not load: it is accepted by what
// it can do, and works. And node-redis 6 clients whose replies differ from the default: RESP2
// (node-redis 6 speaks RESP3 by default), and a type mapping that makes text a Buffer.
import { randomUUID } from 'node:crypto';
import { RESP_TYPES } from 'redis';
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/index.js';
import type { NodeRedisClient } from '../../src/node-redis.js';
import {
  clusterClient,
  clusterClient5,
  nodeRedisClient,
  nodeRedisClient5,
  nodeRedisCluster,
  nodeRedisCluster5,
  standaloneClient,
  standaloneClient5,
} from '../helpers/redis-clients.js';
import { ioredisStore, nodeRedisStore, type StoreMaker } from '../helpers/redis-stores.js';

/** A node-redis client whose text replies are Buffers, unless a command asks otherwise. */
async function withBuffers(
  connect: () => Promise<{ withTypeMapping(mapping: object): unknown }>,
): Promise<NodeRedisClient & { close(): Promise<unknown> }> {
  const client = await connect();
  return client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }) as NodeRedisClient & {
    close(): Promise<unknown>;
  };
}

describe.each<[string, string, StoreMaker, typeof standaloneClient | typeof clusterClient]>([
  [
    'RedisStore on an ioredis 5',
    'a standalone Redis',
    ioredisStore(standaloneClient5),
    standaloneClient,
  ],
  [
    'RedisStore on an ioredis 5',
    'a 3-master Redis Cluster',
    ioredisStore(clusterClient5),
    clusterClient,
  ],
  [
    'NodeRedisStore on a node-redis 5',
    'a standalone Redis',
    nodeRedisStore(nodeRedisClient5),
    standaloneClient,
  ],
  [
    'NodeRedisStore on a node-redis 5',
    'a 3-master Redis Cluster',
    nodeRedisStore(nodeRedisCluster5),
    clusterClient,
  ],
  [
    'NodeRedisStore on a RESP2 node-redis 6',
    'a standalone Redis',
    nodeRedisStore(() => nodeRedisClient({ RESP: 2 })),
    standaloneClient,
  ],
  [
    'NodeRedisStore on a RESP2 node-redis 6',
    'a 3-master Redis Cluster',
    nodeRedisStore(() => nodeRedisCluster({ RESP: 2 })),
    clusterClient,
  ],
  [
    'NodeRedisStore on a Buffer-mapping node-redis 6',
    'a standalone Redis',
    nodeRedisStore(() => withBuffers(nodeRedisClient)),
    standaloneClient,
  ],
  [
    'NodeRedisStore on a Buffer-mapping node-redis 6',
    'a 3-master Redis Cluster',
    nodeRedisStore(() => withBuffers(nodeRedisCluster)),
    clusterClient,
  ],
])('%s client, on %s', (_store, _topology, make, admin) => {
  it('runs every store operation', async () => {
    const { store, client, close } = await make();
    const raw = admin();
    try {
      expect(store.client).toBe(client);
      const ns = `client5:${randomUUID()}:`;
      expect(await store.get(`${ns}a`)).toBeNull();
      await store.set(`${ns}a`, 'one', 60_000);
      expect(await store.get(`${ns}a`)).toBe('one');
      expect(await raw.pttl(`${ns}a`)).toBeGreaterThan(50_000);
      expect(await store.setIfAbsent(`${ns}a`, 'two', 60_000)).toBe(false);
      expect(await store.setIfAbsent(`${ns}b`, 'two', 60_000)).toBe(true);
      expect(await store.compareAndSet(`${ns}b`, 'nope', 'three', 60_000)).toBe(false);
      expect(await store.compareAndSet(`${ns}b`, 'two', 'three', undefined)).toBe(true);
      expect(await store.get(`${ns}b`)).toBe('three');
      expect(await store.compareAndDelete(`${ns}b`, 'three')).toBe(true);
      expect(await store.delete(`${ns}a`)).toBe(true);
      expect(await store.delete(`${ns}a`)).toBe(false);
    } finally {
      await close();
      await raw.quit();
    }
  });

  it('deletes by pattern (on every master of a Cluster), leaving the other keys', async () => {
    const { store, close } = await make();
    try {
      const ns = `client5:${randomUUID()}:`;
      // 500 keys spread over every hash slot range, so a Cluster holds them on all three masters.
      await Promise.all(
        Array.from({ length: 500 }, (_, i) => store.set(`${ns}posts:${i}`, 'v', 60_000)),
      );
      await store.set(`${ns}users:1`, 'v', 60_000);
      expect(await store.deletePattern(`${ns}posts:*`)).toBe(500);
      expect(await store.deletePattern(`${ns}posts:*`)).toBe(0);
      expect(await store.get(`${ns}users:1`)).toBe('v');
      await store.delete(`${ns}users:1`);
    } finally {
      await close();
    }
  });

  it('serves a cache: a miss, a hit, and an invalidation', async () => {
    const { store, close } = await make();
    try {
      const cache = createCache({
        store,
        prefix: `client5-${randomUUID()}`,
        // A generous timeout, as in the other feature tests: this is not about latency.
        timeout: 2000,
      });
      let loads = 0;
      const getPost = cache.cacheable(
        async (slug: string) => {
          loads += 1;
          return { slug, loads };
        },
        { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
      );
      const updatePost = cache.invalidating(async (slug: string) => slug, {
        patterns: ['posts:{{slug}}:*'],
        context: (slug) => ({ slug }),
      });
      expect(await getPost('hello')).toEqual({ slug: 'hello', loads: 1 });
      expect(await getPost('hello')).toEqual({ slug: 'hello', loads: 1 });
      await updatePost('hello');
      expect(await getPost('hello')).toEqual({ slug: 'hello', loads: 2 });
      await cache.deletePattern('*');
    } finally {
      await close();
    }
  });
});
