/**
 * The options of `createCache`: each one's type and documentation on {@link CacheOptions}, its
 * check, error sentence and default in {@link cacheOptionSpecs}, tied together by `OptionSpecs`.
 */
import { z } from 'zod';
import type { Serializer } from '../codec/index.js';
import { isRequestContext, type RequestContext } from '../request-context.js';
import type { Store } from '../stores/store.js';
import type { NoAmbient } from '../template/index.js';
import type { Duration } from '../util/duration.js';
import type { CacheLogger } from '../util/logger.js';
import { durationSchema, durationSpec, hasMethods, type OptionSpecs } from '../util/options.js';
import type { BreakerOptions } from './guard.js';
import type { TierValues } from './tier.js';

export type { CacheLogger } from '../util/logger.js';

/** Lease settings: how long a lease lives, and how long others wait for its holder. */
export interface LeaseOptions {
  /**
   * How long a lease lives unless its holder extends it: a number of milliseconds, or a duration
   * such as `'2s'`. The holder extends it every third of this while its function runs, so a
   * holder that dies stalls other callers for about this.
   * @default 2000
   */
  ttl?: Duration | undefined;
  /**
   * How long a caller waits, in all, for another caller's computation before computing itself
   * (storing nothing): a number of milliseconds, or a duration such as `'5s'`.
   * @default 5000
   */
  wait?: Duration | undefined;
}

/** Settings of the in-process tier (`l1`). */
export interface L1Options {
  /**
   * Most values kept in process; the least recently used goes beyond it.
   * @default 10000
   */
  maxEntries?: number | undefined;
  /**
   * Most bytes kept (each value counted by its stored text, as UTF-16).
   * @default 33554432
   */
  maxBytes?: number | undefined;
  /**
   * Longest a value is kept in process (a number of milliseconds, or a duration such as `'1s'`),
   * and never past its entry's own TTL. On a store without change notifications this is how stale
   * a value may get when another process changes it, so keep it short there.
   * @default the entry's TTL on a store with change notifications (RedisStore, MemoryStore); 1000 otherwise
   */
  ttl?: Duration | undefined;
  /**
   * How values are handed out. `'frozen'`: one deep-frozen copy for every caller (a caller that
   * tries to mutate it gets a TypeError instead of corrupting another's); `'decoded'`: a fresh
   * copy per hit, decoded from the stored text (slower, fully isolated); `'shared'`: one mutable
   * copy for every caller (fastest: only if no caller ever mutates a cached value).
   * @default 'frozen'
   */
  values?: TierValues | undefined;
}

/** What happens when a mutation's invalidation is not confirmed in time. */
export type InvalidationErrors = 'report' | 'throw';

/** Options of {@link createCache}; `A` is the type of the request context's values. */
export interface CacheOptions<S extends Store = Store, A extends object = NoAmbient> {
  /**
   * Where entries live.
   * @default new MemoryStore()
   */
  store?: S | undefined;
  /**
   * Put in front of every key as `${prefix}:`; use one per application sharing a Redis. Letters,
   * digits and `_ . - /` only (no `:`), so that no prefix's keys or patterns can reach another's.
   * @default 'quickpost'
   */
  prefix?: string | undefined;
  /**
   * Default time to live of an entry: a number of seconds (fractions allowed), or a duration such
   * as `'10m'`.
   * @default 300
   */
  ttl?: Duration | undefined;
  /**
   * Log every HIT / MISS / SET / INVALIDATE through `logger.debug`.
   * @default false
   */
  debug?: boolean | undefined;
  /**
   * Receives debug lines (`debug`) and failure reports (`warn`, `error`): `console`, a pino or
   * winston logger, or any object with those methods. An error goes after the message
   * (`logger.warn(message, error)`), or first for pino (`logger.warn(error, message)`).
   * @default console
   */
  logger?: CacheLogger | undefined;
  /**
   * Turns values into stored text and back, replacing the built-in lossless JSON.
   * @default built-in JSON that also keeps Date, BigInt, Map, Set and undefined
   */
  serializer?: Serializer | undefined;
  /**
   * Longest wait for any one store call: a number of milliseconds, or a duration such as
   * `'150ms'`. A call that takes longer is abandoned: a read becomes a miss (the function runs), a
   * manual write throws `StoreUnavailableError`.
   * @default 150
   */
  timeout?: Duration | undefined;
  /**
   * Longest wait for one attempt at deleting a pattern: a number of milliseconds, or a duration
   * such as `'5s'`. Without an index a pattern delete walks the whole keyspace (SCAN, about 0.1 s
   * per 100,000 keys in Redis).
   * @default 5000
   */
  invalidationTimeout?: Duration | undefined;
  /**
   * How long an `invalidating` wrapper waits for the store to confirm its invalidation before it
   * returns the mutation's result anyway (with `invalidationErrors: 'report'`): a number of
   * milliseconds, or a duration such as `'150ms'`. An invalidation not confirmed by then stays
   * pending: it is retried in the background until the store confirms it, and this instance
   * serves no matching key from the store meanwhile.
   * @default the `timeout`
   */
  invalidationWait?: Duration | undefined;
  /**
   * Circuit breaker: after `failures` consecutive failed store calls, the store is skipped for
   * `cooldown` (reads are misses at once), then probed by one call. `false` turns it off.
   * Invalidations are never skipped: they are retried until the store confirms them.
   * @default { failures: 5, cooldown: 2000 }
   */
  breaker?: BreakerOptions | false | undefined;
  /**
   * Leases on stores with atomic writes (MemoryStore, RedisStore): one computation per key
   * across processes, and no value computed before an invalidation written after it. `false`
   * turns them off (in-process protection only).
   * @default { ttl: 2000, wait: 5000 }
   */
  lease?: LeaseOptions | false | undefined;
  /**
   * What `invalidating` does after its mutation succeeded. `'report'`: returns the mutation's
   * result once the store confirmed the invalidation, or after `invalidationWait` (a failing store
   * is logged, and the invalidation goes on in the background). `'throw'`: waits for the first
   * delete attempt (at most `invalidationTimeout`) and, if it failed, rejects with
   * `InvalidationError` carrying the result (the invalidation still goes on in the background).
   * @default 'report'
   */
  invalidationErrors?: InvalidationErrors | undefined;
  /**
   * Most invalidations kept pending while the store does not confirm them; beyond it, they are
   * merged into one invalidation of every key of this prefix.
   * @default 1000
   */
  maxPendingInvalidations?: number | undefined;
  /**
   * When an `invalidating` wrapper is first called, each of its patterns is checked against the
   * key templates of this cache's `cacheable` wrappers: a pattern that can match none of them, or
   * that puts a placeholder where a template has a differently named one, is logged once
   * (`logger.warn`). `true` makes that an `InvalidOptionError` instead, before the mutation runs.
   * @default false
   */
  strict?: boolean | undefined;
  /**
   * An in-process tier in front of the store: hits from it cost no round trip. On a store with
   * change notifications (`RedisStore`: Redis's client-side caching; `MemoryStore`) it stays
   * coherent: this instance's writes and invalidations apply at once, other processes' after one
   * notification; while notifications may be missing it is dropped and not used. On other stores
   * values live there `l1.ttl` at most. `cacheable`'s `l1: false` keeps a wrapper out of it.
   * @default false
   */
  l1?: boolean | L1Options | undefined;
  /**
   * Counters per key template for `cache.stats()` (hits, misses, loads and their times,
   * invalidations, …), kept from the cache's events. `false` turns them off (`cache.stats()` then
   * throws).
   * @default true
   */
  stats?: boolean | undefined;
  /**
   * A request context (from `requestContext<T>()`) whose values fill placeholders of every
   * wrapper and manual call of this cache, under their own `context` (a value the `context`
   * function returns wins). Types follow: a placeholder the request context always provides needs
   * no `context`. Outside a request, or without the value, a call throws
   * `MissingContextValueError`. Anything a cached result depends on (user, locale, permissions)
   * must be in its key, from here or from `context`.
   */
  requestContext?: RequestContext<A> | undefined;
}

/** Each option of {@link CacheOptions}: its check, what it must be, its default. */
export const cacheOptionSpecs = {
  store: {
    schema: hasMethods<Store>(
      ['get', 'set', 'delete', 'deletePattern'],
      'a Store with get, set, delete and deletePattern methods',
    ),
    expect: 'must be a Store',
  },
  prefix: {
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_./-]+$/)
      .optional(),
    expect: 'must be a non-empty string of letters, digits, `_`, `.`, `-` and `/` (no `:`)',
    default: 'quickpost',
  },
  ttl: { ...durationSpec('seconds', 'positive', '10m'), default: 300 },
  debug: { schema: z.boolean().optional(), expect: 'must be true or false', default: false },
  logger: {
    schema: hasMethods<CacheLogger>(
      ['debug', 'warn', 'error'],
      'a logger with debug, warn and error',
    ),
    expect: 'must be a logger',
    default: console,
  },
  serializer: {
    schema: hasMethods<Serializer>(
      ['serialize', 'deserialize'],
      'a Serializer with serialize and deserialize',
    ),
    expect: 'must be a Serializer',
  },
  timeout: { ...durationSpec('milliseconds', 'positive', '150ms'), default: 150 },
  invalidationTimeout: { ...durationSpec('milliseconds', 'positive', '5s'), default: 5000 },
  invalidationWait: durationSpec('milliseconds', 'zero or more', '150ms'),
  breaker: {
    schema: z
      .union([
        z.literal(false),
        z.strictObject({
          failures: z.int().positive().optional(),
          cooldown: durationSchema('milliseconds', 'positive'),
        }),
      ])
      .optional(),
    expect:
      "must be false or { failures?: positive integer, cooldown?: positive ms or a duration such as '2s' }",
    default: { failures: 5, cooldown: 2000 },
  },
  lease: {
    schema: z
      .union([
        z.literal(false),
        z.strictObject({
          ttl: durationSchema('milliseconds', 'positive'),
          wait: durationSchema('milliseconds', 'zero or more'),
        }),
      ])
      .optional(),
    expect:
      "must be false or { ttl?: positive ms, wait?: ms } (numbers of milliseconds, or durations such as '2s')",
    default: { ttl: 2000, wait: 5000 },
  },
  invalidationErrors: {
    schema: z.enum(['report', 'throw']).optional(),
    expect: "must be 'report' or 'throw'",
    default: 'report',
  },
  maxPendingInvalidations: {
    schema: z.int().positive().optional(),
    expect: 'must be a positive integer',
    default: 1000,
  },
  strict: { schema: z.boolean().optional(), expect: 'must be true or false', default: false },
  l1: {
    schema: z
      .union([
        z.boolean(),
        z.strictObject({
          maxEntries: z.int().positive().optional(),
          maxBytes: z.int().positive().optional(),
          ttl: durationSchema('milliseconds', 'positive'),
          values: z.enum(['frozen', 'decoded', 'shared']).optional(),
        }),
      ])
      .optional(),
    expect:
      "must be true, false or { maxEntries?, maxBytes?, ttl?: ms or a duration such as '1s', values?: 'frozen' | 'decoded' | 'shared' }",
    default: false,
  },
  stats: { schema: z.boolean().optional(), expect: 'must be true or false', default: true },
  requestContext: {
    schema: z.custom<RequestContext<object>>((value) => isRequestContext(value)).optional(),
    expect: 'must be a request context made by requestContext()',
  },
} as const satisfies OptionSpecs<CacheOptions>;
