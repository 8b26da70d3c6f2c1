import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { ValueTooLargeError } from '../errors.js';
import { createGlobMatcher } from '../glob.js';
import { checkOptions, type OptionSpecs, withDefaults } from '../util/options.js';
import type { AtomicStore, SyncStore } from './store.js';

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

/** An entry's size in bytes, counting keys and values as UTF-16 (2 bytes a character). */
function sizeOf(value: string, key: string): number {
  return (value.length + key.length) * 2;
}

/**
 * The embedded default store: an in-process LRU (lru-cache) bounded by entry count and bytes, with
 * per-entry TTL, answering synchronously. Pattern deletes follow Redis's glob rules exactly, so
 * code behaves the same here as on Redis. Entries are not shared between processes.
 */
export class MemoryStore implements SyncStore, AtomicStore {
  readonly sync = true;
  readonly #entries: LRUCache<string, string>;
  readonly #maxBytes: number;

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
    this.#entries.set(key, value, { ttl: ttlMs });
  }

  delete(key: string): boolean {
    const live = this.#entries.has(key);
    this.#entries.delete(key);
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
    return removed;
  }

  setIfAbsent(key: string, value: string, ttlMs: number): boolean {
    if (this.#entries.has(key)) return false;
    this.#fits(key, value);
    this.#entries.set(key, value, { ttl: ttlMs });
    return this.#entries.has(key);
  }

  compareAndSet(key: string, expected: string, value: string, ttlMs: number | undefined): boolean {
    if (this.#entries.get(key) !== expected) return false;
    this.#fits(key, value);
    this.#entries.set(key, value, ttlMs === undefined ? { noUpdateTTL: true } : { ttl: ttlMs });
    return true;
  }

  compareAndDelete(key: string, expected: string): boolean {
    if (this.#entries.get(key) !== expected) return false;
    this.#entries.delete(key);
    return true;
  }

  /** Refuses, loudly, an entry lru-cache would silently drop for its size. */
  #fits(key: string, value: string): void {
    const size = sizeOf(value, key);
    if (size > this.#maxBytes) throw new ValueTooLargeError(key, size, this.#maxBytes);
  }

  /** Removes every entry. */
  clear(): void {
    this.#entries.clear();
  }
}
