import { compilePattern, encodeKeyValue } from '../template/index.js';
import type { Log } from '../util/logger.js';
import type { CacheEventMap, CacheEventName, CacheListener, EventSource } from './events.js';

/** Anything events can be listened to on (a cache). */
interface Listenable {
  on<E extends CacheEventName>(event: E, listener: CacheListener<E>): () => void;
}

/** How each event reads as a debug line, in the original system's form. */
const LINES: { [E in CacheEventName]?: (event: CacheEventMap[E]) => string } = {
  lookup: ({ source, context, key }) =>
    `[Cache] ${source.name} | Context: ${shownContext(source, context)} | Key: ${key}`,
  mutation: ({ source, context, patterns, tags }) =>
    `[Cache] ${source.name} | Context: ${shownContext(source, context)} | ${[
      ...(patterns.length > 0 ? [`Patterns: ${patterns.join(', ')}`] : []),
      ...(tags.length > 0 ? [`Tags: ${tags.join(', ')}`] : []),
    ].join(' | ')}`,
  hit: ({ key }) => `[Cache] HIT: ${key}`,
  stale: ({ key }) => `[Cache] STALE: ${key} (served while refreshing)`,
  miss: ({ key }) => `[Cache] MISS: ${key}`,
  wait: ({ key }) => `[Cache] WAIT: ${key} (being computed elsewhere)`,
  set: ({ key, ttlMs }) => `[Cache] SET: ${key} (TTL: ${ttlMs / 1000}s)`,
  skip: ({ key, reason }) => `[Cache] SKIP: ${key} (${reason})`,
  invalid: ({ key, reason }) => `[Cache] INVALID: ${key} (${reason}; deleted)`,
  refresh: ({ key, reason }) => `[Cache] REFRESH: ${key} (${reason})`,
  invalidate: ({ kind, pattern, count, attempts }) =>
    `[Cache] INVALIDATE${kind === 'tag' ? ' TAG' : ''}: ${pattern} (${count} ${count === 1 ? 'key' : 'keys'}${attempts > 1 ? `, attempt ${attempts}` : ''})`,
  scan: ({ pattern, reason }) => `[Cache] SCAN: ${pattern} (${reason})`,
  invalidationRetry: ({ kind, pattern, attempt }) =>
    `[Cache] INVALIDATE${kind === 'tag' ? ' TAG' : ''} RETRY: ${pattern} (attempt ${attempt})`,
  delete: ({ key, removed }) => `[Cache] DELETE: ${key}${removed ? '' : ' (absent)'}`,
};

/**
 * Debug mode is one listener per event: it writes the event as a line through `logger.debug` when
 * the event's source (the cache, or one wrapper) has debug on.
 */
export function debugLogger(cache: Listenable, logger: Log): void {
  for (const name of Object.keys(LINES) as CacheEventName[]) {
    const line = LINES[name] as (event: CacheEventMap[CacheEventName]) => string;
    cache.on(name, (event) => {
      if ('source' in event && event.source.debug) logger.debug(line(event));
    });
  }
}

/** The placeholder names of each source's template or patterns, in order, once each. */
const placeholdersOf = new WeakMap<EventSource, readonly string[]>();

function placeholders(source: EventSource): readonly string[] {
  let names = placeholdersOf.get(source);
  if (names === undefined) {
    // An `invalidating` source's template is its patterns joined by ', ' (a template never holds
    // whitespace); a key template is a valid pattern too.
    const templates = source.template === '' ? [] : source.template.split(', ');
    names = [...new Set(templates.flatMap((template) => compilePattern(template).placeholders))];
    placeholdersOf.set(source, names);
  }
  return names;
}

/**
 * The context as a debug line shows it: only the values the template's placeholders take, so
 * whatever else the extractor returned (a request, a token) never reaches the log; an object or
 * array shows as the hash the key holds (`~…`), never its content; a bigint as `7n`. Called
 * after the key rendered, so every placeholder has a value.
 */
function shownContext(source: EventSource, context: unknown): string {
  const values = (context ?? {}) as Readonly<Record<string, unknown>>;
  const shown: Record<string, unknown> = {};
  for (const name of placeholders(source)) {
    const value = values[name];
    shown[name] =
      typeof value === 'object' && value !== null
        ? encodeKeyValue(value)
        : typeof value === 'bigint'
          ? `${value}n`
          : value;
  }
  return JSON.stringify(shown);
}
