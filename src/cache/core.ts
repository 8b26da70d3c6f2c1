import { decodeEntry, encodeEntry, type Serializer, UNREADABLE } from '../codec/index.js';
import { InvalidOptionError, SerializationError } from '../errors.js';
import { createGlobMatcher } from '../glob.js';
import { MemoryStore } from '../stores/memory.js';
import type { Store, SyncStore } from '../stores/store.js';
import {
  compilePattern,
  compileTemplate,
  type IsStaticTemplate,
  type TemplateContext,
} from '../template/index.js';
import { attempt, chain, isAsyncFunction, isThenable } from '../util/maybe-promise.js';
import { describe } from '../util/options.js';
import { type CacheLogger, type CacheOptions, checkCacheOptions } from './options.js';
import type { ValueSchema } from './schema.js';

/** What a cache operation returns: the value itself on a synchronous store, else a promise of it. */
export type StoreResult<S extends Store, T> = S extends SyncStore ? T : Promise<T>;

/**
 * The context argument of a manual operation on key `K`: required when `K` is a template with
 * placeholders, absent when it has none, optional when the key is only known at run time.
 */
export type ContextArgs<K extends string> = string extends K
  ? [context?: TemplateContext<K>]
  : IsStaticTemplate<K> extends true
    ? []
    : [context: TemplateContext<K>];

/** Options of `set` and `getOrSet`, with the key template's context when it has placeholders. */
export type WriteOptionsArgs<K extends string> = string extends K
  ? [options?: WriteOptions & { context?: TemplateContext<K> }]
  : IsStaticTemplate<K> extends true
    ? [options?: WriteOptions]
    : [options: WriteOptions & { context: TemplateContext<K> }];

/** Options of a manual write. */
export interface WriteOptions {
  /**
   * Time to live in seconds.
   * @default the cache's `ttl`
   */
  ttl?: number | undefined;
}

/** How one read-through behaves; built once per wrapper, never per call. */
export interface ReadPlan {
  /** Name shown in debug lines (the function's name). */
  readonly name: string;
  readonly ttlMs: number;
  readonly debug: boolean;
  readonly schema: ValueSchema | undefined;
  readonly shouldCache: ((value: never) => boolean) | undefined;
}

/** A computation in progress for one key, shared by the callers that missed meanwhile. */
interface Flight {
  readonly promise: Promise<unknown>;
  /** Set by an invalidation: the result must not be stored, and no new caller may join. */
  stale: boolean;
}

const MISS: unique symbol = Symbol('miss');
type Maybe<T> = T | PromiseLike<T>;

/** A trailing `:*` whose `:` and `*` are not escaped. */
const TRAILING_COLON_STAR = /(?<!\\)(?:\\\\)*:\*$/;
const GLOB_SPECIAL = /[*?[\\]/;

/**
 * The cache itself: configuration, the manual API, read-through with single-flight, and
 * invalidation. The wrappers (`cacheable`, `invalidating`) are built on it.
 */
export class CacheCore<S extends Store = MemoryStore> {
  /** The store entries live in. */
  readonly store: S;
  /** Key prefix (without the `:` separator). */
  readonly prefix: string;
  /** Default TTL in seconds. */
  readonly ttl: number;
  /** Whether debug lines are logged by default. */
  readonly debug: boolean;
  /** Where debug lines and failure reports go. */
  readonly logger: CacheLogger;
  /** Whether the store answers synchronously, so sync wrappers can stay sync. */
  readonly isSync: boolean;
  readonly #serializer: Serializer | undefined;
  readonly #keyStart: string;
  readonly #flights = new Map<string, Flight>();

  constructor(options: CacheOptions<S> = {}) {
    checkCacheOptions(options);
    this.store = options.store ?? (new MemoryStore() as Store as S);
    this.prefix = options.prefix ?? 'quickpost';
    this.ttl = options.ttl ?? 300;
    this.debug = options.debug ?? false;
    this.logger = options.logger ?? console;
    this.#serializer = options.serializer;
    this.#keyStart = this.prefix === '' ? '' : `${this.prefix}:`;
    this.isSync = this.store.sync === true;
  }

  /** The full store key for a key given without prefix: `${prefix}:${key}`. */
  fullKey(key: string): string {
    return this.#keyStart + key;
  }

  /**
   * Reads a value; `undefined` when absent, expired or unreadable. A store failure is a miss.
   * `key` is a key template like those of `cacheable` (given without prefix); its placeholders are
   * filled from `context`, with the same encoding, so `get('posts:{{slug}}', { slug })` reads
   * what a `cacheable` with that template stored.
   */
  get<T = unknown, const K extends string = string>(
    key: K,
    ...context: ContextArgs<K>
  ): StoreResult<S, T | undefined> {
    if (!this.isSync) return this.#getAsync<T>(key, context[0]) as StoreResult<S, T | undefined>;
    const full = this.#keyOf(key, context[0]);
    return this.#accepted<T>(full, this.#read(full) as string | undefined) as StoreResult<
      S,
      T | undefined
    >;
  }

  async #getAsync<T>(key: string, context: object | undefined): Promise<T | undefined> {
    const full = this.#keyOf(key, context);
    const value = this.#accepted<T>(full, await this.#read(full));
    return isThenable(value) ? await value : value;
  }

  /** The value of a manual read: decoded, or `undefined` for a miss; logged in debug mode. */
  #accepted<T>(full: string, raw: string | undefined): T | undefined {
    const value = raw === undefined ? MISS : this.#decode(full, raw, undefined, this.debug);
    this.#log(this.debug, value === MISS ? 'MISS' : 'HIT', full);
    return value === MISS ? undefined : (value as T);
  }

  /** Stores a value for `ttl` seconds (default: the cache's). A store failure rejects/throws. */
  set<const K extends string>(
    key: K,
    value: unknown,
    ...options: WriteOptionsArgs<K>
  ): StoreResult<S, void> {
    return this.#settle(() => {
      const { ttl, context } = (options[0] ?? {}) as WriteOptions & { context?: object };
      const full = this.#keyOf(key, context);
      const ttlMs = this.ttlMs(ttl);
      this.#abandonFlights(full);
      const text = this.#encode(full, value, ttlMs, 0);
      this.#log(this.debug, 'SET', full, ` (TTL: ${ttlMs / 1000}s)`);
      return chain(this.store.set(full, text, ttlMs), () => undefined);
    });
  }

  /** Removes one key; resolves to whether it existed. A store failure rejects/throws. */
  delete<const K extends string>(key: K, ...context: ContextArgs<K>): StoreResult<S, boolean> {
    return this.#settle(() => {
      const full = this.#keyOf(key, context[0]);
      this.#abandonFlights(full);
      return chain(this.store.delete(full), (removed) => {
        this.#log(this.debug, 'DELETE', full, removed ? '' : ' (absent)');
        return removed;
      });
    });
  }

  /**
   * Removes every key matching a pattern template (given without prefix) and resolves to how
   * many were removed. The pattern's own `*`, `?`, `[...]` are wildcards; values from `context`
   * are literal. A pattern ending in `:*` also removes the key without that suffix.
   */
  deletePattern<const K extends string>(
    pattern: K,
    ...context: ContextArgs<K>
  ): StoreResult<S, number> {
    return this.#settle(() => {
      const full = this.fullKey(compilePattern<string>(pattern)(context[0] ?? EMPTY_CONTEXT));
      return this.invalidate([full], this.debug);
    });
  }

  /**
   * Returns the cached value, or computes, stores and returns it. Concurrent misses of one key
   * share one computation. A store failure is a miss (the computed value is still returned).
   */
  getOrSet<T, const K extends string>(
    key: K,
    compute: () => T,
    ...options: WriteOptionsArgs<K>
  ): T extends PromiseLike<infer V> ? Promise<V> : StoreResult<S, T> {
    type Result = T extends PromiseLike<infer V> ? Promise<V> : StoreResult<S, T>;
    const sync = this.isSync && !isAsyncFunction(compute);
    let full: string;
    let plan: ReadPlan;
    try {
      const { ttl, context } = (options[0] ?? {}) as WriteOptions & { context?: object };
      plan = {
        name: 'getOrSet',
        ttlMs: this.ttlMs(ttl),
        debug: this.debug,
        schema: undefined,
        shouldCache: undefined,
      };
      full = this.#keyOf(key, context);
    } catch (error) {
      if (sync) throw error;
      return Promise.reject(error) as Result;
    }
    return (
      sync
        ? this.readThroughSync(full, plan, compute, undefined, [], undefined)
        : this.readThroughAsync(full, plan, compute, undefined, [], undefined)
    ) as Result;
  }

  /** Converts a TTL in seconds (default: the cache's) to milliseconds, checking it. */
  ttlMs(ttl: number | undefined): number {
    if (ttl === undefined) return this.ttl * 1000;
    if (typeof ttl !== 'number' || !(ttl > 0) || ttl === Number.POSITIVE_INFINITY) {
      throw new InvalidOptionError(
        'ttl',
        `\`ttl\` must be a positive number of seconds, got ${describe(ttl)}`,
      );
    }
    return ttl * 1000;
  }

  /** Read-through on a synchronous store: synchronous unless `fn` returns a promise. */
  readThroughSync(
    key: string,
    plan: ReadPlan,
    fn: (...args: never[]) => unknown,
    thisArg: unknown,
    args: readonly unknown[],
    context: unknown,
  ): unknown {
    if (plan.debug && context !== undefined) this.#logContext(plan.name, context, key);
    const raw = this.#read(key) as string | undefined;
    if (raw !== undefined) {
      const value = this.#decode(key, raw, plan.schema, plan.debug);
      if (isThenable(value)) {
        throw new InvalidOptionError(
          'schema',
          '`schema` must validate synchronously when a synchronous function is cached on a synchronous store',
        );
      }
      if (value !== MISS) {
        this.#log(plan.debug, 'HIT', key);
        return value;
      }
    }
    this.#log(plan.debug, 'MISS', key);
    const started = performance.now();
    const value = Reflect.apply(fn, thisArg, args);
    if (isThenable(value)) return this.#startFlight(key, plan, value, started);
    this.#fill(key, value, plan, started);
    return value;
  }

  /** Read-through on any store, always async, with in-process single-flight per key. */
  async readThroughAsync(
    key: string,
    plan: ReadPlan,
    fn: (...args: never[]) => unknown,
    thisArg: unknown,
    args: readonly unknown[],
    context: unknown,
  ): Promise<unknown> {
    if (plan.debug && context !== undefined) this.#logContext(plan.name, context, key);
    const joined = this.#flights.get(key);
    if (joined !== undefined) return joined.promise;
    let raw: string | null | undefined;
    try {
      raw = await this.store.get(key);
    } catch (error) {
      this.report('get', key, error);
    }
    if (typeof raw === 'string') {
      let value = this.#decode(key, raw, plan.schema, plan.debug);
      if (isThenable(value)) value = await value;
      if (value !== MISS) {
        this.#log(plan.debug, 'HIT', key);
        return value;
      }
    }
    const started = this.#flights.get(key);
    if (started !== undefined) return started.promise;
    this.#log(plan.debug, 'MISS', key);
    const startedAt = performance.now();
    return this.#startFlight(key, plan, Reflect.apply(fn, thisArg, args), startedAt);
  }

  /**
   * Deletes full-key patterns. In-process computations of matching keys are abandoned first, so
   * a computation that began before the invalidation never stores its (old) result, and no caller
   * arriving afterwards joins it. Resolves to the number of keys removed.
   */
  invalidate(patterns: readonly string[], debug: boolean): Maybe<number> {
    const failures: unknown[] = [];
    const counts = patterns.map((pattern) =>
      attempt(
        () => this.#invalidateOne(pattern, debug),
        (error) => {
          failures.push(error);
          return 0;
        },
      ),
    );
    // Every pattern is attempted before a failure is raised: one unreachable shard or bad
    // pattern must not leave the others stale.
    const total = (all: number[]) => {
      if (failures.length === 1) throw failures[0];
      if (failures.length > 1)
        throw new AggregateError(failures, `${failures.length} pattern deletes failed`);
      return all.reduce((sum, n) => sum + n, 0);
    };
    if (this.isSync) return total(counts as number[]);
    return Promise.all(counts).then(total);
  }

  #invalidateOne(pattern: string, debug: boolean): Maybe<number> {
    const base = TRAILING_COLON_STAR.test(pattern) ? pattern.slice(0, -2) : undefined;
    this.#abandonFlights(pattern);
    if (base !== undefined) this.#abandonFlights(base);
    return chain(this.store.deletePattern(pattern), (removed) =>
      chain(base === undefined ? 0 : this.#deleteBase(base), (baseRemoved) => {
        const total = removed + baseRemoved;
        this.#log(debug, 'INVALIDATE', pattern, ` (${total} ${total === 1 ? 'key' : 'keys'})`);
        return total;
      }),
    );
  }

  /** Writes a failure report; failures that the cache absorbs are never silent. */
  report(operation: string, key: string, error: unknown): void {
    this.logger.warn(
      `[Cache] ERROR: ${operation} ${key} failed; continuing without the cache`,
      error,
    );
  }

  /** The full key for a manual key template and its context. */
  #keyOf(key: string, context: object | undefined): string {
    return this.fullKey(
      compileTemplate<string>(key)((context ?? EMPTY_CONTEXT) as TemplateContext<string>),
    );
  }

  #deleteBase(base: string): Maybe<number> {
    if (GLOB_SPECIAL.test(base)) return this.store.deletePattern(base);
    return chain(this.store.delete(base), (removed) => (removed ? 1 : 0));
  }

  #startFlight(key: string, plan: ReadPlan, pending: unknown, started: number): Promise<unknown> {
    const flight: { promise?: Promise<unknown>; stale: boolean } = { stale: false };
    flight.promise = (async () => {
      try {
        const value = await pending;
        if (!flight.stale) await this.#fill(key, value, plan, started);
        return value;
      } finally {
        if (this.#flights.get(key) === flight) this.#flights.delete(key);
      }
    })();
    this.#flights.set(key, flight as Flight);
    return flight.promise;
  }

  #abandonFlights(pattern: string): void {
    if (this.#flights.size === 0) return;
    const matches = createGlobMatcher(pattern);
    for (const [key, flight] of this.#flights) {
      if (matches(key)) {
        flight.stale = true;
        this.#flights.delete(key);
      }
    }
  }

  /** Stores a computed value unless `shouldCache` declines; failures are reported, not thrown. */
  #fill(key: string, value: unknown, plan: ReadPlan, started: number): Maybe<void> {
    if (plan.shouldCache !== undefined && !(plan.shouldCache as (v: unknown) => boolean)(value)) {
      this.#log(plan.debug, 'SKIP', key, ' (shouldCache returned false)');
      return;
    }
    let text: string;
    try {
      text = this.#encode(key, value, plan.ttlMs, performance.now() - started);
    } catch (error) {
      this.logger.error(`[Cache] ERROR: ${(error as Error).message}`, error);
      return;
    }
    this.#log(plan.debug, 'SET', key, ` (TTL: ${plan.ttlMs / 1000}s)`);
    return attempt(
      () => chain(this.store.set(key, text, plan.ttlMs), () => undefined),
      (error) => this.report('set', key, error),
    );
  }

  #encode(key: string, value: unknown, ttlMs: number, computeMs: number): string {
    try {
      return encodeEntry(value, { expiresAt: Date.now() + ttlMs, computeMs }, this.#serializer);
    } catch (error) {
      throw new SerializationError(key, error);
    }
  }

  /** Reads raw text; `undefined` for a miss, and for a store failure (reported). */
  #read(key: string): Maybe<string | undefined> {
    let raw: Maybe<string | null | undefined>;
    try {
      raw = this.store.get(key);
    } catch (error) {
      this.report('get', key, error);
      return undefined;
    }
    if (!isThenable(raw)) return typeof raw === 'string' ? raw : undefined;
    return raw.then(
      (text) => (typeof text === 'string' ? text : undefined),
      (error: unknown) => {
        this.report('get', key, error);
        return undefined;
      },
    );
  }

  /** Decodes and checks an entry; an unreadable or invalid one is deleted and becomes a miss. */
  #decode(
    key: string,
    raw: string,
    schema: ValueSchema | undefined,
    debug: boolean,
  ): unknown | typeof MISS | PromiseLike<unknown> {
    const value = decodeEntry(raw, this.#serializer);
    if (value === UNREADABLE) return this.#discard(key, 'unreadable entry', debug);
    if (schema === undefined) return value;
    return chain(schema['~standard'].validate(value), (result) =>
      result.issues === undefined
        ? result.value
        : this.#discard(key, `schema: ${result.issues[0]?.message ?? 'invalid'}`, debug),
    );
  }

  #discard(key: string, reason: string, debug: boolean): typeof MISS {
    this.#log(debug, 'INVALID', key, ` (${reason}; deleted)`);
    const removal = attempt(
      () => this.store.delete(key),
      (error) => {
        this.report('delete', key, error);
        return false;
      },
    );
    if (isThenable(removal)) removal.then(undefined, () => undefined);
    return MISS;
  }

  #settle<T>(operation: () => Maybe<T>): StoreResult<S, T> {
    if (this.isSync) return operation() as StoreResult<S, T>;
    try {
      return Promise.resolve(operation()) as StoreResult<S, T>;
    } catch (error) {
      return Promise.reject(error) as StoreResult<S, T>;
    }
  }

  #log(enabled: boolean, event: string, key: string, detail = ''): void {
    if (enabled) this.logger.debug(`[Cache] ${event}: ${key}${detail}`);
  }

  #logContext(name: string, context: unknown, key: string): void {
    this.logger.debug(`[Cache] ${name} | Context: ${contextJson(context)} | Key: ${key}`);
  }
}

/** The context used for templates without placeholders. */
export const EMPTY_CONTEXT: Readonly<Record<string, never>> = Object.freeze({});

/** JSON for debug lines that survives bigints and cycles. */
export function contextJson(context: unknown): string {
  try {
    return JSON.stringify(context, (_key, value) =>
      typeof value === 'bigint' ? `${value}n` : value,
    );
  } catch {
    return describe(context);
  }
}
