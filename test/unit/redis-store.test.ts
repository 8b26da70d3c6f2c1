// RedisStore's choice of client, without a Redis server: clients are made with `lazyConnect`
// (they never connect), or are plain objects with the commands the store uses.
import { Cluster, Redis } from 'ioredis';
import { Cluster as Cluster5, Redis as Redis5 } from 'ioredis5';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, matchGlob } from '../../src/index.js';
import {
  type RedisClusterClient,
  type RedisPipeline,
  type RedisServerClient,
  RedisStore,
} from '../../src/redis.js';

const NOWHERE = { host: '127.0.0.1', port: 1 };

/** Clients made by a test, disconnected after it. */
const made: { disconnect(): void }[] = [];
afterEach(() => {
  for (const client of made.splice(0)) client.disconnect();
});
function lazy<T extends { disconnect(): void }>(client: T): T {
  made.push(client);
  return client;
}

/** One Redis server's keyspace, answering the commands RedisStore sends (no TTLs, no scripts). */
class FakeServer implements RedisServerClient {
  readonly keys = new Map<string, string>();
  scans = 0;
  constructor(readonly options = { host: '127.0.0.1', port: 7000 }) {}
  async config(): Promise<unknown> {
    return ['maxmemory', '0'];
  }
  async zscan(): Promise<[cursor: string, membersAndScores: string[]]> {
    return ['0', []];
  }
  async get(key: string): Promise<string | null> {
    return this.keys.get(key) ?? null;
  }
  set(key: string, value: string, px: 'PX', ttlMs: number): Promise<unknown>;
  set(key: string, value: string, px: 'PX', ttlMs: number, nx: 'NX'): Promise<string | null>;
  async set(key: string, value: string, _px: 'PX', _ttlMs: number, nx?: 'NX') {
    if (nx && this.keys.has(key)) return null;
    this.keys.set(key, value);
    return 'OK';
  }
  async unlink(...keys: string[]): Promise<number> {
    return keys.filter((key) => this.keys.delete(key)).length;
  }
  async evalsha(): Promise<unknown> {
    throw new Error('NOSCRIPT');
  }
  async eval(): Promise<unknown> {
    return 0;
  }
  async scan(
    _cursor: string,
    _match: 'MATCH',
    pattern: string,
  ): Promise<[cursor: string, keys: string[]]> {
    this.scans += 1;
    return ['0', [...this.keys.keys()].filter((key) => matchGlob(pattern, key))];
  }
  pipeline(): RedisPipeline {
    const queued: string[] = [];
    return {
      unlink: (key: string) => queued.push(key),
      exec: async () => {
        const replies: [Error | null, unknown][] = [];
        for (const key of queued) replies.push([null, await this.unlink(key)]);
        return replies;
      },
    };
  }
}

/** A Cluster of fake servers, keys spread by their first character. */
class FakeCluster implements RedisClusterClient {
  readonly masters = [
    new FakeServer({ host: '127.0.0.1', port: 7000 }),
    new FakeServer({ host: '127.0.0.1', port: 7001 }),
  ];
  readonly status = 'ready';
  /** Half of the hash slots on each master. */
  readonly slots = Array.from({ length: 16_384 }, (_, slot) => [
    slot < 8192 ? '127.0.0.1:7000' : '127.0.0.1:7001',
  ]);
  once(): void {}
  zscan(): Promise<[cursor: string, membersAndScores: string[]]> {
    throw new Error('not used here');
  }
  #owner(key: string): FakeServer {
    return this.masters[key.charCodeAt(0) % this.masters.length] as FakeServer;
  }
  get(key: string) {
    return this.#owner(key).get(key);
  }
  set(key: string, value: string, px: 'PX', ttlMs: number): Promise<unknown>;
  set(key: string, value: string, px: 'PX', ttlMs: number, nx: 'NX'): Promise<string | null>;
  set(key: string, value: string, px: 'PX', ttlMs: number, nx?: 'NX') {
    const owner = this.#owner(key);
    return nx ? owner.set(key, value, px, ttlMs, nx) : owner.set(key, value, px, ttlMs);
  }
  async unlink(...keys: string[]): Promise<number> {
    let removed = 0;
    for (const key of keys) removed += await this.#owner(key).unlink(key);
    return removed;
  }
  evalsha(): Promise<unknown> {
    throw new Error('not used here');
  }
  eval(): Promise<unknown> {
    throw new Error('not used here');
  }
  nodes(): RedisServerClient[] {
    return this.masters;
  }
}

describe('RedisStore accepts any ioredis 5 or 6 client, recognised by its methods', () => {
  it.each([
    ['ioredis 6 Redis', () => lazy(new Redis({ ...NOWHERE, lazyConnect: true }))],
    ['ioredis 6 Cluster', () => lazy(new Cluster([NOWHERE], { lazyConnect: true }))],
    ['ioredis 5 Redis', () => lazy(new Redis5({ ...NOWHERE, lazyConnect: true }))],
    ['ioredis 5 Cluster', () => lazy(new Cluster5([NOWHERE], { lazyConnect: true }))],
  ])('accepts an %s', (_name, connect) => {
    const client = connect();
    expect(new RedisStore({ client }).client).toBe(client);
  });

  it('accepts a client from another copy of ioredis, which is no instance of ours', () => {
    const client = lazy(new Redis5({ ...NOWHERE, lazyConnect: true }));
    expect(client instanceof Redis).toBe(false);
    expect(() => new RedisStore({ client })).not.toThrow();
  });

  it('works on any object with the commands, standalone and Cluster (told apart by `nodes`)', async () => {
    const server = new FakeServer();
    const standalone = new RedisStore({ client: server });
    await standalone.set('posts:1', 'a', 1000);
    await standalone.set('posts:2', 'b', 1000);
    await standalone.set('users:1', 'c', 1000);
    expect(await standalone.get('posts:1')).toBe('a');
    expect(await standalone.setIfAbsent('posts:1', 'x', 1000)).toBe(false);
    expect(await standalone.deletePattern('posts:*')).toBe(2);
    expect([...server.keys.keys()]).toEqual(['users:1']);

    const cluster = new FakeCluster();
    const store = new RedisStore({ client: cluster });
    for (const key of ['a:1', 'b:1', 'c:1', 'a:2', 'z']) await store.set(key, 'v', 1000);
    expect(await store.deletePattern('?:*')).toBe(4);
    // Each master was scanned: a Cluster's keys are spread over them.
    expect(cluster.masters.map((master) => master.scans)).toEqual([1, 1]);
    expect(await store.get('z')).toBe('v');
  });

  it('rejects what is not a Redis client, naming the missing commands', () => {
    for (const client of [{}, null, 'redis://127.0.0.1', new Map()]) {
      const make = () => new RedisStore({ client: client as unknown as Redis });
      expect(make).toThrow(InvalidOptionError);
      expect(make).toThrow(expect.objectContaining({ option: 'client' }));
      expect(make).toThrow(/^\[quickpost-cache\] `client` must be an ioredis Redis or Cluster/);
    }
    const partial = { get: async () => null, set: async () => 'OK' } as unknown as Redis;
    expect(() => new RedisStore({ client: partial })).toThrow(
      /no `unlink\(\)`, `evalsha\(\)`, `eval\(\)`, `zscan\(\)`, `scan\(\)`, `pipeline\(\)`, `config\(\)`/,
    );
    const clusterLike = { nodes: () => [], get: async () => null } as unknown as Cluster;
    expect(() => new RedisStore({ client: clusterLike })).toThrow(
      /this Cluster-like object has no `set\(\)`, `unlink\(\)`, `evalsha\(\)`, `eval\(\)`, `zscan\(\)`, `once\(\)`$/,
    );
    const client = lazy(new Redis({ ...NOWHERE, lazyConnect: true }));
    expect(() => new RedisStore({ client, scanCount: 0 })).toThrow(
      expect.objectContaining({ option: 'scanCount' }),
    );
  });
});

describe('RedisStore refuses a client with keyPrefix, which SCAN would ignore', () => {
  it.each([
    ['ioredis 6 Redis', () => new Redis({ ...NOWHERE, keyPrefix: 'app:', lazyConnect: true })],
    ['ioredis 5 Redis', () => new Redis5({ ...NOWHERE, keyPrefix: 'app:', lazyConnect: true })],
    [
      'ioredis 6 Cluster (keyPrefix)',
      () => new Cluster([NOWHERE], { keyPrefix: 'app:', lazyConnect: true }),
    ],
    [
      'ioredis 6 Cluster (redisOptions.keyPrefix)',
      () => new Cluster([NOWHERE], { redisOptions: { keyPrefix: 'app:' }, lazyConnect: true }),
    ],
    [
      'ioredis 5 Cluster (keyPrefix)',
      () => new Cluster5([NOWHERE], { keyPrefix: 'app:', lazyConnect: true }),
    ],
    [
      'ioredis 5 Cluster (redisOptions.keyPrefix)',
      () => new Cluster5([NOWHERE], { redisOptions: { keyPrefix: 'app:' }, lazyConnect: true }),
    ],
  ])('on an %s', (_name, connect) => {
    const client = lazy(connect());
    expect(() => new RedisStore({ client })).toThrow(InvalidOptionError);
    expect(() => new RedisStore({ client })).toThrow(/keyPrefix: 'app:'/);
  });

  it('in the options or URL of a connection the store would open', () => {
    expect(
      () => new RedisStore({ redis: { ...NOWHERE, keyPrefix: 'app:', lazyConnect: true } }),
    ).toThrow(/keyPrefix: 'app:'/);
    expect(
      () =>
        new RedisStore({
          url: 'redis://127.0.0.1:1/?keyPrefix=app:',
          redis: { lazyConnect: true },
        }),
    ).toThrow(/keyPrefix: 'app:'/);
  });
});

describe('RedisStore refuses a Cluster client reading from replicas, which may be behind', () => {
  it.each([
    [
      "ioredis 6 Cluster, scaleReads: 'slave'",
      () => new Cluster([NOWHERE], { scaleReads: 'slave', lazyConnect: true }),
      /scaleReads: 'slave'/,
    ],
    [
      "ioredis 5 Cluster, scaleReads: 'all'",
      () => new Cluster5([NOWHERE], { scaleReads: 'all', lazyConnect: true }),
      /scaleReads: 'all'/,
    ],
    [
      'ioredis 6 Cluster, scaleReads: a function',
      () =>
        new Cluster([NOWHERE], { scaleReads: (nodes: unknown[]) => nodes[0], lazyConnect: true }),
      /scaleReads: a function/,
    ],
  ] as const)('on an %s', (_name, connect, message) => {
    const client = lazy(connect());
    expect(() => new RedisStore({ client })).toThrow(InvalidOptionError);
    expect(() => new RedisStore({ client })).toThrow(message);
    const master = lazy(new Cluster([NOWHERE], { scaleReads: 'master', lazyConnect: true }));
    expect(() => new RedisStore({ client: master })).not.toThrow();
  });
});
