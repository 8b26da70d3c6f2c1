// NodeRedisStore's choice of client, without a Redis server: node-redis clients that are made but
// never connected, and plain objects.
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster } from 'redis';
import { createClient as createClient5, createCluster as createCluster5 } from 'redis5';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/index.js';
import { type NodeRedisClient, NodeRedisStore } from '../../src/node-redis.js';

const NOWHERE = { host: '127.0.0.1', port: 1 };

/** ioredis clients made by a test, disconnected after it. */
const made: { disconnect(): void }[] = [];
afterEach(() => {
  for (const client of made.splice(0)) client.disconnect();
});

describe('NodeRedisStore accepts node-redis 5 and 6 clients, recognised by their methods', () => {
  it.each([
    ['redis 6 client', () => createClient({ socket: NOWHERE })],
    ['redis 6 client speaking RESP2', () => createClient({ socket: NOWHERE, RESP: 2 })],
    ['redis 6 Cluster', () => createCluster({ rootNodes: [{ socket: NOWHERE }] })],
    ['redis 5 client', () => createClient5({ socket: NOWHERE })],
    ['redis 5 Cluster', () => createCluster5({ rootNodes: [{ socket: NOWHERE }] })],
  ])('accepts a %s', (_name, make) => {
    const client = make();
    expect(new NodeRedisStore({ client }).client).toBe(client);
  });

  it('refuses an ioredis client, pointing to RedisStore', () => {
    const clients = [
      new Redis({ ...NOWHERE, lazyConnect: true }),
      new Cluster([NOWHERE], { lazyConnect: true }),
    ];
    made.push(...clients);
    for (const client of clients) {
      const make = () => new NodeRedisStore({ client: client as unknown as NodeRedisClient });
      expect(make).toThrow(InvalidOptionError);
      expect(make).toThrow(
        /this is an ioredis client: use RedisStore from quickpost-cache\/redis$/,
      );
    }
  });

  it('refuses what is not a node-redis client, naming the missing methods', () => {
    for (const client of [{}, null, 'redis://127.0.0.1', new Map()]) {
      const make = () => new NodeRedisStore({ client: client as unknown as NodeRedisClient });
      expect(make).toThrow(InvalidOptionError);
      expect(make).toThrow(expect.objectContaining({ option: 'client' }));
      expect(make).toThrow(
        /^\[quickpost-cache\] `client` must be a node-redis client \(createClient\) or Cluster \(createCluster\)/,
      );
    }
    const partial = { sendCommand: async () => null } as unknown as NodeRedisClient;
    expect(() => new NodeRedisStore({ client: partial })).toThrow(/object has no `duplicate\(\)`$/);
    const clusterLike = { nodeClient: async () => ({}) } as unknown as NodeRedisClient;
    expect(() => new NodeRedisStore({ client: clusterLike })).toThrow(
      /this Cluster-like object has no `sendCommand\(\)`$/,
    );
    expect(() => new NodeRedisStore(null as unknown as { client: NodeRedisClient })).toThrow(
      /^\[quickpost-cache\] NodeRedisStore needs `\{ client \}`/,
    );
    const client = createClient({ socket: NOWHERE });
    expect(() => new NodeRedisStore({ client, scanCount: 0 })).toThrow(
      expect.objectContaining({ option: 'scanCount' }),
    );
    expect(() => new NodeRedisStore({ client, index: 'yes' as unknown as boolean })).toThrow(
      expect.objectContaining({ option: 'index' }),
    );
  });

  it('refuses a client with keyPrefix (node-redis 6), which the store’s commands would bypass', () => {
    const prefixed = [
      createClient({ socket: NOWHERE, keyPrefix: 'app:' }),
      createCluster({ rootNodes: [{ socket: NOWHERE }], keyPrefix: 'app:' }),
    ];
    for (const client of prefixed) {
      expect(() => new NodeRedisStore({ client })).toThrow(InvalidOptionError);
      expect(() => new NodeRedisStore({ client })).toThrow(/keyPrefix: 'app:'/);
    }
    expect(() => new NodeRedisStore({ redis: { socket: NOWHERE, keyPrefix: 'app:' } })).toThrow(
      /keyPrefix: 'app:'/,
    );
  });
});
