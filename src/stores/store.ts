import type { CacheLogger } from '../util/logger.js';

/** A value, or a promise of it: store methods may answer either way. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Where cached entries live. Four required methods over plain strings; the cache does all
 * encoding, so a store never sees values, only text. Every method may return its result directly
 * or as a promise. Keys arrive fully formed (prefix included).
 *
 * Optional capabilities are optional members, detected at run time; a store that implements only
 * the required part works with every feature.
 */
export interface Store {
  /**
   * `true` only if every method returns its result directly (never a promise): wrappers of
   * synchronous functions then stay synchronous. `false` if every method answers with a promise.
   * Left out, the cache works either way and its types say "a value or a promise" (await it).
   */
  readonly sync?: boolean;
  /** Returns the stored text, or `undefined` / `null` when the key is absent or expired. */
  get(key: string): MaybePromise<string | null | undefined>;
  /** Stores `value` under `key`, replacing any previous value, expiring after `ttlMs` milliseconds. */
  set(key: string, value: string, ttlMs: number): MaybePromise<unknown>;
  /** Removes `key`; returns whether a live entry was removed. */
  delete(key: string): MaybePromise<boolean>;
  /**
   * Removes every key matching the Redis glob `pattern` (`*`, `?`, `[...]`, `\` escapes: see
   * `matchGlob`); returns how many live entries were removed.
   */
  deletePattern(pattern: string): MaybePromise<number>;
}

/** A store whose methods all answer synchronously; it declares so with `sync: true`. */
export interface SyncStore extends Store {
  readonly sync: true;
  get(key: string): string | null | undefined;
  set(key: string, value: string, ttlMs: number): unknown;
  delete(key: string): boolean;
  deletePattern(pattern: string): number;
}

/**
 * Optional capability: atomic conditional writes. A store that has all three methods gets leases
 * (one computation per key across processes, and no stale fills after an invalidation) and a
 * single refresher across processes for stale-while-revalidate. Without them the cache falls back
 * to in-process protection only.
 */
export interface AtomicStore {
  /** Writes `value` only if `key` is absent (`SET NX PX`); returns whether it wrote. */
  setIfAbsent(key: string, value: string, ttlMs: number): MaybePromise<boolean>;
  /**
   * Writes `value` only if `key` holds exactly `expected`, atomically; returns whether it wrote.
   * `ttlMs` `undefined` keeps the key's remaining time to live.
   */
  compareAndSet(
    key: string,
    expected: string,
    value: string,
    ttlMs: number | undefined,
  ): MaybePromise<boolean>;
  /** Deletes `key` only if it holds exactly `expected`, atomically; returns whether it deleted. */
  compareAndDelete(key: string, expected: string): MaybePromise<boolean>;
}

/**
 * Optional, beside atomic writes: a read that takes the key's lease when the key is absent, in the
 * same atomic step (`SET key <lease> NX GET PX <ttl>` on Redis 7). The cache uses it for reads it
 * expects to miss, so a miss costs one round trip less.
 */
export interface LeasingReadStore {
  /**
   * Returns the text under `key`, like `get`; when the key is absent, writes `lease` under it
   * (expiring after `ttlMs`) in the same atomic step and returns `undefined` or `null`.
   */
  getOrLease(key: string, lease: string, ttlMs: number): MaybePromise<string | null | undefined>;
}

/** The store's leasing read, if it has one beside all the atomic writes. */
export function leasingReadOf(store: Store): (Store & LeasingReadStore) | undefined {
  return typeof (store as Store & Partial<LeasingReadStore>).getOrLease === 'function' &&
    atomicOf(store) !== undefined
    ? (store as Store & LeasingReadStore)
    : undefined;
}

/** The store's atomic capability, if it has every method of it. */
export function atomicOf(store: Store): (Store & AtomicStore) | undefined {
  const candidate = store as Store & Partial<AtomicStore>;
  return typeof candidate.setIfAbsent === 'function' &&
    typeof candidate.compareAndSet === 'function' &&
    typeof candidate.compareAndDelete === 'function'
    ? (candidate as Store & AtomicStore)
    : undefined;
}

/** What a key index answered for a pattern. */
export type IndexAnswer =
  /** The index found the pattern's keys and deleted them: `removed` were live. */
  | { readonly removed: number }
  /**
   * The index cannot answer, and says why; the cache then calls `deletePattern`. `disabled`: the
   * index is not kept at all (the cache says so once, loudly), rather than unfit for this pattern.
   */
  | { readonly unanswered: string; readonly disabled?: boolean };

/**
 * Optional capability: a key index, so that a pattern delete costs what it matches instead of a
 * walk of the whole keyspace. The cache tracks each key before it writes anything under it
 * (before the lease, for a computed value), and asks the index first when it invalidates.
 */
export interface IndexedStore {
  /**
   * Records `key` in the index for at least `ttlMs` (longer than anything written under it will
   * live); resolves once recorded. The cache writes nothing under `key` if this fails.
   */
  track(key: string, ttlMs: number): MaybePromise<unknown>;
  /** Deletes the tracked keys matching the Redis glob `pattern`, or says why it cannot. */
  deleteTracked(pattern: string): MaybePromise<IndexAnswer>;
}

/** The store's key index, if it has one. */
export function indexOf(store: Store): (Store & IndexedStore) | undefined {
  const candidate = store as Store & Partial<IndexedStore>;
  return typeof candidate.track === 'function' && typeof candidate.deleteTracked === 'function'
    ? (candidate as Store & IndexedStore)
    : undefined;
}

/** One operation of a batch (see {@link BatchingStore}): what the store's method of that name does. */
export type BatchOperation =
  /** `get(key)` */
  | { readonly op: 'get'; readonly key: string }
  /** `getOrLease(key, lease, ttlMs)`: sent only to a store with a leasing read. */
  | {
      readonly op: 'getOrLease';
      readonly key: string;
      readonly lease: string;
      readonly ttlMs: number;
    }
  /** `track(key, ttlMs)`: sent only to a store with a key index. */
  | { readonly op: 'track'; readonly key: string; readonly ttlMs: number }
  /** `compareAndSet(key, expected, value, ttlMs)`: sent only to a store with atomic writes. */
  | {
      readonly op: 'compareAndSet';
      readonly key: string;
      readonly expected: string;
      readonly value: string;
      readonly ttlMs: number | undefined;
    };

/**
 * Optional capability: operations sent together. The cache holds the reads of one turn of the
 * event loop (so that identical ones coalesce) and hands them over in one call, leasing reads with
 * their index records beside them, and likewise the fills of the values computed in one turn; a
 * Redis store sends them in one round trip per server.
 *
 * A store with batches also promises order for fills: a `compareAndSet` (in a batch or by the
 * method) takes effect before anything the store is handed after it, as on one connection per
 * server. The cache relies on it to answer a miss once its fill is handed over, before the store
 * confirms it.
 */
export interface BatchingStore {
  /**
   * Does what each operation's method does, sending them together (not a transaction: each one
   * takes effect on its own). Answers one promise per operation, in order, settling as that
   * method would: one failing operation rejects its own promise only. A `track` followed by the
   * `getOrLease` of the same key (a leasing read and its index record) may record the key only
   * if the lease is taken: a key found present needs no record from this read.
   */
  batch(operations: readonly BatchOperation[]): readonly Promise<unknown>[];
}

/** The store's batches, if it has them. */
export function batchingOf(store: Store): (Store & BatchingStore) | undefined {
  const candidate = store as Store & Partial<BatchingStore>;
  return typeof candidate.batch === 'function' ? (candidate as Store & BatchingStore) : undefined;
}

/** What a tag invalidation removed. */
export interface TagAnswer {
  /** How many live entries were removed. */
  readonly removed: number;
  /** The keys recorded under the tag, each deleted (some may have been gone already). */
  readonly keys: readonly string[];
}

/**
 * Optional capability: tags. An entry is recorded under its tags before it is written; a tag
 * invalidation stamps the tag, then deletes every key recorded under it. Together they close the
 * race of a tag learned from a result: see `tag`.
 */
export interface TaggingStore {
  /**
   * Records `key` under each of `tags` for at least `ttlMs`, then answers whether none of the
   * tags was invalidated at or after `since` (a `performance.now()` time of this process, when
   * the value's computation started). `false`: the value may predate an invalidation that missed
   * it (its key was not recorded yet), so the cache must not write it.
   */
  tag(key: string, tags: readonly string[], ttlMs: number, since: number): MaybePromise<boolean>;
  /** Stamps `tag` as invalidated now, then deletes every key recorded under it. */
  invalidateTag(tag: string): MaybePromise<TagAnswer>;
}

/** The store's tags capability, if it has it. */
export function taggingOf(store: Store): (Store & TaggingStore) | undefined {
  const candidate = store as Store & Partial<TaggingStore>;
  return typeof candidate.tag === 'function' && typeof candidate.invalidateTag === 'function'
    ? (candidate as Store & TaggingStore)
    : undefined;
}

/** Receives a store's change notifications (see {@link NotifyingStore}). */
export interface ChangeListener {
  /** These keys changed or went away; `null`: anything may have changed (drop everything). */
  changed(keys: readonly string[] | null): void;
  /** Notifications may be missed from now on (a connection was lost), until `ready`. */
  lost(): void;
  /** Notifications flow (again): every change from now on is reported. */
  ready(): void;
}

/**
 * Optional capability: change notifications, which keep the cache's in-process tier (`l1`)
 * coherent. `watch` reports every change of a key starting with `prefix`, by any client.
 */
export interface NotifyingStore {
  /** Starts reporting changes to `listener`; resolves to the function that stops it. */
  watch(prefix: string, listener: ChangeListener): MaybePromise<() => MaybePromise<unknown>>;
}

/** The store's change notifications, if it has them. */
export function notificationsOf(store: Store): (Store & NotifyingStore) | undefined {
  const candidate = store as Store & Partial<NotifyingStore>;
  return typeof candidate.watch === 'function' ? (candidate as Store & NotifyingStore) : undefined;
}

/**
 * Optional capability: a store with problems of its own to report, such as a connection it
 * opened failing to reconnect. Each cache made on the store hands it its `logger` when it is
 * made; a store uses the first one it is given.
 */
export interface LoggingStore {
  /** Receives the logger of a cache made on this store. */
  useLogger(logger: CacheLogger): void;
}

/** The store's logging capability, if it has it. */
export function loggingOf(store: Store): (Store & LoggingStore) | undefined {
  const candidate = store as Store & Partial<LoggingStore>;
  return typeof candidate.useLogger === 'function'
    ? (candidate as Store & LoggingStore)
    : undefined;
}

/**
 * What a cache operation returns: the value itself on a store declaring `sync: true`, a promise
 * on one declaring `sync: false`, and either (await it) when the store's type does not say.
 */
export type StoreResult<S extends Store, T> = BySync<T>[`${(S & Store)['sync']}`];

/**
 * Results by the store's `sync` declaration. A lookup rather than a conditional type, so that
 * `Cache<MemoryStore>` and `Cache<RedisStore>` are both a `Cache` (conditional types would make
 * `Cache` invariant in its store).
 */
export interface BySync<T> {
  true: T;
  false: Promise<T>;
  undefined: T | Promise<T>;
}
