// A client made by ioredis 5 (installed as the `ioredis5` alias beside our ioredis 6) is a copy
// of ioredis the store did not load: it is accepted by what it can do, and works.
import { randomUUID } from 'node:crypto';
import type { Cluster as Cluster5, Redis as Redis5 } from 'ioredis5';
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { clusterClient5, standaloneClient5 } from '../helpers/redis-clients.js';

describe.each([
  ['a standalone Redis', standaloneClient5],
  ['a 3-master Redis Cluster', clusterClient5],
] as [string, () => Redis5 | Cluster5][])(
  'RedisStore on an ioredis 5 client, on %s',
  (_name, connect) => {
    it('runs every store operation', async () => {
      const client = connect();
      try {
        const store = new RedisStore({ client });
        expect(store.client).toBe(client);
        const ns = `ioredis5:${randomUUID()}:`;
        expect(await store.get(`${ns}a`)).toBeNull();
        await store.set(`${ns}a`, 'one', 60_000);
        expect(await store.get(`${ns}a`)).toBe('one');
        expect(await client.pttl(`${ns}a`)).toBeGreaterThan(50_000);
        expect(await store.setIfAbsent(`${ns}a`, 'two', 60_000)).toBe(false);
        expect(await store.setIfAbsent(`${ns}b`, 'two', 60_000)).toBe(true);
        expect(await store.compareAndSet(`${ns}b`, 'nope', 'three', 60_000)).toBe(false);
        expect(await store.compareAndSet(`${ns}b`, 'two', 'three', undefined)).toBe(true);
        expect(await store.get(`${ns}b`)).toBe('three');
        expect(await store.compareAndDelete(`${ns}b`, 'three')).toBe(true);
        expect(await store.delete(`${ns}a`)).toBe(true);
        expect(await store.delete(`${ns}a`)).toBe(false);
      } finally {
        await client.quit();
      }
    });

    it('deletes by pattern (on every master of a Cluster), leaving the other keys', async () => {
      const client = connect();
      try {
        const store = new RedisStore({ client });
        const ns = `ioredis5:${randomUUID()}:`;
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
        await client.quit();
      }
    });

    it('serves a cache: a miss, a hit, and an invalidation', async () => {
      const client = connect();
      try {
        const cache = createCache({
          store: new RedisStore({ client }),
          prefix: `ioredis5-${randomUUID()}`,
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
        await client.quit();
      }
    });
  },
);
