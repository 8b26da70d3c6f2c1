import { NodeRedisStore } from '../../src/node-redis.js';
import { RedisStore } from '../../src/redis.js';
import { describeStoreConformance } from '../../src/testing/index.js';
import {
  clusterClient,
  nodeRedisClient,
  nodeRedisCluster,
  standaloneClient,
} from '../helpers/redis-clients.js';

describeStoreConformance({
  name: 'RedisStore on a standalone Redis',
  create: () => new RedisStore({ client: standaloneClient() }),
  dispose: (store) => store.client.quit(),
  volume: 20_000,
});

describeStoreConformance({
  name: 'RedisStore on a 3-master Redis Cluster',
  create: () => new RedisStore({ client: clusterClient() }),
  dispose: (store) => store.client.quit(),
  volume: 20_000,
});

describeStoreConformance({
  name: 'NodeRedisStore on a standalone Redis',
  create: async () => new NodeRedisStore({ client: await nodeRedisClient() }),
  dispose: (store) => store.client.close(),
  volume: 20_000,
});

describeStoreConformance({
  name: 'NodeRedisStore on a 3-master Redis Cluster',
  create: async () => new NodeRedisStore({ client: await nodeRedisCluster() }),
  dispose: (store) => store.client.close(),
  volume: 20_000,
});
