import type { Cache } from '../cache.js';
import type { CacheEventMap, EventSource } from '../core/events.js';
import { compilePattern } from '../template/index.js';

/** The events a {@link CacheRecorder} keeps. */
export type RecordedKind =
  | 'hit'
  | 'stale'
  | 'miss'
  | 'set'
  | 'skip'
  | 'invalid'
  | 'invalidate'
  | 'delete'
  | 'error';

/** One event as a {@link CacheRecorder} keeps it. */
export interface RecordedEvent {
  /** Which event: a fresh `hit`, a `stale` value served, a `miss`, a `set`, a confirmed `invalidate`, … */
  readonly kind: RecordedKind;
  /** The key without the cache's `prefix:`; for `invalidate`, the rendered pattern. */
  readonly key: string;
  /** The wrapper's key template (or patterns) as written; `''` for the manual API. */
  readonly template: string;
  /** The wrapper's name; `'manual'` for the manual API. */
  readonly name: string;
}

/**
 * Counts a cache's events for assertions in tests. Each count takes a key or a key template,
 * without the cache's prefix: a key (`'posts:hello'`) counts that key's events, a template
 * (`'posts:{{slug}}'`) those of every key it can render, whichever wrapper or manual call read it.
 * Without an argument, every event of the kind counts.
 */
export interface CacheRecorder {
  /** Every recorded event since the recorder started or was last reset, oldest first. */
  readonly events: readonly RecordedEvent[];
  /** Fresh values read from the cache. */
  hits(keyOrTemplate?: string): number;
  /** Stale values served (within `staleTtl`) while one caller refreshes them. */
  stale(keyOrTemplate?: string): number;
  /** Reads that found nothing usable (the function ran, or another caller's result was awaited). */
  misses(keyOrTemplate?: string): number;
  /**
   * Values stored. A miss on a Redis store answers once its fill is sent, and its `set` follows
   * Redis's answer: `await cache.settled()` before counting.
   */
  sets(keyOrTemplate?: string): number;
  /**
   * Invalidations the store confirmed, by pattern (`'posts:{{slug}}:*'` counts every rendered
   * `posts:…:*`; `'posts:hello:*'` only that one).
   */
  invalidations(patternOrTemplate?: string): number;
  /** Events of any kind, such as `'skip'` or `'error'`. */
  count(kind: RecordedKind, keyOrTemplate?: string): number;
  /** Forgets what was recorded; recording goes on. */
  reset(): void;
  /** Stops recording (removes the recorder's listeners); the counts stay readable. */
  stop(): void;
}

/** A template's placeholder, as `{{name}}`. */
const PLACEHOLDER = /\{\{[A-Za-z_][A-Za-z0-9_]*\}\}/g;
/** What one rendered placeholder value can be (see encodeKeyValue): never a `:`. */
const VALUE = '[A-Za-z0-9_.%~-]*';

/** Whether a key (or rendered pattern) could come from `query`, a key or a key template. */
function matcherOf(query: string): (key: string) => boolean {
  if (!query.includes('{{')) return (key) => key === query;
  // Checks the template's syntax (TemplateSyntaxError for a malformed one).
  compilePattern(query);
  const literal = query
    .split(PLACEHOLDER)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const shape = new RegExp(`^${literal.join(VALUE)}$`);
  return (key) => shape.test(key);
}

/**
 * Records the hits, misses, sets and invalidations of `cache` from its events, so a test can
 * assert how its code used the cache.
 *
 * @example
 * const rec = recordCache(cache);
 * await getPost('hello');
 * await getPost('hello');
 * expect(rec.misses('posts:{{slug}}')).toBe(1);
 * expect(rec.hits('posts:hello')).toBe(1);
 * rec.stop();
 */
export function recordCache(cache: Pick<Cache, 'prefix' | 'on'>): CacheRecorder {
  const events: RecordedEvent[] = [];
  const strip = `${cache.prefix}:`;
  const record = (kind: RecordedKind, source: EventSource, key: string): void => {
    events.push({
      kind,
      key: key.startsWith(strip) ? key.slice(strip.length) : key,
      template: source.template,
      name: source.name,
    });
  };
  const keyed = (kind: RecordedKind) => (event: { source: EventSource; key: string }) =>
    record(kind, event.source, event.key);
  const stops = [
    cache.on('hit', keyed('hit')),
    cache.on('stale', keyed('stale')),
    cache.on('miss', keyed('miss')),
    cache.on('set', keyed('set')),
    cache.on('skip', keyed('skip')),
    cache.on('invalid', keyed('invalid')),
    cache.on('delete', keyed('delete')),
    cache.on('error', keyed('error')),
    cache.on('invalidate', ({ source, pattern }: CacheEventMap['invalidate']) =>
      record('invalidate', source, pattern),
    ),
  ];
  const matchers = new Map<string, (key: string) => boolean>();
  const count = (kind: RecordedKind, query?: string): number => {
    let matches: ((key: string) => boolean) | undefined;
    if (query !== undefined) {
      matches = matchers.get(query);
      if (matches === undefined) {
        matches = matcherOf(query);
        matchers.set(query, matches);
      }
    }
    let n = 0;
    for (const event of events) {
      if (event.kind === kind && (matches === undefined || matches(event.key))) n += 1;
    }
    return n;
  };
  return {
    events,
    hits: (query) => count('hit', query),
    stale: (query) => count('stale', query),
    misses: (query) => count('miss', query),
    sets: (query) => count('set', query),
    invalidations: (query) => count('invalidate', query),
    count,
    reset: () => {
      events.length = 0;
    },
    stop: () => {
      for (const stop of stops.splice(0)) stop();
    },
  };
}
