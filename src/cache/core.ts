import { encodeEntry, type Serializer } from '../codec/index.js';
import { InvalidOptionError, SerializationError, StoreUnavailableError } from '../errors.js';
import { MemoryStore } from '../stores/memory.js';
import { type AtomicStore, atomicOf, type Store, type SyncStore } from '../stores/store.js';
import {
  type ContextFor,
  compilePattern,
  compileTemplate,
  type TemplateContext,
  type TemplateMode,
  type ValidPattern,
  type ValidTemplate,
} from '../template/index.js';
import { attempt, chain, isAsyncFunction, isThenable } from '../util/maybe-promise.js';
import { describe } from '../util/options.js';
import { debugLogger } from './debug.js';
import { type CacheEventName, type CacheListener, Emitter, type EventSource } from './events.js';
import { StoreGuard } from './guard.js';
import { type CacheLogger, type CacheOptions, checkCacheOptions } from './options.js';
import type { ReadPlan } from './read/call.js';
import { tick } from './read/flights.js';
import { ReadThrough } from './read/read-through.js';
import { MISS } from './read/verdict.js';

/** What a cache operation returns: the value itself on a synchronous store, else a promise of it. */
export type StoreResult<S extends Store, T> = S extends SyncStore ? T : Promise<T>;

/**
 * The context argument of a manual operation on key `K` (a pattern when `M` is `'pattern'`):
 * required when `K` has placeholders, absent when it has none, optional when it is only known at
 * run time.
 */
export type ContextArgs<K extends string, M extends TemplateMode = 'key'> = ContextFor<
  K,
  {
    required: [context: TemplateContext<K>];
    none: [];
    runtime: [context?: TemplateContext<K>];
  },
  M
>;

/** Options of `set` and `getOrSet`, with the key template's context when it has placeholders. */
export type WriteOptionsArgs<K extends string> = ContextFor<
  K,
  {
    required: [options: WriteOptions & { context: TemplateContext<K> }];
    none: [options?: WriteOptions];
    runtime: [options?: WriteOptions & { context?: TemplateContext<K> }];
  }
>;

/** Options of a manual write. */
export interface WriteOptions {
  /**
   * Time to live in seconds.
   * @default the cache's `ttl`
   */
  ttl?: number | undefined;
}

type Maybe<T> = T | PromiseLike<T>;

/** A trailing `:*` whose `:` and `*` are not escaped. */
const TRAILING_COLON_STAR = /(?<!\\)(?:\\\\)*:\*$/;
const GLOB_SPECIAL = /[*?[\\]/;

/**
 * The cache itself: configuration, events, the store guard (timeouts and circuit breaker), the
 * manual API and invalidation. Read-through lives in `Reader`; the wrappers are built on both.
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
  /** What an invalidation failure after a successful mutation does by default. */
  readonly invalidationErrors: 'report' | 'throw';
  /** @internal Read-through for the wrappers. */
  readonly reader: ReadThrough;
  readonly #serializer: Serializer | undefined;
  readonly #keyStart: string;
  readonly #events: Emitter;
  readonly #guard: StoreGuard;
  readonly #atomic: (Store & AtomicStore) | undefined;
  readonly #manual: EventSource;
  readonly #invalidationTimeoutMs: number;
  #debugListening = false;

  constructor(options: CacheOptions<S> = {}) {
    checkCacheOptions(options);
    this.store = options.store ?? (new MemoryStore() as Store as S);
    this.prefix = options.prefix ?? 'quickpost';
    this.ttl = options.ttl ?? 300;
    this.debug = options.debug ?? false;
    this.logger = options.logger ?? console;
    this.invalidationErrors = options.invalidationErrors ?? 'report';
    this.#serializer = options.serializer;
    this.#keyStart = this.prefix === '' ? '' : `${this.prefix}:`;
    this.isSync = this.store.sync === true;
    this.#events = new Emitter((error) =>
      this.logger.error('[Cache] ERROR: an event listener threw', error),
    );
    // A synchronous store cannot hang and fails at once: it gets no breaker (which would also
    // have to answer with promises).
    this.#guard = new StoreGuard(
      options.timeout ?? 150,
      this.isSync ? false : (options.breaker ?? {}),
      (state, failures, error) => {
        if (state === 'open') {
          this.logger.warn(
            `[Cache] BREAKER OPEN: ${failures} store calls failed in a row; skipping the store for ${options.breaker === false ? 0 : (options.breaker?.cooldown ?? 2000)} ms`,
            error,
          );
        } else {
          this.logger.warn('[Cache] BREAKER CLOSED: the store answers again');
        }
        this.#events.emit(
          'breaker',
          error === undefined ? { state, failures } : { state, failures, error },
        );
      },
    );
    this.#atomic = options.lease === false ? undefined : atomicOf(this.store);
    this.#invalidationTimeoutMs = options.invalidationTimeout ?? 5000;
    this.#manual = { name: 'manual', template: '', debug: this.debug };
    this.reader = new ReadThrough({
      store: this.store,
      atomic: this.#atomic,
      guard: this.#guard,
      events: this.#events,
      serializer: this.#serializer,
      leaseTtlMs: (options.lease === false ? undefined : options.lease?.ttl) ?? 2_000,
      leaseWaitMs: (options.lease === false ? undefined : options.lease?.wait) ?? 5_000,
      report: (operation, key, error, source) => this.report(operation, key, error, source),
      leasesRefused: (error) => {
        this.logger.error(
          '[Cache] ERROR: the store refused the atomic writes that leases need (for Redis: the ACL user needs EVALSHA and EVAL, e.g. +@scripting); continuing without leases, so concurrent misses in different processes each run the function',
          error,
        );
        if (this.#events.has('error')) {
          this.#events.emit('error', { source: this.#manual, operation: 'lease', key: '', error });
        }
      },
    });
    if (this.debug) this.listenForDebug();
  }

  /** The full store key for a key given without prefix: `${prefix}:${key}`. */
  fullKey(key: string): string {
    return this.#keyStart + key;
  }

  /**
   * Listens to an event: `hit`, `miss`, `stale`, `set`, `invalidate`, `error`, `breaker`, … (see
   * `CacheEventMap`). Each event names its `source` (wrapper name and key template), so hit rates
   * can be counted per template. Returns a function that removes the listener.
   *
   * @example
   * cache.on('hit', ({ source }) => hits.inc({ template: source.template }));
   */
  on<E extends CacheEventName>(event: E, listener: CacheListener<E>): () => void {
    return this.#events.on(event, listener);
  }

  /** Removes a listener added with `on`. */
  off<E extends CacheEventName>(event: E, listener: CacheListener<E>): void {
    this.#events.off(event, listener);
  }

  /** @internal Emits an event (used by the wrappers). */
  emit: Emitter['emit'] = (name, event) => this.#events.emit(name, event);

  /** @internal Whether anyone listens to an event. */
  hasListeners(name: CacheEventName): boolean {
    return this.#events.has(name);
  }

  /** @internal Turns on the debug listener (once), for the cache or for one wrapper. */
  listenForDebug(): void {
    if (this.#debugListening) return;
    this.#debugListening = true;
    debugLogger(this, this.logger);
  }

  /**
   * Reads a value; `undefined` when absent, expired or unreadable. A store failure is a miss.
   * `key` is a key template like those of `cacheable` (given without prefix); its placeholders are
   * filled from `context`, with the same encoding, so `get('posts:{{slug}}', { slug })` reads
   * what a `cacheable` with that template stored.
   */
  get<T = unknown, const K extends string = string>(
    key: ValidTemplate<K>,
    ...context: ContextArgs<K>
  ): StoreResult<S, T | undefined> {
    if (!this.isSync) return this.#getAsync<T>(key, context[0]) as StoreResult<S, T | undefined>;
    const full = this.#keyOf(key, context[0]);
    let raw: string | null | undefined;
    try {
      raw = this.store.get(full) as string | null | undefined;
    } catch (error) {
      this.report('get', full, error, this.#manual);
    }
    return this.#accepted<T>(full, raw ?? undefined) as StoreResult<S, T | undefined>;
  }

  async #getAsync<T>(key: string, context: object | undefined): Promise<T | undefined> {
    const full = this.#keyOf(key, context);
    let raw: string | null | undefined;
    try {
      raw = await this.#guard.get(this.store, full);
    } catch (error) {
      this.report('get', full, error, this.#manual);
    }
    const value = this.#accepted<T>(full, raw ?? undefined);
    return isThenable(value) ? await value : value;
  }

  /** The value of a manual read: decoded if it is a fresh entry, else `undefined`. */
  #accepted<T>(full: string, raw: string | undefined): T | undefined {
    const value = this.reader.verdicts.read(full, raw, this.#manual);
    const event = value === MISS ? 'miss' : 'hit';
    if (this.#events.has(event)) this.#events.emit(event, { source: this.#manual, key: full });
    return value === MISS ? undefined : (value as T);
  }

  /** Stores a value for `ttl` seconds (default: the cache's). A store failure rejects/throws. */
  set<const K extends string>(
    key: ValidTemplate<K>,
    value: unknown,
    ...options: WriteOptionsArgs<K>
  ): StoreResult<S, void> {
    return this.#settle(() => {
      const { ttl, context } = (options[0] ?? {}) as WriteOptions & { context?: object };
      const full = this.#keyOf(key, context);
      const ttlMs = this.ttlMs(ttl);
      this.reader.abandon(full);
      let text: string;
      try {
        text = encodeEntry(
          value,
          { expiresAt: Date.now() + ttlMs, computeMs: 0 },
          this.#serializer,
        );
      } catch (error) {
        throw new SerializationError(full, error);
      }
      return chain(
        this.#guard.run(() => this.store.set(full, text, ttlMs)),
        () => {
          if (this.#events.has('set'))
            this.#events.emit('set', { source: this.#manual, key: full, ttlMs });
        },
      );
    });
  }

  /** Removes one key; resolves to whether it existed. A store failure rejects/throws. */
  delete<const K extends string>(
    key: ValidTemplate<K>,
    ...context: ContextArgs<K>
  ): StoreResult<S, boolean> {
    return this.#settle(() => {
      const full = this.#keyOf(key, context[0]);
      this.reader.abandon(full);
      return chain(
        this.#guard.run(() => this.store.delete(full)),
        (removed) => {
          if (this.#events.has('delete')) {
            this.#events.emit('delete', { source: this.#manual, key: full, removed });
          }
          return removed;
        },
      );
    });
  }

  /**
   * Removes every key matching a pattern template (given without prefix) and resolves to how
   * many were removed. The pattern's own `*`, `?`, `[...]` are wildcards; values from `context`
   * are literal. A pattern ending in `:*` also removes the key without that suffix.
   */
  deletePattern<const K extends string>(
    pattern: ValidPattern<K>,
    ...context: ContextArgs<K, 'pattern'>
  ): StoreResult<S, number> {
    return this.#settle(() => {
      const full = this.fullKey(compilePattern<string>(pattern)(context[0] ?? EMPTY_CONTEXT));
      return this.invalidate([full], this.#manual);
    });
  }

  /**
   * Returns the cached value, or computes, stores and returns it. Concurrent misses of one key
   * share one computation. A store failure is a miss (the computed value is still returned).
   */
  getOrSet<T, const K extends string>(
    key: ValidTemplate<K>,
    compute: () => T,
    ...options: WriteOptionsArgs<K>
  ): T extends PromiseLike<infer V> ? Promise<V> : StoreResult<S, T> {
    type Result = T extends PromiseLike<infer V> ? Promise<V> : StoreResult<S, T>;
    const sync = this.isSync && !isAsyncFunction(compute);
    let full: string;
    let plan: ReadPlan;
    try {
      const { ttl, context } = (options[0] ?? {}) as WriteOptions & { context?: object };
      plan = this.plan({ source: this.#manual, ttl });
      full = this.#keyOf(key, context);
    } catch (error) {
      if (sync) throw error;
      return Promise.reject(error) as Result;
    }
    const call = { key: full, plan, fn: compute, thisArg: undefined, args: [], arrived: tick() };
    return (sync ? this.reader.readSync(call, true) : this.reader.read(call)) as Result;
  }

  /** @internal A read plan from wrapper options (seconds), with the cache's defaults. */
  plan(options: {
    source: EventSource;
    ttl?: number | undefined;
    staleTtl?: number | undefined;
    jitter?: number | undefined;
    earlyRefresh?: boolean | number | undefined;
    schema?: ReadPlan['schema'];
    shouldCache?: ReadPlan['shouldCache'];
  }): ReadPlan {
    const beta = options.earlyRefresh === true ? 1 : options.earlyRefresh || 0;
    return {
      source: options.source,
      ttlMs: this.ttlMs(options.ttl),
      staleMs: (options.staleTtl ?? 0) * 1000,
      jitter: options.jitter ?? 0,
      beta,
      schema: options.schema,
      shouldCache: options.shouldCache,
    };
  }

  /** @internal Converts a TTL in seconds (default: the cache's) to milliseconds, checking it. */
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

  /**
   * @internal Deletes full-key patterns. In-process computations of matching keys are abandoned
   * first, so a computation that began before the invalidation never stores its (old) result,
   * and no caller arriving afterwards joins it. Resolves to the number of keys removed.
   */
  invalidate(patterns: readonly string[], source: EventSource): Maybe<number> {
    const failures: unknown[] = [];
    const counts = patterns.map((pattern) =>
      attempt(
        () => this.#invalidateOne(pattern, source),
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
      if (failures.length > 1) {
        throw new AggregateError(failures, `${failures.length} pattern deletes failed`);
      }
      return all.reduce((sum, n) => sum + n, 0);
    };
    if (this.isSync) return total(counts as number[]);
    return Promise.all(counts).then(total);
  }

  #invalidateOne(pattern: string, source: EventSource): Maybe<number> {
    const base = TRAILING_COLON_STAR.test(pattern) ? pattern.slice(0, -2) : undefined;
    this.reader.abandon(pattern);
    if (base !== undefined) this.reader.abandon(base);
    return chain(
      this.#guard.run(() => this.store.deletePattern(pattern), this.#invalidationTimeoutMs),
      (removed) =>
        chain(base === undefined ? 0 : this.#deleteBase(base), (baseRemoved) => {
          const count = removed + baseRemoved;
          if (this.#events.has('invalidate')) {
            this.#events.emit('invalidate', { source, pattern, count });
          }
          return count;
        }),
    );
  }

  /**
   * @internal Reports a failure the cache carried on after: a `logger.warn` line (never silent)
   * and an `error` event.
   */
  report(operation: string, key: string, error: unknown, source: EventSource): void {
    // While the breaker is open, its own BREAKER OPEN line says it all; no line per call.
    if (!(error instanceof StoreUnavailableError && error.reason === 'breaker-open')) {
      this.logger.warn(
        `[Cache] ERROR: ${operation} ${key} failed; continuing without the cache`,
        error,
      );
    }
    if (this.#events.has('error')) this.#events.emit('error', { source, operation, key, error });
  }

  /** The full key for a manual key template and its context. */
  #keyOf(key: string, context: object | undefined): string {
    return this.fullKey(
      compileTemplate<string>(key)((context ?? EMPTY_CONTEXT) as TemplateContext<string>),
    );
  }

  #deleteBase(base: string): Maybe<number> {
    if (GLOB_SPECIAL.test(base)) {
      return this.#guard.run(() => this.store.deletePattern(base), this.#invalidationTimeoutMs);
    }
    return chain(
      this.#guard.run(() => this.store.delete(base)),
      (removed) => (removed ? 1 : 0),
    );
  }

  #settle<T>(operation: () => Maybe<T>): StoreResult<S, T> {
    if (this.isSync) return operation() as StoreResult<S, T>;
    try {
      return Promise.resolve(operation()) as StoreResult<S, T>;
    } catch (error) {
      return Promise.reject(error) as StoreResult<S, T>;
    }
  }
}

/** The context used for templates without placeholders. */
export const EMPTY_CONTEXT: Readonly<Record<string, never>> = Object.freeze({});
