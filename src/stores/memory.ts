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
} from './store.js';

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
  implements SyncStore, AtomicStore, LeasingReadStore, IndexedStore, NotifyingStore
{
  readonly sync = true;
  readonly #entries: LRUCache<string, string>;
  readonly #maxBytes: number;
  /** Who is told about changes (see `watch`). */
  readonly #watchers = new Set<{ readonly prefix: string; readonly listener: ChangeListener }>();
  /** The key index: per level (see levels.ts), each tracked key and until when it is kept. */
  readonly #levels = new Map<string, Level>();

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
    for (const { listener } of this.#watchers) listener.changed(null);
  }
}
