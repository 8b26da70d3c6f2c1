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

/** What a scope holds for one source: the patterns and the tags it asked to invalidate. */
export interface HeldInvalidations {
  readonly patterns: string[];
  readonly tags: string[];
}

/**
 * The invalidations one scope holds, each pattern and each tag once (with the first source that
 * asked).
 */
export class Scope {
  readonly #patterns = new Map<string, EventSource>();
  readonly #tags = new Map<string, EventSource>();
  readonly #matchers: ((key: string) => boolean)[] = [];
  readonly #matcherOf: (pattern: string) => (key: string) => boolean;

  constructor(matcherOf: (pattern: string) => (key: string) => boolean) {
    this.#matcherOf = matcherOf;
  }

  /** Holds `patterns` (full keys) until the scope ends. */
  add(patterns: readonly string[], source: EventSource): void {
    for (const pattern of patterns) {
      if (this.#patterns.has(pattern)) continue;
      this.#patterns.set(pattern, source);
      this.#matchers.push(this.#matcherOf(pattern));
    }
  }

  /** Holds `tags` (full tags) until the scope ends. */
  addTags(tags: readonly string[], source: EventSource): void {
    for (const tag of tags) if (!this.#tags.has(tag)) this.#tags.set(tag, source);
  }

  /** Whether a held pattern will remove `key`. */
  matches(key: string): boolean {
    for (const matches of this.#matchers) if (matches(key)) return true;
    return false;
  }

  /** Whether the scope holds a tag invalidation (which may remove any tagged entry). */
  get holdsTags(): boolean {
    return this.#tags.size > 0;
  }

  /** The held invalidations, grouped by the source that asked for them first. */
  bySource(): Map<EventSource, HeldInvalidations> {
    const grouped = new Map<EventSource, HeldInvalidations>();
    const held = (source: EventSource) => {
      let group = grouped.get(source);
      if (group === undefined) {
        group = { patterns: [], tags: [] };
        grouped.set(source, group);
      }
      return group;
    };
    for (const [pattern, source] of this.#patterns) held(source).patterns.push(pattern);
    for (const [tag, source] of this.#tags) held(source).tags.push(tag);
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
