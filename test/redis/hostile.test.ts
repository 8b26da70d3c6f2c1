import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, describe } from 'vitest';
import { type Cache, createCache, type Store } from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { hostileValueTests } from '../helpers/hostile.js';
import { clusterClient, standaloneClient } from '../helpers/redis-clients.js';

describe.each([
  ['a standalone Redis', standaloneClient],
  ['a 3-master Redis Cluster', clusterClient],
])('hostile key values on RedisStore over %s', (_name, connect: () => Redis | Cluster) => {
  const clients: (Redis | Cluster)[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.quit()));
  });
  hostileValueTests((): Cache<Store> => {
    const client = connect();
    clients.push(client);
    return createCache({
      store: new RedisStore({ client }),
      prefix: `h-${randomUUID().slice(0, 8)}`,
      timeout: 2000,
    });
  });
});
