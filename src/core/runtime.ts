/**
 * The machinery behind one cache: resolved options, events, the store guard, read-through and
 * invalidation. A `Cache` keeps it in a private field and hands it to the wrappers it makes; user
 * code never reaches it.
 */
import type { Serializer } from '../codec/index.js';
import { InvalidOptionError, StoreUnavailableError } from '../errors.js';
import { createGlobMatcher } from '../glob.js';
import { MemoryStore } from '../stores/memory.js';
import {
  atomicOf,
  batchingOf,
  type IndexedStore,
  indexOf,
  loggingOf,
  type NotifyingStore,
  notificationsOf,
  type Store,
  type TaggingStore,
  taggingOf,
} from '../stores/store.js';
import { type AmbientSource, renderer, renderFrom, widenPattern } from '../template/index.js';
import { type Duration, durationMs } from '../util/duration.js';
import { type Log, toLog } from '../util/logger.js';
import { checkOptions, describe, sharedSpecs, withDefaults } from '../util/options.js';
import { debugLogger } from './debug.js';
import { Emitter, type EventSource } from './events.js';
import { StoreGuard } from './guard.js';
import { type CacheHealth, checkHealth, type TierState } from './health.js';
import { Invalidator } from './invalidation.js';
import { type CacheOptions, cacheOptionSpecs, type InvalidationErrors } from './options.js';
import type { Maybe, ReadPlan } from './read/call.js';
import { ReadThrough } from './read/read-through.js';
import { Registry } from './registry.js';
import { Stats } from './stats.js';
import { eventChannels, Telemetry } from './telemetry.js';
import { Tier } from './tier.js';

/** The context used for templates without placeholders. */
export const EMPTY_CONTEXT: Readonly<Record<string, never>> = Object.freeze({});

/** What a wrapper's options say about reading (numbers in seconds), before defaults. */
export interface PlanOptions {
  source: EventSource;
  ttl?: Duration | undefined;
  staleTtl?: Duration | undefined;
  jitter?: number | undefined;
  earlyRefresh?: boolean | number | undefined;
  schema?: ReadPlan['schema'];
  shouldCache?: ReadPlan['shouldCache'];
  l1?: boolean | undefined;
  tags?: ReadPlan['tags'];
}

/** One cache's machinery. */
export class CacheRuntime<S extends Store = Store> {
  readonly store: S;
  readonly prefix: string;
  /** Default TTL, seconds. */
  readonly ttl: number;
  readonly debug: boolean;
  /** The `logger` option, written to in the call shape it understands. */
  readonly logger: Log;
  /** Whether the store answers synchronously, so synchronous wrappers can stay synchronous. */
  readonly isSync: boolean;
  readonly invalidationErrors: InvalidationErrors;
  /** How long a mutation waits for its invalidation to be confirmed, ms. */
  readonly invalidationWaitMs: number;
  /** Longest wait for one pattern-delete attempt, ms. */
  readonly invalidationTimeoutMs: number;
  readonly serializer: Serializer | undefined;
  readonly events: Emitter;
  readonly guard: StoreGuard;
  readonly reader: ReadThrough;
  readonly invalidator: Invalidator;
  /** The in-process tier, when `l1` is on. */
  readonly tier: Tier | undefined;
  /** Loads and invalidation attempts, for the diagnostics channels and instruments. */
  readonly telemetry: Telemetry;
  /** The counters of `cache.stats()`, unless `stats` is off. */
  readonly stats: Stats | undefined;
  /** The tier's state, and since when (epoch ms), for `health()`. */
  #tierState: { state: TierState; since: number } = { state: 'off', since: Date.now() };
  /** Stops the store's change notifications the tier listens to (a connection the cache opened). */
  readonly #watching: Promise<(() => unknown) | undefined>;
  /** The event source of the manual API. */
  readonly manual: EventSource;
  /** Key templates and invalidation patterns, for the checks of `invalidating`. */
  readonly registry = new Registry();
  /** Whether an `invalidating` pattern that looks wrong throws (else it is logged once). */
  readonly strict: boolean;
  /**
   * The request context whose values fill the placeholders a call's own context lacks; passed
   * to every render, asked only for a missing value.
   */
  readonly ambient: AmbientSource | undefined;
  readonly #keyStart: string;
  /** The store's key index, if it has one. */
  readonly #index: (Store & IndexedStore) | undefined;
  /** The store's tags, if it has them. */
  readonly tagging: (Store & TaggingStore) | undefined;
  /** The key templates of the `cacheable` wrappers with tags. */
  readonly #taggedTemplates = new Set<string>();
  /** Whether a full key may be an entry of a wrapper with tags (one matcher per template). */
  readonly #taggedMatchers: ((key: string) => boolean)[] = [];
  #debugListening = false;

  /** `owner` is the public cache, named in diagnostics channel messages. */
  constructor(given: CacheOptions<S>, owner: unknown) {
    checkOptions(cacheOptionSpecs, given, 'createCache');
    const options = withDefaults(cacheOptionSpecs, given as CacheOptions);
    // Durations in milliseconds (checked above, so each one converts).
    const ms = (duration: Duration) => durationMs(duration, 'milliseconds') as number;
    const timeoutMs = ms(options.timeout);
    this.store = (options.store ?? new MemoryStore()) as S;
    this.prefix = options.prefix;
    this.ttl = (durationMs(options.ttl, 'seconds') as number) / 1000;
    this.debug = options.debug;
    this.logger = toLog(options.logger);
    loggingOf(this.store)?.useLogger(options.logger);
    this.invalidationErrors = options.invalidationErrors;
    this.invalidationTimeoutMs = ms(options.invalidationTimeout);
    this.invalidationWaitMs =
      options.invalidationWait === undefined ? timeoutMs : ms(options.invalidationWait);
    this.serializer = options.serializer;
    this.strict = options.strict;
    this.ambient = options.requestContext as AmbientSource | undefined;
    this.#keyStart = `${this.prefix}:`;
    this.isSync = this.store.sync === true;
    this.#index = indexOf(this.store);
    this.tagging = taggingOf(this.store);
    this.manual = { name: 'manual', template: '', debug: this.debug };
    const events = new Emitter(
      (error) => this.logger.error('[Cache] ERROR: an event listener threw', error),
      eventChannels,
      owner,
    );
    this.events = events;
    this.telemetry = new Telemetry(owner, events);
    this.stats = options.stats ? new Stats(events, this.registry) : undefined;
    const breaker =
      options.breaker === false
        ? false
        : { failures: options.breaker.failures, cooldownMs: ms(options.breaker.cooldown) };
    // A synchronous store cannot hang and fails at once: it gets no breaker (which would also
    // have to answer with promises).
    this.guard = new StoreGuard(
      timeoutMs,
      this.isSync ? false : breaker,
      (state, failures, error) => {
        if (state === 'open') {
          this.logger.warn(
            `[Cache] BREAKER OPEN: ${failures} store calls failed in a row; skipping the store for ${breaker === false ? 0 : breaker.cooldownMs} ms`,
            error,
          );
        } else {
          this.logger.warn('[Cache] BREAKER CLOSED: the store answers again');
        }
        events.emit(
          'breaker',
          error === undefined ? { state, failures } : { state, failures, error },
        );
      },
    );
    const lease =
      options.lease === false
        ? false
        : { ttlMs: ms(options.lease.ttl), waitMs: ms(options.lease.wait) };
    const l1 = options.l1 === true ? {} : options.l1;
    const notifying = notificationsOf(this.store);
    this.tier =
      l1 === false
        ? undefined
        : new Tier(
            {
              maxEntries: l1.maxEntries ?? 10_000,
              maxBytes: l1.maxBytes ?? 32 * 1024 * 1024,
              ttlMs:
                l1.ttl === undefined
                  ? notifying === undefined
                    ? 1000
                    : Number.POSITIVE_INFINITY
                  : ms(l1.ttl),
              values: l1.values ?? 'frozen',
              decode: (key, text) => this.reader.verdicts.decode(key, text, undefined, this.manual),
              readHorizonMs: Math.max(1000, 2 * timeoutMs),
            },
            notifying === undefined,
          );
    if (this.tier !== undefined) this.#tierIs(this.tier.live ? 'live' : 'starting');
    this.reader = new ReadThrough({
      store: this.store,
      atomic: lease === false ? undefined : atomicOf(this.store),
      guard: this.guard,
      events,
      serializer: this.serializer,
      leaseTtlMs: lease === false ? 0 : lease.ttlMs,
      // Also how long callers wait for a computation in their own instance, leases or not.
      leaseWaitMs: lease === false ? cacheOptionSpecs.lease.default.wait : lease.waitMs,
      report: (operation, key, error, source) => this.report(operation, key, error, source),
      leasesRefused: (error) => {
        this.logger.error(
          '[Cache] ERROR: the store refused the atomic writes that leases need (for Redis: the ACL user needs EVALSHA and EVAL, e.g. +@scripting); continuing without leases, so concurrent misses in different processes each run the function',
          error,
        );
        if (events.has('error')) {
          events.emit('error', { source: this.manual, operation: 'lease', key: '', error });
        }
      },
      track: (key, ttlMs) => this.track(key, ttlMs),
      indexed: this.#index !== undefined,
      batching: batchingOf(this.store),
      tier: this.tier,
      tagging: this.tagging,
      bypass: (key, tagged) => this.blocks(key, tagged),
    });
    this.invalidator = new Invalidator({
      store: this.store,
      index: this.#index,
      guard: this.guard,
      events,
      logger: this.logger,
      attemptTimeoutMs: this.invalidationTimeoutMs,
      maxPending: options.maxPendingInvalidations,
      everything: `${this.#keyStart}*`,
      telemetry: this.telemetry,
      templatesOf: (pattern) =>
        this.registry.matching(
          pattern.startsWith(this.#keyStart) ? pattern.slice(this.#keyStart.length) : pattern,
        ),
      abandon: (pattern) => {
        this.reader.abandon(pattern);
        this.tier?.dropMatching(createGlobMatcher(pattern));
      },
      tagging: this.tagging,
      abandonTagged: () => this.reader.abandonTagged(),
      forget: (keys) => {
        this.reader.forget(keys);
        this.tier?.drop(keys);
      },
      taggedTemplates: () => [...this.#taggedTemplates],
    });
    this.#watching = this.#watch(notifying);
    if (this.debug) this.listenForDebug();
  }

  /**
   * Keeps the tier coherent through the store's change notifications: another process's change
   * drops its key; a lost connection drops everything and stops the tier until notifications
   * flow again. Answers the function that stops them, once they started.
   */
  #watch(notifying: NotifyingStore | undefined): Promise<(() => unknown) | undefined> {
    const tier = this.tier;
    if (tier === undefined || notifying === undefined) return Promise.resolve(undefined);
    return Promise.resolve()
      .then(() =>
        notifying.watch(this.#keyStart, {
          changed: (keys) => (keys === null ? tier.reset(tier.live) : tier.drop(keys)),
          lost: () => {
            tier.reset(false);
            this.#tierIs('lost');
          },
          ready: () => {
            tier.reset(true);
            this.#tierIs('live');
          },
        }),
      )
      .catch((error: unknown) => {
        this.#tierIs('failed');
        this.logger.error(
          '[Cache] ERROR: could not watch the store for changes; the in-process tier stays off',
          error,
        );
        return undefined;
      });
  }

  /** Records a change of the tier's state. */
  #tierIs(state: TierState): void {
    if (this.#tierState.state !== state) this.#tierState = { state, since: Date.now() };
  }

  /** The cache's health, probing the store for at most `timeoutMs`. */
  health(timeoutMs: number): Promise<CacheHealth> {
    return checkHealth(
      {
        store: this.store,
        guard: this.guard,
        invalidator: this.invalidator,
        probeKey: `${this.#keyStart}__health__`,
        l1: this.#tierState,
      },
      timeoutMs,
    );
  }

  /** Stops what the cache opened for itself (the tier's change notifications). */
  async stop(): Promise<void> {
    const stop = await this.#watching;
    await stop?.();
  }

  /**
   * Records `key` in the store's index for at least `ttlMs`, within `timeout` (nothing without an
   * index). Anything written under a key must be written after this succeeded.
   */
  track(key: string, ttlMs: number): Maybe<unknown> {
    const index = this.#index;
    return index === undefined ? undefined : this.guard.run(() => index.track(key, ttlMs));
  }

  /** Throws `InvalidOptionError` when the store has no tags; `subject` is what needs them. */
  requireTags(subject: string): void {
    if (this.tagging !== undefined) return;
    throw new InvalidOptionError(
      'tags',
      `${subject} a store with tags (MemoryStore, RedisStore, NodeRedisStore, or a store with \`tag\` and \`invalidateTag\`: see TaggingStore); this store has none`,
    );
  }

  /**
   * The full tags a `tagsFromResult` function of `name` returned (`found`), each once; throws
   * `InvalidOptionError` unless it is an array of non-empty strings.
   */
  fullTags(found: unknown, name: string): string[] {
    if (!Array.isArray(found) || found.some((tag) => typeof tag !== 'string' || tag === '')) {
      throw new InvalidOptionError(
        'tagsFromResult',
        `\`tagsFromResult\` of ${name} must return an array of non-empty tag strings, got ${JSON.stringify(found)}`,
      );
    }
    return [...new Set(found.map((tag: string) => this.fullKey(tag)))];
  }

  /** Patterns matching every key of the `cacheable` wrappers with tags (their templates widened). */
  taggedPatterns(): string[] {
    return [...this.#taggedTemplates].map((template) => this.fullKey(widenPattern(template)));
  }

  /**
   * Remembers the key template of a `cacheable` wrapper with tags: for `invalidate` events, and
   * so that reads of its keys by any means skip the store while a tag invalidation is pending.
   */
  addTaggedTemplate(template: string): void {
    if (this.#taggedTemplates.has(template)) return;
    this.#taggedTemplates.add(template);
    this.#taggedMatchers.push(createGlobMatcher(this.fullKey(widenPattern(template))));
  }

  /**
   * Whether `key` must not be read from the store now: an invalidation matching it awaits the
   * store's confirmation (or is held by the caller's deferral scope), or a tag invalidation does
   * and the key may carry tags (`tagged`: its wrapper has tags; else its template is one of a
   * wrapper with tags, for manual reads).
   */
  blocks(key: string, tagged = false): boolean {
    const { invalidator } = this;
    if (invalidator.blocks(key)) return true;
    if (!invalidator.blocksTagged()) return false;
    return tagged || this.#taggedMatchers.some((matches) => matches(key));
  }

  /** The full store key for a key given without prefix: `${prefix}:${key}`. */
  fullKey(key: string): string {
    return this.#keyStart + key;
  }

  /**
   * The full key for a manual key template and the context the caller gave `method` (over the
   * request context).
   */
  keyOf(key: string, context: object | undefined, method: string): string {
    return this.fullKey(
      renderFrom(
        renderer(key, 'key'),
        context ?? EMPTY_CONTEXT,
        this.ambient,
        'argument',
        `cache.${method}()`,
      ),
    );
  }

  /** Turns on the debug listener (once), for the cache or for one wrapper. */
  listenForDebug(): void {
    if (this.#debugListening) return;
    this.#debugListening = true;
    debugLogger(this.events, this.logger);
  }

  /** A read plan from wrapper options (seconds), with the cache's defaults. */
  plan(options: PlanOptions): ReadPlan {
    const beta = options.earlyRefresh === true ? 1 : options.earlyRefresh || 0;
    return {
      source: options.source,
      ttlMs: this.ttlMs(options.ttl),
      // Checked when the wrapper was made.
      staleMs:
        options.staleTtl === undefined ? 0 : (durationMs(options.staleTtl, 'seconds') as number),
      jitter: options.jitter ?? 0,
      beta,
      schema: options.schema,
      shouldCache: options.shouldCache,
      l1: this.tier !== undefined && options.l1 !== false,
      telemetry: this.telemetry,
      tags: options.tags,
    };
  }

  /**
   * Converts a TTL (a number of seconds or a duration string; default: the cache's) to
   * milliseconds, checking it.
   */
  ttlMs(ttl: Duration | undefined): number {
    if (ttl === undefined) return this.ttl * 1000;
    const ms = durationMs(ttl, 'seconds');
    if (ms === undefined || !(ms > 0)) {
      throw new InvalidOptionError(
        'ttl',
        `\`ttl\` ${sharedSpecs.ttl.expect}, got ${describe(ttl)}`,
      );
    }
    return ms;
  }

  /**
   * Reports a failure the cache carried on after: a `logger.warn` line (never silent) and an
   * `error` event.
   */
  report(operation: string, key: string, error: unknown, source: EventSource): void {
    // While the breaker is open, its own BREAKER OPEN line says it all; no line per call.
    if (!(error instanceof StoreUnavailableError && error.reason === 'breaker-open')) {
      this.logger.warn(
        `[Cache] ERROR: ${operation} ${key} failed; continuing without the cache`,
        error,
      );
    }
    if (this.events.has('error')) this.events.emit('error', { source, operation, key, error });
  }
}
