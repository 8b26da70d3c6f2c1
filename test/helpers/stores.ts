import { type CacheLogger, MemoryStore, type Store } from '../../src/index.js';

/** A MemoryStore that answers with promises, like any networked store. */
export class AsyncMemoryStore implements Store {
  readonly inner = new MemoryStore();
  /** Every call, in order, as `method key`. */
  readonly calls: string[] = [];

  async get(key: string): Promise<string | undefined> {
    this.calls.push(`get ${key}`);
    return this.inner.get(key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.calls.push(`set ${key}`);
    this.inner.set(key, value, ttlMs);
  }

  async delete(key: string): Promise<boolean> {
    this.calls.push(`delete ${key}`);
    return this.inner.delete(key);
  }

  async deletePattern(pattern: string): Promise<number> {
    this.calls.push(`deletePattern ${pattern}`);
    return this.inner.deletePattern(pattern);
  }
}

/** Methods of a {@link Store}, for choosing which ones fail. */
type StoreMethod = 'get' | 'set' | 'delete' | 'deletePattern';

/**
 * A store whose chosen methods fail (reject) or hang (never answer, like a frozen server); the
 * others answer from memory. Both sets can be changed during a test.
 */
export class ChaosStore implements Store {
  readonly inner = new MemoryStore();
  readonly failing: Set<StoreMethod>;
  readonly hanging: Set<StoreMethod>;
  readonly error = new Error('store is down');
  /** How many calls each method received. */
  readonly calls: Record<StoreMethod, number> = { get: 0, set: 0, delete: 0, deletePattern: 0 };

  constructor(chaos: { failing?: StoreMethod[]; hanging?: StoreMethod[] }) {
    this.failing = new Set(chaos.failing);
    this.hanging = new Set(chaos.hanging);
  }

  get(key: string): Promise<string | undefined> {
    return this.#answer('get', () => this.inner.get(key));
  }

  set(key: string, value: string, ttlMs: number): Promise<void> {
    return this.#answer('set', () => this.inner.set(key, value, ttlMs));
  }

  delete(key: string): Promise<boolean> {
    return this.#answer('delete', () => this.inner.delete(key));
  }

  deletePattern(pattern: string): Promise<number> {
    return this.#answer('deletePattern', () => this.inner.deletePattern(pattern));
  }

  #answer<T>(method: StoreMethod, run: () => T): Promise<T> {
    this.calls[method] += 1;
    if (this.hanging.has(method)) return new Promise<T>(() => undefined);
    return this.failing.has(method) ? Promise.reject(this.error) : Promise.resolve(run());
  }
}

/** A logger that keeps every line, per level. */
export function recordingLogger(): CacheLogger & { lines: Record<keyof CacheLogger, string[]> } {
  const lines: Record<keyof CacheLogger, string[]> = { debug: [], info: [], warn: [], error: [] };
  return {
    lines,
    debug: (message) => lines.debug.push(message),
    info: (message) => lines.info.push(message),
    warn: (message) => lines.warn.push(message),
    error: (message) => lines.error.push(message),
  };
}

/** A promise with its resolve function outside, to force interleavings in tests. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}
