import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { ValueTooLargeError } from '../errors.js';
import { createGlobMatcher } from '../glob.js';
import { checkOptions, type OptionSpecs, withDefaults } from '../util/options.js';
import { levelOf, levelsOf } from './levels.js';
import type {
  AtomicStore,
  ChangeListener,
  IndexAnswer,
  IndexedStore,
  LeasingReadStore,
  NotifyingStore,
  SyncStore,
  TagAnswer,
  TaggingStore,
} from './store.js';
import { TAG_STAMP_TTL_MS } from './tags.js';

/** Bounds of a {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most entries kept; the least recently used is evicted beyond it.
   * @default 10_000
   */
  maxEntries?: number | undefined;
  /**
   * Most bytes kept, counting keys and values as UTF-16 (2 bytes a character).
   * @default 67_108_864 (64 MiB)
   */
  maxBytes?: number | undefined;
}

/** Each option of {@link MemoryStore}: its check, what it must be, its default. */
const memoryStoreOptionSpecs = {
  maxEntries: {
    schema: z.int().positive().optional(),
    expect: 'must be a positive integer',
    default: 10_000,
  },
  maxBytes: {
    schema: z.int().positive().optional(),
    expect: 'must be a positive integer',
    default: 64 * 1024 * 1024,
  },
} as const satisfies OptionSpecs<MemoryStoreOptions>;

/** One index level of a MemoryStore. */
interface Level {
  /** Each tracked key, with the time (epoch ms) until which it is kept. */
  readonly keys: Map<string, number>;
  /** The size at which the level is pruned next. */
  pruneAt: number;
}

/** One tag of a MemoryStore. */
interface TagRecord {
  /** Each key recorded under the tag, with the time (epoch ms) until which it is kept. */
  readonly keys: Map<string, number>;
  /** When the tag was last invalidated (`performance.now()`), if within the stamp's life. */
  stamp: number | undefined;
  /** The number of keys at which the record is pruned next. */
  pruneAt: number;
}

/** Forgets a tag's keys whose time is up; then prunes again when they have doubled. */
function pruneRecord(record: TagRecord, now = Date.now()): void {
  for (const [key, until] of record.keys) if (until <= now) record.keys.delete(key);
  record.pruneAt = Math.max(64, record.keys.size * 2);
}

/** An entry's size in bytes, counting keys and values as UTF-16 (2 bytes a character). */
function sizeOf(value: string, key: string): number {
  return (value.length + key.length) * 2;
}

/**
 * The embedded default store: an in-process LRU (lru-cache) bounded by entry count and bytes, with
 * per-entry TTL, answering synchronously. Pattern deletes follow Redis's glob rules exactly, so
 * code behaves the same here as on Redis. Entries are not shared between processes.
 */
export class MemoryStore
  implements SyncStore, AtomicStore, LeasingReadStore, IndexedStore, NotifyingStore, TaggingStore
{
  readonly sync = true;
  readonly #entries: LRUCache<string, string>;
  readonly #maxBytes: number;
  /** Who is told about changes (see `watch`). */
  readonly #watchers = new Set<{ readonly prefix: string; readonly listener: ChangeListener }>();
  /** The key index: per level (see levels.ts), each tracked key and until when it is kept. */
  readonly #levels = new Map<string, Level>();
  /** Per tag: the keys recorded under it (until when, epoch ms) and its invalidation stamp. */
  readonly #tags = new Map<string, TagRecord>();
  /** The number of tags at which forgotten ones are swept next. */
  #sweepTagsAt = 1024;

  constructor(options: MemoryStoreOptions = {}) {
    checkOptions(memoryStoreOptionSpecs, options, 'MemoryStore');
    const { maxEntries, maxBytes } = withDefaults(memoryStoreOptionSpecs, options);
    this.#maxBytes = maxBytes;
    this.#entries = new LRUCache<string, string>({
      max: maxEntries,
      maxSize: maxBytes,
      sizeCalculation: sizeOf,
      // The wall clock (rather than performance.now), looked up at each call: it is what entries'
      // logical expiry uses, and test clocks can move it. ttlResolution 0 reads it on every check.
      perf: { now: () => Date.now() },
      ttlResolution: 0,
    });
  }

  /** How many entries are stored (expired ones included until they are touched or evicted). */
  get size(): number {
    return this.#entries.size;
  }

  get(key: string): string | undefined {
    return this.#entries.get(key);
  }

  /** Stores `value`; throws `ValueTooLargeError` for an entry larger than `maxBytes`. */
  set(key: string, value: string, ttlMs: number): void {
    this.#fits(key, value);
    this.track(key, ttlMs);
    this.#entries.set(key, value, { ttl: ttlMs });
    this.#changed([key]);
  }

  delete(key: string): boolean {
    const live = this.#entries.has(key);
    this.#entries.delete(key);
    this.#changed([key]);
    return live;
  }

  deletePattern(pattern: string): number {
    const matches = createGlobMatcher(pattern);
    const doomed = Array.from(this.#entries.keys()).filter(matches);
    let removed = 0;
    for (const key of doomed) {
      if (this.#entries.has(key)) removed += 1;
      this.#entries.delete(key);
    }
    this.#changed(doomed);
    return removed;
  }

  /** The text under `key`; when absent, writes `lease` for `ttlMs` and returns `undefined`. */
  getOrLease(key: string, lease: string, ttlMs: number): string | undefined {
    const found = this.#entries.get(key);
    if (found !== undefined) return found;
    this.setIfAbsent(key, lease, ttlMs);
    return undefined;
  }

  setIfAbsent(key: string, value: string, ttlMs: number): boolean {
    if (this.#entries.has(key)) return false;
    this.#fits(key, value);
    this.track(key, ttlMs);
    this.#entries.set(key, value, { ttl: ttlMs });
    this.#changed([key]);
    return this.#entries.has(key);
  }

  compareAndSet(key: string, expected: string, value: string, ttlMs: number | undefined): boolean {
    if (this.#entries.get(key) !== expected) return false;
    this.#fits(key, value);
    if (ttlMs !== undefined) this.track(key, ttlMs);
    this.#entries.set(key, value, ttlMs === undefined ? { noUpdateTTL: true } : { ttl: ttlMs });
    this.#changed([key]);
    return true;
  }

  compareAndDelete(key: string, expected: string): boolean {
    if (this.#entries.get(key) !== expected) return false;
    this.#entries.delete(key);
    this.#changed([key]);
    return true;
  }

  /**
   * Reports every change of a key starting with `prefix` to `listener`, at once (in the same
   * synchronous step as the change); notifications cannot be lost in process.
   */
  watch(prefix: string, listener: ChangeListener): () => void {
    const watcher = { prefix, listener };
    this.#watchers.add(watcher);
    listener.ready();
    return () => {
      this.#watchers.delete(watcher);
    };
  }

  #changed(keys: readonly string[]): void {
    if (this.#watchers.size === 0 || keys.length === 0) return;
    for (const { prefix, listener } of this.#watchers) {
      const mine = keys.filter((key) => key.startsWith(prefix));
      if (mine.length > 0) listener.changed(mine);
    }
  }

  /**
   * Records `key` under each of its index levels for at least `ttlMs`. Every write records its
   * key too (in the same synchronous step), so keys written around the cache are indexed as well.
   */
  track(key: string, ttlMs: number): void {
    const until = Date.now() + ttlMs;
    for (const name of levelsOf(key)) {
      let level = this.#levels.get(name);
      if (level === undefined) {
        level = { keys: new Map(), pruneAt: 64 };
        this.#levels.set(name, level);
      }
      level.keys.set(key, Math.max(until, level.keys.get(key) ?? 0));
      if (level.keys.size >= level.pruneAt) this.#prune(name, level);
    }
  }

  /**
   * Deletes the tracked keys of the pattern's level that match it. Tracked keys are forgotten only
   * when their time is up, never when deleted: one tracked again by a new lease must stay known.
   */
  deleteTracked(pattern: string): IndexAnswer {
    const name = levelOf(pattern);
    if (name === undefined) {
      return {
        unanswered:
          'the pattern has a wildcard right after the prefix, so no index level holds its keys',
      };
    }
    const level = this.#levels.get(name);
    if (level === undefined) return { removed: 0 };
    const matches = createGlobMatcher(pattern);
    let removed = 0;
    const gone: string[] = [];
    for (const key of level.keys.keys()) {
      if (!matches(key)) continue;
      if (this.#entries.has(key)) removed += 1;
      this.#entries.delete(key);
      gone.push(key);
    }
    this.#prune(name, level);
    this.#changed(gone);
    return { removed };
  }

  /**
   * Records `key` under each of `tags` for at least `ttlMs`; answers whether none of them was
   * invalidated at or after `since` (both on `performance.now()`'s clock).
   */
  tag(key: string, tags: readonly string[], ttlMs: number, since: number): boolean {
    const until = Date.now() + ttlMs;
    let clean = true;
    for (const name of tags) {
      const record = this.#tagRecord(name);
      record.keys.set(key, Math.max(until, record.keys.get(key) ?? 0));
      if (record.keys.size >= record.pruneAt) pruneRecord(record);
      if (record.stamp !== undefined && record.stamp >= since) clean = false;
    }
    return clean;
  }

  /** Stamps `tag` as invalidated now, then deletes every live key recorded under it. */
  invalidateTag(tag: string): TagAnswer {
    const record = this.#tagRecord(tag);
    record.stamp = performance.now();
    const now = Date.now();
    const keys: string[] = [];
    let removed = 0;
    for (const [key, until] of record.keys) {
      record.keys.delete(key);
      if (until <= now) continue;
      keys.push(key);
      if (this.#entries.has(key)) removed += 1;
      this.#entries.delete(key);
    }
    this.#changed(keys);
    return { removed, keys };
  }

  /** The record of a tag, made when missing; sweeps forgotten tags when their number doubled. */
  #tagRecord(name: string): TagRecord {
    let record = this.#tags.get(name);
    if (record === undefined) {
      record = { keys: new Map(), stamp: undefined, pruneAt: 64 };
      this.#tags.set(name, record);
      if (this.#tags.size >= this.#sweepTagsAt) this.#sweepTags();
    }
    return record;
  }

  /** Forgets recorded keys whose time is up, and tags with no keys and no stamp worth keeping. */
  #sweepTags(): void {
    const now = Date.now();
    const stampsFrom = performance.now() - TAG_STAMP_TTL_MS;
    for (const [name, record] of this.#tags) {
      pruneRecord(record, now);
      if (record.stamp !== undefined && record.stamp < stampsFrom) record.stamp = undefined;
      if (record.keys.size === 0 && record.stamp === undefined) this.#tags.delete(name);
    }
    this.#sweepTagsAt = Math.max(1024, this.#tags.size * 2);
  }

  /** Forgets the keys of a level whose time is up; then prunes again when it has doubled. */
  #prune(name: string, level: Level): void {
    const now = Date.now();
    for (const [key, until] of level.keys) if (until <= now) level.keys.delete(key);
    if (level.keys.size === 0) this.#levels.delete(name);
    level.pruneAt = Math.max(64, level.keys.size * 2);
  }

  /** Refuses, loudly, an entry lru-cache would silently drop for its size. */
  #fits(key: string, value: string): void {
    const size = sizeOf(value, key);
    if (size > this.#maxBytes) throw new ValueTooLargeError(key, size, this.#maxBytes);
  }

  /** Removes every entry. */
  clear(): void {
    this.#entries.clear();
    this.#levels.clear();
    this.#tags.clear();
    for (const { listener } of this.#watchers) listener.changed(null);
  }
}
