import { RedisStore } from '../../src/redis.js';
import type { StoreCase } from './adapter-cases.js';
import { standaloneClient } from './redis-clients.js';

/** A RedisStore on the standalone server of the Redis tests, with its own connection. */
export const redisStoreCase: StoreCase = {
  name: 'RedisStore (standalone Redis)',
  create: () => new RedisStore({ client: standaloneClient() }),
  dispose: (store) => (store as RedisStore).client.quit(),
};
