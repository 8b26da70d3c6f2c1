// The published declarations (dist/*.d.ts), resolved through package.json `exports`.
// Type tests are only type-checked, never run: that the root entry's files never mention ioredis
// is checked on the files themselves, in test/smoke/dist.test.ts.

import type { MeterProvider } from '@opentelemetry/api';
import { Cluster, Redis } from 'ioredis';
import { Redis as Redis5 } from 'ioredis5';
import {
  type BatchingStore,
  type BatchOperation,
  type Cache,
  type CacheHealth,
  type CacheStats,
  createCache,
  type Duration,
  MemoryStore,
  type Store,
} from 'quickpost-cache';
import { type NodeRedisClient, NodeRedisStore } from 'quickpost-cache/node-redis';
import { type InstrumentOptions, instrumentCache } from 'quickpost-cache/otel';
import { type RedisClient, RedisStore } from 'quickpost-cache/redis';
import {
  type CacheBehaviourOptions,
  ChaosStore,
  describeCacheBehaviour,
  describeStoreConformance,
  PassThroughStore,
  recordCache,
  type StoreConformanceOptions,
} from 'quickpost-cache/testing';
import { createClient, createCluster, RESP_TYPES } from 'redis';
import { createClient as createClient5, createCluster as createCluster5 } from 'redis5';
import { describe, expectTypeOf, it } from 'vitest';

describe('published declarations', () => {
  it('keep the template and sync/async typing of the source', () => {
    const cache = createCache();
    const square = cache.cacheable((n: number) => n * n, {
      key: 'sq:{{n}}',
      context: (n) => ({ n }),
    });
    expectTypeOf(square).toEqualTypeOf<(n: number) => number>();
    // @ts-expect-error the template needs {{n}}
    cache.cacheable((n: number) => n, { key: 'sq:{{n}}', context: () => ({}) });
    expectTypeOf(cache.store).toEqualTypeOf<MemoryStore>();
    // @ts-expect-error internals used by the wrappers are not part of the published API
    cache.reader;
    // @ts-expect-error internals used by the wrappers are not part of the published API
    cache.invalidate;
    const remote = createCache({ store: {} as Store & { readonly sync: false } });
    expectTypeOf(remote.get<number>('k')).toEqualTypeOf<Promise<number | undefined>>();
    const bare: Cache = remote;
    expectTypeOf(bare.get<number>('k')).toEqualTypeOf<
      number | undefined | Promise<number | undefined>
    >();
  });

  it('type durations with their unit', () => {
    createCache({ ttl: '10m', timeout: '150ms', lease: { ttl: '2s' } });
    // @ts-expect-error not a unit
    createCache({ ttl: '10 minutes' });
    expectTypeOf<'1h'>().toExtend<Duration>();
  });

  it('keep RedisStore out of the root entry', () => {
    expectTypeOf<Extract<keyof typeof import('quickpost-cache'), `Redis${string}`>>().toBeNever();
  });

  it('type quickpost-cache/redis by the client it is given, from any copy of ioredis', () => {
    expectTypeOf(new RedisStore({ client: new Redis() }).client).toEqualTypeOf<Redis>();
    expectTypeOf(new RedisStore({ client: new Cluster([]) }).client).toEqualTypeOf<Cluster>();
    expectTypeOf(new RedisStore({ client: new Redis5() }).client).toEqualTypeOf<Redis5>();
    expectTypeOf(new RedisStore({ url: 'redis://127.0.0.1' }).client).toEqualTypeOf<
      Redis | Cluster
    >();
    expectTypeOf(new RedisStore({ client: new Redis5() })).toExtend<RedisStore<RedisClient>>();
    // @ts-expect-error a connection the store opens is a Redis, never a Cluster
    new RedisStore<Cluster>({ url: 'redis://127.0.0.1' });
    // @ts-expect-error not a Redis client
    new RedisStore({ client: { get: async () => null } });
    const cache = createCache({ store: new RedisStore({ client: new Redis5() }) });
    const square = cache.cacheable((n: number) => n * n, {
      key: 'sq:{{n}}',
      context: (n) => ({ n }),
    });
    expectTypeOf(square).toEqualTypeOf<(n: number) => Promise<number>>();
  });

  it('type quickpost-cache/node-redis by the client it is given, node-redis 5 or 6', () => {
    const client = createClient();
    expectTypeOf(new NodeRedisStore({ client }).client).toEqualTypeOf(client);
    const cluster = createCluster({ rootNodes: [] });
    expectTypeOf(new NodeRedisStore({ client: cluster }).client).toEqualTypeOf(cluster);
    const client5 = createClient5();
    expectTypeOf(new NodeRedisStore({ client: client5 }).client).toEqualTypeOf(client5);
    new NodeRedisStore({ client: createCluster5({ rootNodes: [] }) });
    new NodeRedisStore({ client: createClient({ RESP: 2 }) });
    new NodeRedisStore({ client: client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }) });
    expectTypeOf(
      new NodeRedisStore({ url: 'redis://127.0.0.1' }).client,
    ).toEqualTypeOf<NodeRedisClient>();
    // A store opening its own connection can be typed with that connection's client.
    const owned = new NodeRedisStore<ReturnType<typeof createClient>>({ url: 'redis://127.0.0.1' });
    expectTypeOf(owned.client.ping).toBeFunction();
    expectTypeOf(new NodeRedisStore({ client })).toExtend<NodeRedisStore>();
    // @ts-expect-error a connection the store opens is a client, never a Cluster
    new NodeRedisStore<ReturnType<typeof createCluster>>({ url: 'redis://127.0.0.1' });
    // @ts-expect-error an ioredis client belongs to RedisStore
    new NodeRedisStore({ client: new Redis() });
    const cache = createCache({ store: new NodeRedisStore({ client }) });
    expectTypeOf(cache.get<number>('k')).toEqualTypeOf<Promise<number | undefined>>();
    // A cache on it is a bare `Cache`, as on RedisStore.
    const takesAnyCache = (any: Cache) => any.prefix;
    takesAnyCache(cache);
    takesAnyCache(createCache({ store: new NodeRedisStore({ client: cluster }) }));
  });

  it('type stats, health and quickpost-cache/otel', () => {
    const cache = createCache({ store: {} as Store & { readonly sync: false } });
    expectTypeOf(cache.stats()).toEqualTypeOf<CacheStats>();
    expectTypeOf(cache.stats().templates['posts:{{slug}}']?.loadMs?.p99).toEqualTypeOf<
      number | undefined
    >();
    expectTypeOf(cache.health()).toEqualTypeOf<Promise<CacheHealth>>();
    expectTypeOf(instrumentCache(cache)).toEqualTypeOf<() => void>();
    expectTypeOf<InstrumentOptions['meterProvider']>().toEqualTypeOf<MeterProvider | undefined>();
    // @ts-expect-error not a cache
    instrumentCache({});
  });

  it('let a Redis-backed cache be a bare `Cache` (issue 10: it was taken for `Cache<MemoryStore>`)', () => {
    const onRedis = createCache({ store: new RedisStore({ client: new Redis() }) });
    const onCluster = createCache({ store: new RedisStore({ client: new Cluster([]) }) });
    const onOwned = createCache({ store: new RedisStore({ url: 'redis://127.0.0.1' }) });
    const onRedis5 = createCache({ store: new RedisStore({ client: new Redis5() }) });
    const takesAnyCache = (cache: Cache) => cache.prefix;
    takesAnyCache(onRedis);
    takesAnyCache(onCluster);
    takesAnyCache(onOwned);
    takesAnyCache(onRedis5);
    const caches: Cache[] = [onRedis, onOwned, createCache()];
    expectTypeOf(caches).toEqualTypeOf<Cache<Store>[]>();
    // A bare `Cache` is any cache: what its methods answer is a value or a promise, to await.
    const bare: Cache = onRedis;
    expectTypeOf(bare.get<number>('k')).toEqualTypeOf<
      number | undefined | Promise<number | undefined>
    >();
    // A cache of a named store type keeps its store's typing.
    expectTypeOf(onRedis).toEqualTypeOf<Cache<RedisStore<Redis>>>();
    expectTypeOf(onRedis.get<number>('k')).toEqualTypeOf<Promise<number | undefined>>();
    // …and is not a cache on a synchronous store.
    expectTypeOf(onRedis).not.toExtend<Cache<MemoryStore>>();
  });

  it('type batches: operations told apart by `op`, and the Redis stores batching', () => {
    const keyOf = (operation: BatchOperation) =>
      operation.op === 'getOrLease' ? operation.lease : operation.key;
    expectTypeOf(keyOf).returns.toEqualTypeOf<string>();
    expectTypeOf<Extract<BatchOperation, { op: 'compareAndSet' }>['ttlMs']>().toEqualTypeOf<
      number | undefined
    >();
    // @ts-expect-error a `getOrLease` names its lease
    const noLease: BatchOperation = { op: 'getOrLease', key: 'k', ttlMs: 1 };
    expectTypeOf(new RedisStore({ client: new Redis5() })).toExtend<BatchingStore>();
    expectTypeOf(new NodeRedisStore({ client: {} as NodeRedisClient })).toExtend<BatchingStore>();
    // A store of your own with batches is a store like any other.
    class Batching extends MemoryStore implements BatchingStore {
      batch(operations: readonly BatchOperation[]): Promise<unknown>[] {
        return operations.map(async (operation) => this.get(operation.key));
      }
    }
    createCache({ store: new Batching() });
    void noLease;
  });

  it('type quickpost-cache/testing', () => {
    expectTypeOf(describeStoreConformance<RedisStore>)
      .parameter(0)
      .toEqualTypeOf<StoreConformanceOptions<RedisStore>>();
    describeStoreConformance({ name: 'x', create: () => new RedisStore({ client: new Redis5() }) });
    expectTypeOf(describeCacheBehaviour<RedisStore>)
      .parameter(0)
      .toEqualTypeOf<CacheBehaviourOptions<RedisStore>>();
    describeCacheBehaviour({
      name: 'x',
      create: () => new RedisStore({ client: new Redis5() }),
      shared: () => [
        new RedisStore({ client: new Redis5() }),
        new RedisStore({ client: new Redis5() }),
      ],
      dispose: (store) => store.close(),
    });
    // @ts-expect-error `shared` gives two stores
    describeCacheBehaviour({ name: 'x', create: () => createCache().store, shared: () => [] });
    expectTypeOf(new ChaosStore(createCache().store).inner).toEqualTypeOf<MemoryStore>();
    // The recorder takes a cache on any store.
    recordCache(createCache({ store: new RedisStore({ client: new Redis() }) }));
    expectTypeOf(recordCache(createCache()).misses('posts:{{slug}}')).toEqualTypeOf<number>();
    // A cache without caching keeps synchronous wrappers synchronous, as on MemoryStore.
    const off = createCache({ store: new PassThroughStore() });
    expectTypeOf(
      off.cacheable((n: number) => n * n, { key: 'sq:{{n}}', context: (n) => ({ n }) }),
    ).toEqualTypeOf<(n: number) => number>();
  });
});
