import { type CacheLogger, MemoryStore, type Store } from '../../src/index.js';

/**
 * A MemoryStore that answers with promises, like any networked store, without atomic writes (so
 * the cache uses no leases on it), logging every call. For failing, hanging or held calls, wrap a
 * store in `ChaosStore` from `quickpost-cache/testing`.
 */
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

/** A logger that drops every line (fault tests report thousands of failed store calls). */
export const quietLogger: CacheLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

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
