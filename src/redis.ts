/**
 * `quickpost-cache/redis`: the Redis store. It is an entry of its own so that `quickpost-cache`
 * (the cache and the in-memory store) never loads ioredis, nor mentions it in its types:
 * ioredis is an optional peer dependency, needed only by those who import this entry.
 */
export {
  type ConnectionOptions,
  type Corkable,
  type RedisClient,
  type RedisClusterClient,
  type RedisCommands,
  type RedisPipeline,
  type RedisServerClient,
  RedisStore,
  type RedisStoreOptions,
  type RedisStoreTuning,
} from './stores/redis.js';
export type { RedisBaseStore } from './stores/redis-base/store.js';
