import {
  type AtomicStore,
  type BatchingStore,
  type BatchOperation,
  type CacheLogger,
  type IndexAnswer,
  type IndexedStore,
  type LeasingReadStore,
  MemoryStore,
  type Store,
} from '../../src/index.js';

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

/**
 * A MemoryStore behind promises with every capability a networked store can have, batches
 * included, as a custom store would write them. It records each batch (`op key` per operation)
 * and every other call; an operation named in `failing` (by its key, or as `op key`) rejects, as
 * one failing command of a Redis pipeline would.
 */
export class BatchingMemoryStore
  implements Store, AtomicStore, LeasingReadStore, IndexedStore, BatchingStore
{
  readonly sync = false;
  readonly inner = new MemoryStore();
  /** Each batch the store received, as `op key` per operation. */
  readonly batches: string[][] = [];
  /** Every call but `batch`, as `method key`. */
  readonly calls: string[] = [];
  /** Operations that reject, in a batch or not: every one on a key, or one (`op key`). */
  readonly failing = new Set<string>();
  /** While set, a `compareAndSet` takes effect at once and answers when this resolves. */
  #answersHeld: Promise<void> | undefined;

  /**
   * Holds the answers of `compareAndSet`s from now on, as a slow link holds Redis's replies to
   * writes it applied in order; the function returned lets them through.
   */
  holdFillAnswers(): () => void {
    let resolve: (() => void) | undefined;
    this.#answersHeld = new Promise<void>((done) => {
      resolve = done;
    });
    return () => {
      this.#answersHeld = undefined;
      resolve?.();
    };
  }

  async get(key: string): Promise<string | undefined> {
    return this.#run('get', key, () => this.inner.get(key));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.#run('set', key, () => this.inner.set(key, value, ttlMs));
  }

  async delete(key: string): Promise<boolean> {
    return this.#run('delete', key, () => this.inner.delete(key));
  }

  async deletePattern(pattern: string): Promise<number> {
    return this.#run('deletePattern', pattern, () => this.inner.deletePattern(pattern));
  }

  async getOrLease(key: string, lease: string, ttlMs: number): Promise<string | undefined> {
    return this.#run('getOrLease', key, () => this.inner.getOrLease(key, lease, ttlMs));
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.#run('setIfAbsent', key, () => this.inner.setIfAbsent(key, value, ttlMs));
  }

  async compareAndSet(
    key: string,
    expected: string,
    value: string,
    ttlMs: number | undefined,
  ): Promise<boolean> {
    const done = this.#run('compareAndSet', key, () =>
      this.inner.compareAndSet(key, expected, value, ttlMs),
    );
    const held = this.#answersHeld;
    return held === undefined ? done : held.then(() => done);
  }

  async compareAndDelete(key: string, expected: string): Promise<boolean> {
    return this.#run('compareAndDelete', key, () => this.inner.compareAndDelete(key, expected));
  }

  async track(key: string, ttlMs: number): Promise<void> {
    this.#run('track', key, () => this.inner.track(key, ttlMs));
  }

  async deleteTracked(pattern: string): Promise<IndexAnswer> {
    return this.#run('deleteTracked', pattern, () => this.inner.deleteTracked(pattern));
  }

  batch(operations: readonly BatchOperation[]): Promise<unknown>[] {
    this.batches.push(operations.map((operation) => `${operation.op} ${operation.key}`));
    return operations.map(async (operation) => {
      this.#check(operation.op, operation.key);
      switch (operation.op) {
        case 'get':
          return this.inner.get(operation.key);
        case 'getOrLease':
          return this.inner.getOrLease(operation.key, operation.lease, operation.ttlMs);
        case 'track':
          return this.inner.track(operation.key, operation.ttlMs);
        case 'compareAndSet': {
          const { key, expected, value, ttlMs } = operation;
          const done = this.inner.compareAndSet(key, expected, value, ttlMs);
          const held = this.#answersHeld;
          return held === undefined ? done : held.then(() => done);
        }
      }
    });
  }

  #run<T>(method: string, key: string, call: () => T): T {
    this.calls.push(`${method} ${key}`);
    this.#check(method, key);
    return call();
  }

  #check(method: string, key: string): void {
    if (this.failing.has(key) || this.failing.has(`${method} ${key}`)) {
      throw new Error(`failing: ${method} ${key}`);
    }
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
