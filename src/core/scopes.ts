/**
 * Invalidations after the commit: inside `cache.deferInvalidations(fn)`, every invalidation this
 * cache is asked for is held (found through AsyncLocalStorage, in any nested call) and requested
 * once `fn` has resolved; if `fn` throws, none is. Nested scopes join the outermost. While held,
 * keys they will remove are not read from the store by callers inside the scope.
 *
 * The AsyncLocalStorage is made at the first scope: on Node 20 it turns on promise hooks, which
 * cost every promise something, so a cache that never defers never pays for it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { EventSource } from './events.js';

/** The invalidations one scope holds, each pattern once (with the first source that asked). */
export class Scope {
  readonly #held = new Map<string, EventSource>();
  readonly #matchers: ((key: string) => boolean)[] = [];
  readonly #matcherOf: (pattern: string) => (key: string) => boolean;

  constructor(matcherOf: (pattern: string) => (key: string) => boolean) {
    this.#matcherOf = matcherOf;
  }

  /** Holds `patterns` (full keys) until the scope ends. */
  add(patterns: readonly string[], source: EventSource): void {
    for (const pattern of patterns) {
      if (this.#held.has(pattern)) continue;
      this.#held.set(pattern, source);
      this.#matchers.push(this.#matcherOf(pattern));
    }
  }

  /** Whether a held invalidation will remove `key`. */
  matches(key: string): boolean {
    for (const matches of this.#matchers) if (matches(key)) return true;
    return false;
  }

  /** The held patterns, grouped by the source that asked for them first. */
  bySource(): Map<EventSource, string[]> {
    const grouped = new Map<EventSource, string[]>();
    for (const [pattern, source] of this.#held) {
      const patterns = grouped.get(source);
      if (patterns === undefined) grouped.set(source, [pattern]);
      else patterns.push(pattern);
    }
    return grouped;
  }
}

/** The deferral scopes of one cache. */
export class Scopes {
  #storage: AsyncLocalStorage<Scope> | undefined;

  /** The scope the current call runs in, if any. */
  current(): Scope | undefined {
    return this.#storage?.getStore();
  }

  /** Runs `fn` in `scope`; answers with what `fn` answers. */
  run<T>(scope: Scope, fn: () => T): T {
    this.#storage ??= new AsyncLocalStorage<Scope>();
    return this.#storage.run(scope, fn);
  }
}
