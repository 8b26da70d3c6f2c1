/**
 * The QuickPost example app on Redis: its HTTP contract on a standalone Redis and on a Cluster,
 * its lists invalidated by tags (test/helpers/quickpost-lists.ts) on both, two app instances
 * sharing one Redis (as two processes would), and the app started from its environment
 * (`REDIS_URL`, `REDIS_CLUSTER_NODES`), as `npm run example` starts it.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it, onTestFinished } from 'vitest';
import { databaseFromEnv, type RunningApp, start } from '../../examples/quickpost/index.js';
import { type Cache, createCache } from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { clientOf, describeQuickPostApi } from '../helpers/quickpost-api.js';
import { describeListSurvival } from '../helpers/quickpost-lists.js';
import { clusterClient, standaloneClient } from '../helpers/redis-clients.js';

/** Closes the cache, then the Redis connection it was given. */
async function closeRedisCache(cache: Cache): Promise<void> {
  await cache.close();
  await (cache.store as RedisStore).client.quit();
}

describeQuickPostApi(
  'on a standalone Redis',
  (prefix) => createCache({ prefix, store: new RedisStore({ client: standaloneClient() }) }),
  closeRedisCache,
);

describeQuickPostApi(
  'on a 3-master Redis Cluster',
  (prefix) => createCache({ prefix, store: new RedisStore({ client: clusterClient() }) }),
  closeRedisCache,
);

describeListSurvival(
  'on a standalone Redis',
  (prefix) => createCache({ prefix, store: new RedisStore({ client: standaloneClient() }) }),
  closeRedisCache,
);

describeListSurvival(
  'on a 3-master Redis Cluster',
  (prefix) => createCache({ prefix, store: new RedisStore({ client: clusterClient() }) }),
  closeRedisCache,
);

describe('the QuickPost example app on Redis, across instances and from its environment', () => {
  const running: RunningApp[] = [];
  afterEach(async () => {
    for (const app of running.splice(0)) {
      await app.close();
      if (app.backend === 'given') await closeRedisCache(app.cache);
    }
  });

  it('lets one instance’s writes invalidate what another instance cached', async () => {
    // Two processes of the app: one database, one Redis, one prefix, a connection each.
    const prefix = `qp-${randomUUID().slice(0, 8)}`;
    const database = await databaseFromEnv({});
    onTestFinished(() => database.close());
    for (let i = 0; i < 2; i += 1) {
      const store = new RedisStore({ client: standaloneClient() });
      running.push(
        await start({ cache: createCache({ prefix, store }), database, port: 0, env: {} }),
      );
    }
    const [a, b] = running.map((app) => clientOf(app.url)) as [
      ReturnType<typeof clientOf>,
      ReturnType<typeof clientOf>,
    ];
    await a('POST', '/posts', { json: { slug: 'shared', title: 'Shared' } });
    expect((await b('GET', '/posts/shared')).cache).toBe('miss');
    expect((await a('GET', '/posts/shared')).cache).toBe('hit');
    await a('POST', '/posts/shared/comments', { json: { text: 'from A' } });
    const seen = await b('GET', '/posts/shared');
    expect([seen.cache, seen.body.commentCount]).toEqual(['miss', 1]);
    await b('POST', '/posts/shared/like', { user: 'u1' });
    const fromA = await a('GET', '/posts/shared');
    expect([fromA.cache, fromA.body.likeCount]).toEqual(['miss', 1]);
  });

  it('starts on REDIS_URL as `npm run example` does, and writes readable entries there', async () => {
    const { host, port } = inject('redis').standalone;
    // Database 1: the app's fixed prefix never meets other test files' keys (they use 0).
    const app = await start({ env: { REDIS_URL: `redis://${host}:${port}/1`, PORT: '0' } });
    running.push(app);
    expect(app.backend).toBe('redis');
    expect(app.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const call = clientOf(app.url);
    const slug = `env-${randomUUID().slice(0, 8)}`;
    await call('POST', '/posts', { json: { slug, title: 'From env' } });
    expect((await call('GET', `/posts/${slug}`)).cache).toBe('miss');
    expect((await call('GET', `/posts/${slug}`)).cache).toBe('hit');
    const redis = standaloneClient();
    try {
      await redis.select(1);
      expect(await redis.get(`quickpost:posts:${slug}`)).toContain('"title":"From env"');
    } finally {
      await redis.quit();
    }
  });

  // REDIS_CLUSTER_NODES gives seed addresses only: it reaches a Cluster whose nodes announce
  // addresses this host can use, as the loopback Cluster of QUICKPOST_DOCKER_NETWORK=host does
  // (a Cluster behind Docker's port mapping needs ioredis's natMap, which the app does not take).
  it.skipIf(inject('redis').cluster.natMap !== undefined)(
    'starts on REDIS_CLUSTER_NODES',
    async () => {
      const nodes = inject('redis').cluster.nodes.map(({ host, port }) => `${host}:${port}`);
      const app = await start({ env: { REDIS_CLUSTER_NODES: nodes.join(','), PORT: '0' } });
      running.push(app);
      expect(app.backend).toBe('cluster');
      const call = clientOf(app.url);
      const slug = `cluster-${randomUUID().slice(0, 8)}`;
      await call('POST', '/posts', { json: { slug, title: 'On a Cluster' } });
      expect((await call('GET', `/posts/${slug}`)).cache).toBe('miss');
      expect((await call('GET', `/posts/${slug}`)).cache).toBe('hit');
      await call('POST', `/posts/${slug}/comments`, { json: { text: 'x' } });
      const read = await call('GET', `/posts/${slug}`);
      expect([read.cache, read.body.commentCount]).toEqual(['miss', 1]);
    },
  );
});
