import { describe } from '../util/options.js';
import type { CacheEventMap, CacheEventName, CacheListener } from './events.js';
import type { CacheLogger } from './options.js';

/** Anything events can be listened to on (a cache). */
interface Listenable {
  on<E extends CacheEventName>(event: E, listener: CacheListener<E>): () => void;
}

/** How each event reads as a debug line, in the original system's form. */
const LINES: { [E in CacheEventName]?: (event: CacheEventMap[E]) => string } = {
  lookup: ({ source, context, key }) =>
    `[Cache] ${source.name} | Context: ${contextJson(context)} | Key: ${key}`,
  mutation: ({ source, context, patterns }) =>
    `[Cache] ${source.name} | Context: ${contextJson(context)} | Patterns: ${patterns.join(', ')}`,
  hit: ({ key }) => `[Cache] HIT: ${key}`,
  stale: ({ key }) => `[Cache] STALE: ${key} (served while refreshing)`,
  miss: ({ key }) => `[Cache] MISS: ${key}`,
  wait: ({ key }) => `[Cache] WAIT: ${key} (being computed elsewhere)`,
  set: ({ key, ttlMs }) => `[Cache] SET: ${key} (TTL: ${ttlMs / 1000}s)`,
  skip: ({ key, reason }) => `[Cache] SKIP: ${key} (${reason})`,
  invalid: ({ key, reason }) => `[Cache] INVALID: ${key} (${reason}; deleted)`,
  refresh: ({ key, reason }) => `[Cache] REFRESH: ${key} (${reason})`,
  invalidate: ({ pattern, count, attempts }) =>
    `[Cache] INVALIDATE: ${pattern} (${count} ${count === 1 ? 'key' : 'keys'}${attempts > 1 ? `, attempt ${attempts}` : ''})`,
  scan: ({ pattern, reason }) => `[Cache] SCAN: ${pattern} (${reason})`,
  invalidationRetry: ({ pattern, attempt }) =>
    `[Cache] INVALIDATE RETRY: ${pattern} (attempt ${attempt})`,
  delete: ({ key, removed }) => `[Cache] DELETE: ${key}${removed ? '' : ' (absent)'}`,
};

/**
 * Debug mode is one listener per event: it writes the event as a line through `logger.debug` when
 * the event's source (the cache, or one wrapper) has debug on.
 */
export function debugLogger(cache: Listenable, logger: CacheLogger): void {
  for (const name of Object.keys(LINES) as CacheEventName[]) {
    const line = LINES[name] as (event: CacheEventMap[CacheEventName]) => string;
    cache.on(name, (event) => {
      if ('source' in event && event.source.debug) logger.debug(line(event));
    });
  }
}

/** JSON for debug lines that survives bigints and cycles. */
function contextJson(context: unknown): string {
  try {
    return JSON.stringify(context, (_key, value) =>
      typeof value === 'bigint' ? `${value}n` : value,
    );
  } catch {
    return describe(context);
  }
}
