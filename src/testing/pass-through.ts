import type { SyncStore, TagAnswer, TaggingStore } from '../stores/store.js';

/**
 * A store that keeps nothing, to turn caching off in tests: every read is a miss, so every call
 * of a `cacheable` wrapper runs its function (concurrent calls of one key still share one
 * computation, as they would with caching on), writes are accepted and dropped, and invalidations
 * delete nothing. Templates, contexts and patterns are still rendered and checked, so a mistake
 * there fails the test as it would fail in production. Answers synchronously (`sync: true`), so a
 * synchronous function's wrapper stays synchronous, as on `MemoryStore`.
 *
 * @example
 * const cache = createCache({ store: new PassThroughStore() });
 */
export class PassThroughStore implements SyncStore, TaggingStore {
  /** Every method answers directly. */
  readonly sync = true;

  /** Always absent. */
  get(_key: string): undefined {
    return undefined;
  }

  /** Drops the value. */
  set(_key: string, _value: string, _ttlMs: number): void {}

  /** Nothing to remove. */
  delete(_key: string): boolean {
    return false;
  }

  /** Nothing to remove. */
  deletePattern(_pattern: string): number {
    return 0;
  }

  /** Records nothing; nothing was ever invalidated. */
  tag(_key: string, _tags: readonly string[], _ttlMs: number, _since: number): boolean {
    return true;
  }

  /** Nothing to remove. */
  invalidateTag(_tag: string): TagAnswer {
    return { removed: 0, keys: [] };
  }
}
