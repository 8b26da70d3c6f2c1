/**
 * `quickpost-cache/node-redis`: the Redis store on node-redis (the official `redis` package). It
 * is an entry of its own so that neither `quickpost-cache` nor `quickpost-cache/redis` loads
 * node-redis: `redis` is an optional peer dependency, needed only by those who import this entry.
 */
export {
  type NodeRedisClient,
  type NodeRedisClusterClient,
  type NodeRedisCommandOptions,
  type NodeRedisConnection,
  type NodeRedisConnectionOptions,
  type NodeRedisNode,
  type NodeRedisServerClient,
  NodeRedisStore,
  type NodeRedisStoreOptions,
} from './stores/node-redis.js';
export type { RedisBaseStore, RedisStoreTuning } from './stores/redis-base/store.js';
