/**
 * `cache.stats()` on real Redis: reads counted per template, and the keys an invalidation removed
 * as Redis reports them (through the key index, and by SCAN without it), on a standalone server
 * and on a Cluster.
 */
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cache, createCache, type Store } from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { clusterClient, standaloneClient } from '../helpers/redis-clients.js';

describe.each([
  ['a standalone Redis', standaloneClient],
  ['a 3-master Redis Cluster', clusterClient],
] as const)('cache.stats() on %s', (_name, connect) => {
  const clients: (Redis | Cluster)[] = [];
  const caches: Cache<Store>[] = [];
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close({ timeout: 100 })));
    await Promise.all(clients.map((client) => client.quit().catch(() => undefined)));
  });

  it.each([true, false])(
    'counts reads per template and the keys invalidations removed (index: %s)',
    async (index) => {
      const client = connect();
      clients.push(client);
      const cache = createCache({
        store: new RedisStore({ client, index }),
        prefix: `stats-${randomUUID().slice(0, 8)}`,
        timeout: 2000,
      });
      caches.push(cache);
      const getPost = cache.cacheable(async (slug: string) => ({ slug }), {
        key: 'posts:{{slug}}',
        context: (slug) => ({ slug }),
      });
      const getComments = cache.cacheable(async (slug: string, page: number) => [slug, page], {
        key: 'posts:{{slug}}:comments:{{page}}',
        context: (slug, page: number) => ({ slug, page }),
      });
      const updatePost = cache.invalidating(async (_slug: string) => undefined, {
        patterns: ['posts:{{slug}}:*'],
        context: (slug) => ({ slug }),
      });
      for (const slug of ['a', 'b']) {
        await getPost(slug);
        await getPost(slug);
        for (let page = 1; page <= 3; page += 1) await getComments(slug, page);
      }
      await updatePost('a');
      const { templates, totals } = cache.stats();
      expect(templates['posts:{{slug}}']).toMatchObject({
        hits: 2,
        misses: 2,
        loads: 2,
        invalidations: 1,
        keysRemoved: 4,
      });
      expect(templates['posts:{{slug}}:comments:{{page}}']).toMatchObject({
        misses: 6,
        loads: 6,
        invalidations: 1,
        keysRemoved: 4,
      });
      expect(totals).toMatchObject({ hits: 2, misses: 8, invalidations: 1, keysRemoved: 4 });
    },
  );
});
