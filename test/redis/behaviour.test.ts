import { RedisStore } from '../../src/redis.js';
import { describeCacheBehaviour } from '../../src/testing/index.js';
import { clusterClient, standaloneClient } from '../helpers/redis-clients.js';

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
