import { NodeRedisStore } from '../../src/node-redis.js';
import { RedisStore } from '../../src/redis.js';
import { describeCacheBehaviour } from '../../src/testing/index.js';
import {
  clusterClient,
  nodeRedisClient,
  nodeRedisCluster,
  standaloneClient,
} from '../helpers/redis-clients.js';

// `shared` gives two stores with their own connections: two app processes on one Redis.
describeCacheBehaviour({
  name: 'RedisStore on a standalone Redis',
  create: () => new RedisStore({ client: standaloneClient() }),
  shared: () => [
    new RedisStore({ client: standaloneClient() }),
    new RedisStore({ client: standaloneClient() }),
  ],
  dispose: (store) => store.client.quit(),
});

describeCacheBehaviour({
  name: 'RedisStore on a 3-master Redis Cluster',
  create: () => new RedisStore({ client: clusterClient() }),
  shared: () => [
    new RedisStore({ client: clusterClient() }),
    new RedisStore({ client: clusterClient() }),
  ],
  dispose: (store) => store.client.quit(),
});

describeCacheBehaviour({
  name: 'NodeRedisStore on a standalone Redis',
  create: async () => new NodeRedisStore({ client: await nodeRedisClient() }),
  shared: async () => [
    new NodeRedisStore({ client: await nodeRedisClient() }),
    new NodeRedisStore({ client: await nodeRedisClient() }),
  ],
  dispose: (store) => store.client.close(),
});

describeCacheBehaviour({
  name: 'NodeRedisStore on a 3-master Redis Cluster',
  create: async () => new NodeRedisStore({ client: await nodeRedisCluster() }),
  shared: async () => [
    new NodeRedisStore({ client: await nodeRedisCluster() }),
    new NodeRedisStore({ client: await nodeRedisCluster() }),
  ],
  dispose: (store) => store.client.close(),
});
