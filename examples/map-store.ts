import { createGlobMatcher, type Store } from '../src/index.js';

interface Entry {
  value: string;
  expiresAt: number;
}

/**
 * An example of a store you write yourself: the whole `Store` contract on a plain `Map`.
 *
 * - The cache hands the store ready-made text and full keys (prefix included); a store never
 *   encodes values or builds keys.
 * - The methods are `async`, as a network store's would be, and `sync` is left out, so every
 *   wrapper built on this store returns a promise.
 * - An expired entry is absent: `get` does not return it, and `delete` / `deletePattern` do not
 *   count it as removed (they still drop it).
 * - `deletePattern` takes a Redis glob; `createGlobMatcher` matches keys exactly as Redis would.
 *
 * @example
 * const cache = createCache({ store: new MapStore() });
 */
export class MapStore implements Store {
  /** Every method answers with a promise: caches on this store have promise-typed results. */
  readonly sync = false;
  readonly #entries = new Map<string, Entry>();

  async get(key: string): Promise<string | undefined> {
    return this.#live(key)?.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.#entries.set(key, { value, expiresAt: Date.now() + ttlMs });
  }

  async delete(key: string): Promise<boolean> {
    const live = this.#live(key) !== undefined;
    this.#entries.delete(key);
    return live;
  }

  async deletePattern(pattern: string): Promise<number> {
    const matches = createGlobMatcher(pattern);
    let removed = 0;
    for (const key of [...this.#entries.keys()]) {
      if (!matches(key)) continue;
      if (this.#live(key) !== undefined) removed += 1;
      this.#entries.delete(key);
    }
    return removed;
  }

  /** The entry under `key` if it has not expired; an expired one is dropped on the way. */
  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
