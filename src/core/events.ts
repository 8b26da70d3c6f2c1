/** What an invalidation removes: the keys matching a pattern, or the entries carrying a tag. */
export type InvalidationKind = 'pattern' | 'tag';

/** Who an event is about: a wrapper (its name and key template) or the manual API. */
export interface EventSource {
  /**
   * The `name` option, else the wrapped function's name, else `cacheable(<key template>)` or
   * `invalidating(<patterns>)`; `'manual'` for the manual API.
   */
  readonly name: string;
  /** The key template or patterns as written, e.g. `posts:{{slug}}`; empty for the manual API. */
  readonly template: string;
  /** Whether debug lines are wanted for this source. */
  readonly debug: boolean;
}

/** Every event a cache emits, by name, with what its listeners receive. */
export interface CacheEventMap {
  /**
   * A wrapper was called: the context it extracted (all of it: debug lines show only the
   * template's values) and the key it rendered.
   */
  lookup: { source: EventSource; key: string; context: unknown };
  /**
   * A mutation wrapper succeeded and is about to delete these (full) patterns and the entries
   * carrying these (full) tags, rendered from `context` (all the extractor returned).
   */
  mutation: {
    source: EventSource;
    patterns: readonly string[];
    tags: readonly string[];
    context: unknown;
  };
  /** A fresh value was read from the cache. */
  hit: { source: EventSource; key: string };
  /** A stale value (within `staleTtl`) was served while one caller refreshes it. */
  stale: { source: EventSource; key: string };
  /** Nothing usable was cached; the function runs (or another caller's result is awaited). */
  miss: { source: EventSource; key: string };
  /**
   * The cached function ran (on a miss, a refresh, or while the store was skipped) and finished
   * after `durationMs`; `error` is what it threw or rejected with, when it failed.
   */
  load: { source: EventSource; key: string; durationMs: number; error?: unknown };
  /** Another process holds the lease of this key: waiting for its value. */
  wait: { source: EventSource; key: string };
  /** A value was stored. */
  set: { source: EventSource; key: string; ttlMs: number };
  /** A value was not stored: `shouldCache` declined, or an invalidation overtook its computation. */
  skip: { source: EventSource; key: string; reason: string };
  /** A stored value could not be used (unreadable, unknown format, failed the schema); it was deleted. */
  invalid: { source: EventSource; key: string; reason: string };
  /** A value is being recomputed in the background (stale, or early refresh). */
  refresh: { source: EventSource; key: string; reason: 'stale' | 'early' };
  /**
   * The store confirmed an invalidation: keys matching `pattern` (with `kind: 'tag'`: the entries
   * carrying the tag `pattern`) were deleted (`count` of them), at the `attempts`-th try.
   * `templates` are the key templates of this cache's `cacheable` wrappers whose keys the pattern
   * can match (for a tag: those of the wrappers with tags).
   */
  invalidate: {
    source: EventSource;
    kind: InvalidationKind;
    pattern: string;
    count: number;
    attempts: number;
    templates: readonly string[];
  };
  /**
   * Deleting `pattern` failed: the invalidation is kept and retried until the store confirms it,
   * and this instance serves no matching key from the store meanwhile.
   */
  invalidationPending: {
    source: EventSource;
    kind: InvalidationKind;
    pattern: string;
    error: unknown;
  };
  /**
   * A pattern delete walked the keyspace (SCAN) because the store's key index could not answer
   * it, and `reason` says why.
   */
  scan: { source: EventSource; pattern: string; reason: string };
  /** A pending invalidation is tried again (`attempt` counts from 1). */
  invalidationRetry: {
    source: EventSource;
    kind: InvalidationKind;
    pattern: string;
    attempt: number;
  };
  /** One key was deleted through the manual API. */
  delete: { source: EventSource; key: string; removed: boolean };
  /**
   * An operation failed and the cache carried on without it (a read became a miss, a fill or a
   * refresh was dropped, an invalidation failed after its mutation succeeded).
   */
  error: { source: EventSource; operation: string; key: string; error: unknown };
  /** The circuit breaker opened (the store is skipped for a cool-down) or closed again. */
  breaker: { state: 'open' | 'closed'; failures: number; error?: unknown };
}

/** The name of a cache event. */
export type CacheEventName = keyof CacheEventMap;

/** A listener of event `E`. */
export type CacheListener<E extends CacheEventName> = (event: CacheEventMap[E]) => void;

/** Something an event can also be published to: a diagnostics channel. */
export interface EventChannel {
  readonly hasSubscribers: boolean;
  publish(message: unknown): void;
}

/**
 * A small typed event emitter. `has(name)` lets hot paths skip building an event nobody hears.
 * A listener that throws is isolated: the error is reported to `onListenerError`, the operation
 * goes on. Events with a channel in `channels` are also published there, as the event with
 * `cache: owner` added, while the channel has subscribers.
 */
export class Emitter {
  /** Per event: its listeners and its channel (one lookup serves `has`). */
  readonly #hubs: { [E in CacheEventName]?: Hub<E> } = {};
  readonly #onListenerError: (error: unknown) => void;
  readonly #owner: unknown;

  constructor(
    onListenerError: (error: unknown) => void,
    channels: { readonly [E in CacheEventName]?: EventChannel } = {},
    owner?: unknown,
  ) {
    this.#onListenerError = onListenerError;
    this.#owner = owner;
    for (const [name, channel] of Object.entries(channels)) {
      (this.#hubs as Record<string, Hub<CacheEventName>>)[name] = { listeners: [], channel };
    }
  }

  on<E extends CacheEventName>(name: E, listener: CacheListener<E>): () => void {
    let hub = this.#hubs[name] as Hub<E> | undefined;
    if (hub === undefined) {
      hub = { listeners: [], channel: undefined };
      (this.#hubs as Record<string, Hub<E>>)[name] = hub;
    }
    hub.listeners.push(listener);
    return () => this.off(name, listener);
  }

  off<E extends CacheEventName>(name: E, listener: CacheListener<E>): void {
    const list = (this.#hubs[name] as Hub<E> | undefined)?.listeners;
    const index = list?.indexOf(listener) ?? -1;
    if (list !== undefined && index !== -1) list.splice(index, 1);
  }

  has(name: CacheEventName): boolean {
    const hub = this.#hubs[name];
    return hub !== undefined && (hub.listeners.length > 0 || hub.channel?.hasSubscribers === true);
  }

  emit<E extends CacheEventName>(name: E, event: CacheEventMap[E]): void {
    const hub = this.#hubs[name] as Hub<E> | undefined;
    if (hub === undefined) return;
    if (hub.channel?.hasSubscribers === true) hub.channel.publish({ ...event, cache: this.#owner });
    for (const listener of hub.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }
}

/** The listeners of one event, and the channel it is also published to. */
interface Hub<E extends CacheEventName> {
  readonly listeners: CacheListener<E>[];
  readonly channel: EventChannel | undefined;
}
