// The published declarations (dist/*.d.ts), resolved through package.json `exports`.
// Type tests are only type-checked, never run: that the root entry's files never mention ioredis
// is checked on the files themselves, in test/smoke/dist.test.ts.

import type { MeterProvider } from '@opentelemetry/api';
import { Cluster, Redis } from 'ioredis';
import { Redis as Redis5 } from 'ioredis5';
import {
  type Cache,
  type CacheHealth,
  type CacheStats,
  createCache,
  type MemoryStore,
  type Store,
} from 'quickpost-cache';
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
