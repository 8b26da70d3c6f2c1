/**
 * The two Redis stores (RedisStore on ioredis, NodeRedisStore on node-redis) made the same way,
 * so that one test can run on either: each store on a client of its own, as a separate app
 * process has, with the way to close that client.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Cluster as Cluster5, Redis as Redis5 } from 'ioredis5';
import { type NodeRedisClient, NodeRedisStore } from '../../src/node-redis.js';
import { type RedisClient, RedisStore, type RedisStoreTuning } from '../../src/redis.js';

/** A Redis store on a client of its own, and how to close that client. */
export interface OwnStore {
  store: RedisStore<RedisClient> | NodeRedisStore<NodeRedisClient>;
  /** The client the store was given. */
  client: object;
  /** Closes the client. */
  close(): Promise<unknown>;
}

/** Makes a store, with `tuning`, on a new client of its own. */
export type StoreMaker = (tuning?: RedisStoreTuning) => Promise<OwnStore>;

/** RedisStore on the clients `connect` makes (ioredis 5 or 6). */
export function ioredisStore(connect: () => Redis | Cluster | Redis5 | Cluster5): StoreMaker {
  return async (tuning = {}) => {
    const client = connect();
    return { store: new RedisStore({ client, ...tuning }), client, close: () => client.quit() };
  };
}

/** NodeRedisStore on the connected clients `connect` makes (node-redis 5 or 6). */
export function nodeRedisStore(
  connect: () => Promise<NodeRedisClient & { close(): Promise<unknown> }>,
): StoreMaker {
  return async (tuning = {}) => {
    const client = await connect();
    return {
      store: new NodeRedisStore({ client, ...tuning }),
      client,
      close: () => client.close(),
    };
  };
}
