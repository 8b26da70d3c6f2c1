import { CacheCore } from './cache/core.js';
import type { CacheOptions } from './cache/options.js';
import type { MemoryStore } from './stores/memory.js';
import type { Store } from './stores/store.js';
import { type CacheableOptions, wrapCacheable } from './wrappers/cacheable.js';
import { type InvalidatingOptions, wrapInvalidating } from './wrappers/invalidating.js';
import type { WrappedFunction } from './wrappers/shared.js';

const BRAND = Symbol.for('quickpost-cache.Cache');

/** A cache: the manual API (`get`, `set`, `delete`, `deletePattern`, `getOrSet`) and the wrappers. */
export class Cache<S extends Store = MemoryStore> extends CacheCore<S> {
  /** Marks caches made by any copy of this library (ESM and CommonJS copies included). */
  readonly [BRAND] = true;

  /**
   * Wraps `fn` so its results are cached under the key template `options.key`, filled from
   * `options.context(...args)`. Throws at once for a malformed template or a bad option.
   *
   * @example
   * const getPost = cache.cacheable(async (req: Req, slug: string) => db.post(slug), {
   *   key: 'posts:{{slug}}',
   *   context: (req, slug) => ({ slug }),
   *   ttl: 600,
   * });
   */
  cacheable<A extends unknown[], R, const T extends string>(
    fn: (...args: A) => R,
    options: CacheableOptions<A, R, T>,
  ): WrappedFunction<A, R, S> {
    return wrapCacheable(this, fn, options);
  }

  /**
   * Wraps the mutation `fn` so that, once it succeeds, the keys matching `options.patterns` are
   * deleted. Its result or error passes through unchanged; a failed mutation deletes nothing.
   *
   * @example
   * const updatePost = cache.invalidating(async (req: Req, slug: string, data: PostInput) => db.save(slug, data), {
   *   patterns: ['posts:{{slug}}:*', 'posts:list:*'],
   *   context: (req, slug) => ({ slug }),
   * });
   */
  invalidating<A extends unknown[], R, const P extends string>(
    fn: (...args: A) => R,
    options: InvalidatingOptions<A, R, P>,
  ): WrappedFunction<A, R, S> {
    return wrapInvalidating(this, fn, options);
  }
}

/**
 * Creates a cache. Every option is checked now; a bad one throws `InvalidOptionError`.
 *
 * @example
 * const cache = createCache({ prefix: 'blog', ttl: 600 });
 */
export function createCache<S extends Store = MemoryStore>(
  options: CacheOptions<S> = {},
): Cache<S> {
  return new Cache<S>(options);
}

/** True for a cache made by `createCache`, also by another copy of the library. */
export function isCache(value: unknown): value is Cache<Store> {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[BRAND] === true
  );
}
