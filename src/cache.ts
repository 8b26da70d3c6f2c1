/**
 * The public `Cache`: the wrappers (`cacheable`, `invalidating`), the manual API and events. Its
 * machinery (`CacheRuntime`) lives in a private field, handed only to the wrappers it makes.
 */
import { encodeEntry } from './codec/index.js';
import type { CacheEventMap, CacheEventName, CacheListener } from './core/events.js';
import type { CacheHealth } from './core/health.js';
import type { CacheOptions } from './core/options.js';
import { tick } from './core/read/flights.js';
import { MISS } from './core/read/verdict.js';
import type { TemplateCoverage } from './core/registry.js';
import { CacheRuntime, EMPTY_CONTEXT } from './core/runtime.js';
import type { CacheStats } from './core/stats.js';
import type {
  InvalidateMessage as CoreInvalidateMessage,
  LoadMessage as CoreLoadMessage,
  Instrument,
} from './core/telemetry.js';
import { InvalidOptionError, SerializationError } from './errors.js';
import type { RequestContext } from './request-context.js';
import type { MemoryStore } from './stores/memory.js';
import type { Store, StoreResult } from './stores/store.js';
import {
  type ContextFor,
  type NoAmbient,
  renderer,
  renderFrom,
  type TemplateContext,
  type TemplateMode,
  type ValidPattern,
  type ValidTemplate,
} from './template/index.js';
import { type Duration, durationExpectation, durationMs } from './util/duration.js';
import { chain, isAsyncFunction, isThenable, within } from './util/maybe-promise.js';
import { describe } from './util/options.js';
import { type CacheableOptions, wrapCacheable } from './wrappers/cacheable.js';
import { type InvalidatingOptions, wrapInvalidating } from './wrappers/invalidating.js';
import type { WrappedFunction } from './wrappers/shared.js';

/**
 * The context argument of a manual operation on key `K` (a pattern when `M` is `'pattern'`):
 * required when `K` has placeholders the request context (values of type `A`) does not provide,
 * absent when it has none, optional when it is only known at run time or the request context
 * provides every placeholder.
 */
export type ContextArgs<
  K extends string,
  M extends TemplateMode = 'key',
  A extends object = NoAmbient,
> = ContextFor<
  K,
  {
    required: [context: TemplateContext<K, A>];
    none: [];
    runtime: [context?: TemplateContext<K>];
    ambient: [context?: TemplateContext<K, A>];
  },
  M,
  A
>;

/** Options of `set` and `getOrSet`, with the key template's context when it has placeholders. */
export type WriteOptionsArgs<K extends string, A extends object = NoAmbient> = ContextFor<
  K,
  {
    required: [options: WriteOptions & { context: TemplateContext<K, A> }];
    none: [options?: WriteOptions];
    runtime: [options?: WriteOptions & { context?: TemplateContext<K> }];
    ambient: [options?: WriteOptions & { context?: TemplateContext<K, A> }];
  },
  'key',
  A
>;

/** Options of a manual write. */
export interface WriteOptions {
  /**
   * Time to live: a number of seconds, or a duration such as `'10m'`.
   * @default the cache's `ttl`
   */
  ttl?: Duration | undefined;
}

type Maybe<T> = T | PromiseLike<T>;

const BRAND = Symbol.for('quickpost-cache.Cache');

/** The machinery of a cache made by this copy of the library; `undefined` for any other. */
let runtimeOf: (cache: Cache<Store>) => CacheRuntime<Store> | undefined;

/** The context of a trace on the `quickpost-cache:load` tracing channel (see `channelNames`). */
export type LoadMessage = CoreLoadMessage<Cache>;

/** The context of a trace on the `quickpost-cache:invalidate` tracing channel (see `channelNames`). */
export type InvalidateMessage = CoreInvalidateMessage<Cache>;

/**
 * A message on the `quickpost-cache:hit`, `quickpost-cache:stale` or `quickpost-cache:miss`
 * channel: the cache's event of that name, and the cache.
 */
export type EventMessage<E extends 'hit' | 'stale' | 'miss'> = CacheEventMap[E] & {
  readonly cache: Cache;
};

/** Options of `cache.stats()`. */
export interface StatsOptions {
  /**
   * Start counting again from zero after this snapshot, to report per interval.
   * @default false
   */
  reset?: boolean | undefined;
}

/** Options of `cache.health()`. */
export interface HealthOptions {
  /**
   * Longest wait for the store's answer to the probe: a number of milliseconds, or a duration
   * such as `'500ms'`.
   * @default the cache's `timeout`
   */
  timeout?: Duration | undefined;
}

/**
 * A cache: the wrappers (`cacheable`, `invalidating`), the manual API and events. `S` is its
 * store's type, `A` the type of its request context's values (none by default).
 */
export class Cache<S extends Store = Store, A extends object = NoAmbient> {
  /** Marks caches made by any copy of this library (ESM and CommonJS copies included). */
  readonly [BRAND] = true;
  /** The store entries live in. */
  readonly store: S;
  /** Key prefix (without the `:` separator). */
  readonly prefix: string;
  /** Default TTL of entries, in seconds. */
  readonly ttl: number;
  /** The request context whose values fill placeholders, if the cache was made with one. */
  readonly requestContext: RequestContext<A> | undefined;
  // Typed for any store, so that a `Cache<MemoryStore>` is also a `Cache<Store>`.
  readonly #runtime: CacheRuntime<Store>;

  static {
    runtimeOf = (cache) => (#runtime in cache ? cache.#runtime : undefined);
  }

  /** Prefer {@link createCache}, which infers the store's type. */
  constructor(options: CacheOptions<S, A> = {}) {
    this.#runtime = new CacheRuntime(options, this);
    this.store = this.#runtime.store as S;
    this.prefix = this.#runtime.prefix;
    this.ttl = this.#runtime.ttl;
    this.requestContext = options.requestContext;
  }

  /**
   * Wraps `fn` so its results are cached under the key template `options.key`, filled from
   * `options.context(...args)`. Throws at once for a malformed template or a bad option.
   *
   * @example
   * const getPost = cache.cacheable(async (req: Req, slug: string) => db.post(slug), {
   *   key: 'posts:{{slug}}',
   *   context: (req, slug) => ({ slug }),
   *   ttl: 600,
   * });
   */
  cacheable<Args extends unknown[], R, const T extends string, const G extends string = never>(
    fn: (...args: Args) => R,
    options: CacheableOptions<Args, R, T, A, G>,
  ): WrappedFunction<Args, R, S> {
    return wrapCacheable(this.#runtime, fn, options) as WrappedFunction<Args, R, S>;
  }

  /**
   * Wraps the mutation `fn` so that, once it succeeds, the keys matching `options.patterns` are
   * deleted. Its result or error passes through unchanged; a failed mutation deletes nothing.
   *
   * @example
   * const updatePost = cache.invalidating(async (req: Req, slug: string, data: PostInput) => db.save(slug, data), {
   *   patterns: ['posts:{{slug}}:*', 'posts:list:*'],
   *   context: (req, slug) => ({ slug }),
   * });
   */
  invalidating<
    Args extends unknown[],
    R,
    const P extends string = never,
    const G extends string = never,
  >(
    fn: (...args: Args) => R,
    options: InvalidatingOptions<Args, R, P, A, G>,
  ): WrappedFunction<Args, R, S> {
    return wrapInvalidating(this.#runtime, fn, options) as WrappedFunction<Args, R, S>;
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
    return this.#runtime.events.on(event, listener);
  }

  /** Removes a listener added with `on`. */
  off<E extends CacheEventName>(event: E, listener: CacheListener<E>): void {
    this.#runtime.events.off(event, listener);
  }

  /**
   * Reads a value; `undefined` when absent, expired or unreadable. A store failure is a miss.
   * `key` is a key template like those of `cacheable` (given without prefix); its placeholders are
   * filled from `context`, with the same encoding, so `get('posts:{{slug}}', { slug })` reads
   * what a `cacheable` with that template stored.
   */
  get<T = unknown, const K extends string = string>(
    key: ValidTemplate<K>,
    ...context: ContextArgs<K, 'key', A>
  ): StoreResult<S, T | undefined> {
    const runtime = this.#runtime;
    if (!runtime.isSync) {
      return this.#getAsync<T>(key, context[0]) as StoreResult<S, T | undefined>;
    }
    const full = runtime.keyOf(key, context[0], 'get');
    let raw: unknown;
    if (!runtime.blocks(full)) {
      try {
        raw = runtime.store.get(full);
      } catch (error) {
        runtime.report('get', full, error, runtime.manual);
      }
    }
    return this.#accepted<T>(full, raw) as StoreResult<S, T | undefined>;
  }

  async #getAsync<T>(key: string, context: object | undefined): Promise<T | undefined> {
    const runtime = this.#runtime;
    const full = runtime.keyOf(key, context, 'get');
    let raw: unknown;
    if (!runtime.blocks(full)) {
      try {
        raw = await runtime.guard.get(runtime.store, full);
      } catch (error) {
        runtime.report('get', full, error, runtime.manual);
      }
    }
    const value = this.#accepted<T>(full, raw);
    return isThenable(value) ? await value : value;
  }

  /** The value of a manual read: decoded if it is a fresh entry, else `undefined`. */
  #accepted<T>(full: string, raw: unknown): Maybe<T | undefined> {
    const { events, manual, reader } = this.#runtime;
    const finish = (value: unknown): T | undefined => {
      const event = value === MISS ? 'miss' : 'hit';
      if (events.has(event)) events.emit(event, { source: manual, key: full });
      return value === MISS ? undefined : (value as T);
    };
    return chain(
      reader.verdicts.read(full, typeof raw === 'string' ? raw : undefined, manual),
      finish,
    );
  }

  /**
   * Stores a value for `ttl` (a number of seconds or a duration such as `'10m'`; default: the
   * cache's). A store failure rejects/throws.
   */
  set<const K extends string>(
    key: ValidTemplate<K>,
    value: unknown,
    ...options: WriteOptionsArgs<K, A>
  ): StoreResult<S, void> {
    return this.#settle(() => {
      const runtime = this.#runtime;
      const { ttl, context } = (options[0] ?? {}) as WriteOptions & { context?: object };
      const full = runtime.keyOf(key, context, 'set');
      const ttlMs = runtime.ttlMs(ttl);
      runtime.reader.abandon(full);
      runtime.tier?.drop([full]);
      let text: string;
      try {
        text = encodeEntry(
          value,
          { expiresAt: Date.now() + ttlMs, computeMs: 0 },
          runtime.serializer,
        );
      } catch (error) {
        throw new SerializationError(full, error);
      }
      return chain(
        chain(runtime.track(full, ttlMs), () =>
          runtime.guard.run(() => runtime.store.set(full, text, ttlMs)),
        ),
        () => {
          if (runtime.events.has('set'))
            runtime.events.emit('set', { source: runtime.manual, key: full, ttlMs });
        },
      );
    });
  }

  /**
   * Runs `fn` and holds every invalidation asked of this cache inside it (by `invalidating`
   * wrappers and `delete` / `deletePattern`, in any nested call) until `fn` has resolved, so that
   * they run after the transaction inside `fn` committed; if `fn` throws (rolled back), none
   * runs. Held invalidations run once each, durably, and this waits up to `invalidationWait` for
   * the store to confirm them. Inside, reads of keys they will remove skip the cache (a request
   * reads its own writes), and `delete` / `deletePattern` answer `false` / `0` at once. A scope
   * inside a scope joins the outer one.
   *
   * @example
   * await cache.deferInvalidations(() =>
   *   db.transaction(async (tx) => updatePost(tx, slug, input)),
   * );
   */
  deferInvalidations<T>(fn: () => T | PromiseLike<T>): Promise<Awaited<T>> {
    const runtime = this.#runtime;
    return runtime.invalidator.defer(fn, runtime.invalidationWaitMs);
  }

  /**
   * Removes one key; answers whether a live entry was removed. If the store does not confirm the
   * delete within `invalidationTimeout`, this rejects (throws) with the store's error, and the
   * delete is retried in the background until it is confirmed.
   */
  delete<const K extends string>(
    key: ValidTemplate<K>,
    ...context: ContextArgs<K, 'key', A>
  ): StoreResult<S, boolean> {
    return this.#settle(() => {
      const runtime = this.#runtime;
      const full = runtime.keyOf(key, context[0], 'delete');
      return chain(this.#invalidate(full), (count) => {
        const removed = count > 0;
        if (runtime.events.has('delete')) {
          runtime.events.emit('delete', { source: runtime.manual, key: full, removed });
        }
        return removed;
      });
    });
  }

  /**
   * Removes every key matching a pattern template (given without prefix) and answers how many
   * were removed. The pattern's own `*`, `?`, `[...]` are wildcards; values from `context` are
   * literal. A pattern ending in `:*` also removes the key without that suffix. If the store does
   * not confirm the delete within `invalidationTimeout`, this rejects (throws) with the store's
   * error, and the delete is retried in the background until it is confirmed.
   */
  deletePattern<const K extends string>(
    pattern: ValidPattern<K>,
    ...context: ContextArgs<K, 'pattern', A>
  ): StoreResult<S, number> {
    return this.#settle(() => {
      const runtime = this.#runtime;
      const rendered = renderFrom(
        renderer(pattern, 'pattern'),
        context[0] ?? EMPTY_CONTEXT,
        runtime.ambient,
        'argument',
        'cache.deletePattern()',
      );
      return this.#invalidate(runtime.fullKey(rendered));
    });
  }

  /**
   * Removes every entry carrying one of `tags` (tag templates given without prefix, filled from
   * `context` like keys: `invalidateTags(['post:{{slug}}'], { slug })`) and answers how many live
   * entries were removed. Each tag is stamped first, so a value computed before this and stored
   * after it is refused too (see README "Tags"). If the store does not confirm within
   * `invalidationTimeout`, this rejects (throws) with the store's error, and the invalidation is
   * retried in the background until it is confirmed. Needs a store with tags.
   *
   * @example
   * await cache.invalidateTags(['post:{{id}}', 'author:{{author}}'], { id: 42, author: 'ada' });
   */
  invalidateTags<const K extends string>(
    tags: readonly ValidTemplate<K>[],
    ...context: ContextArgs<K, 'key', A>
  ): StoreResult<S, number> {
    return this.#settle(() => {
      const runtime = this.#runtime;
      runtime.requireTags('`invalidateTags` needs');
      if (!Array.isArray(tags)) {
        throw new InvalidOptionError(
          'tags',
          `\`invalidateTags\` takes an array of tag templates such as ['post:{{slug}}'], got ${describe(tags)}`,
        );
      }
      const full = [
        ...new Set(
          tags.map((tag: string) =>
            runtime.fullKey(
              renderFrom(
                renderer(tag, 'key'),
                context[0] ?? EMPTY_CONTEXT,
                runtime.ambient,
                'argument',
                'cache.invalidateTags()',
              ),
            ),
          ),
        ),
      ];
      return runtime.invalidator.request([], runtime.manual, full).attempted();
    });
  }

  /**
   * Returns the cached value, or computes, stores and returns it. Concurrent misses of one key
   * share one computation. A store failure is a miss (the computed value is still returned).
   */
  getOrSet<T, const K extends string>(
    key: ValidTemplate<K>,
    compute: () => T,
    ...options: WriteOptionsArgs<K, A>
  ): T extends PromiseLike<infer V> ? Promise<V> : StoreResult<S, T> {
    type Result = T extends PromiseLike<infer V> ? Promise<V> : StoreResult<S, T>;
    const runtime = this.#runtime;
    const sync = runtime.isSync && !isAsyncFunction(compute);
    let call: Parameters<typeof runtime.reader.read>[0];
    try {
      const { ttl, context } = (options[0] ?? {}) as WriteOptions & { context?: object };
      const plan = runtime.plan({ source: runtime.manual, ttl });
      const full = runtime.keyOf(key, context, 'getOrSet');
      call = { key: full, plan, fn: compute, thisArg: undefined, args: [], arrived: tick() };
    } catch (error) {
      if (sync) throw error;
      return Promise.reject(error) as Result;
    }
    return (sync ? runtime.reader.readSync(call, true) : runtime.reader.read(call)) as Result;
  }

  /**
   * The key templates of this cache's `cacheable` wrappers, each with the `invalidating` patterns
   * that can match its keys: a template no pattern covers is cached until its TTL ends whatever
   * changes, which is worth a look at startup.
   *
   * @example
   * for (const { template } of cache.templates().filter((t) => t.invalidatedBy.length === 0)) {
   *   logger.warn(`no mutation invalidates ${template}`);
   * }
   */
  templates(): TemplateCoverage[] {
    return this.#runtime.registry.coverage();
  }

  /**
   * The cache's counters since it was made (or last reset): per key template of its `cacheable`
   * wrappers, and for the whole cache. Throws `InvalidOptionError` if the cache was made with
   * `stats: false`.
   *
   * @example
   * const { hits, misses } = cache.stats().templates['posts:{{slug}}'] ?? { hits: 0, misses: 0 };
   * const report = cache.stats({ reset: true }); // this interval's counters, then start again
   */
  stats(options: StatsOptions = {}): CacheStats {
    const stats = this.#runtime.stats;
    if (stats === undefined) {
      throw new InvalidOptionError(
        'stats',
        '`stats()` needs the counters that `stats: false` turned off: leave `stats` out of createCache (it is on by default)',
      );
    }
    return stats.snapshot(options.reset === true);
  }

  /**
   * The cache's health, for readiness probes: whether the store answers one read within
   * `timeout` (default: the cache's), the breaker's state, pending invalidations and the
   * in-process tier's state, summed up in `status` and `ok`. Rejects only for a bad `timeout`
   * (`InvalidOptionError`): a failing store is part of the answer.
   *
   * @example
   * const health = await cache.health({ timeout: '500ms' });
   * response.writeHead(health.ok ? 200 : 503).end(JSON.stringify(health));
   */
  health(options: HealthOptions = {}): Promise<CacheHealth> {
    const runtime = this.#runtime;
    const timeoutMs =
      options.timeout === undefined
        ? runtime.guard.timeoutMs
        : durationMs(options.timeout, 'milliseconds');
    if (timeoutMs === undefined || !(timeoutMs > 0)) {
      return Promise.reject(
        new InvalidOptionError(
          'timeout',
          `\`timeout\` of health() must be ${durationExpectation('milliseconds', 'positive', '500ms')}, got ${describe(options.timeout)}`,
        ),
      );
    }
    return runtime.health(timeoutMs);
  }

  /**
   * Resolves once the store has answered every fill sent so far. A miss on a store with batches
   * (`RedisStore`, `NodeRedisStore`) answers its caller once its fill is sent, and this instance
   * reads the value from then on; the fill's `set` (or `skip`) event and stats follow Redis's
   * answer. Await this in a test before counting `set` events or reading the entry through
   * another connection.
   */
  settled(): Promise<void> {
    return this.#runtime.reader.fillsAnswered();
  }

  /**
   * Waits up to `timeout` (a number of milliseconds, or a duration such as `'5s'`; default:
   * `invalidationTimeout`) for pending invalidations to be confirmed by the store, then stops
   * retrying them; any left are logged, since other processes may serve their keys until the
   * keys' TTL ends. Waits as long for the store's answers to fills already sent (a miss answers
   * its caller once its fill is sent). Closes the connections the cache opened (the in-process tier's change
   * notifications). Call it before the process exits. The store is yours to close.
   */
  async close(options: { timeout?: Duration } = {}): Promise<void> {
    const runtime = this.#runtime;
    const timeoutMs =
      options.timeout === undefined
        ? runtime.invalidationTimeoutMs
        : durationMs(options.timeout, 'milliseconds');
    if (timeoutMs === undefined || !(timeoutMs >= 0)) {
      throw new InvalidOptionError(
        'timeout',
        `\`timeout\` of close() must be ${durationExpectation('milliseconds', 'zero or more', '5s')}, got ${describe(options.timeout)}`,
      );
    }
    await Promise.all([
      runtime.invalidator.drain(timeoutMs),
      within(runtime.reader.fillsAnswered(), timeoutMs),
    ]);
    await runtime.stop();
  }

  /**
   * A manual invalidation: how many keys the store's first attempt removed, or that attempt's
   * error (the invalidation then stays pending and is retried in the background).
   */
  #invalidate(full: string): Maybe<number> {
    const runtime = this.#runtime;
    return runtime.invalidator.request([full], runtime.manual).attempted();
  }

  #settle<T>(operation: () => Maybe<T>): StoreResult<S, T> {
    if (this.#runtime.isSync) return operation() as StoreResult<S, T>;
    try {
      return Promise.resolve(operation()) as StoreResult<S, T>;
    } catch (error) {
      return Promise.reject(error) as StoreResult<S, T>;
    }
  }
}

/**
 * Creates a cache. Every option is checked now; a bad one throws `InvalidOptionError`.
 *
 * @example
 * const cache = createCache({ prefix: 'blog', ttl: 600 });
 */
export function createCache<S extends Store = MemoryStore, A extends object = NoAmbient>(
  options: CacheOptions<S, A> = {},
): Cache<S, A> {
  return new Cache<S, A>(options);
}

/**
 * Renders a tag template (given without prefix) with the encoding keys and tags use, for the
 * tags `tagsFromResult` returns: `renderTag('post:{{slug}}', { slug })` is the tag that
 * `tags: ['post:{{slug}}']` renders for that slug. Values of plain letters, digits, `-`, `_`
 * and `.` render as they are.
 *
 * @example
 * tagsFromResult: (page) => page.posts.map((post) => renderTag('post:{{slug}}', { slug: post.slug }))
 */
export function renderTag<const K extends string>(
  tag: ValidTemplate<K>,
  ...context: ContextArgs<K, 'key'>
): string {
  return renderFrom(
    renderer(tag, 'key'),
    context[0] ?? EMPTY_CONTEXT,
    undefined,
    'argument',
    'renderTag()',
  );
}

/**
 * Attaches an instrument to a cache made by this copy of the library (`quickpost-cache/otel`);
 * answers the function that detaches it, or `undefined` for a cache of another copy.
 */
export function attachInstrument(
  cache: Cache<Store>,
  instrument: Instrument<Cache<Store>>,
): (() => void) | undefined {
  return runtimeOf(cache)?.telemetry.attach(instrument as Instrument);
}

/** True for a cache made by `createCache`, also by another copy of the library. */
export function isCache(value: unknown): value is Cache<Store> {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[BRAND] === true
  );
}
