import { type Cache, createCache, isCache } from './cache.js';
import type { CacheOptions } from './core/options.js';
import { InvalidOptionError } from './errors.js';
import type { MemoryStore } from './stores/memory.js';
import type { Store } from './stores/store.js';
import type { NoAmbient } from './template/index.js';
import { describe } from './util/options.js';
import type { CacheableOptions } from './wrappers/cacheable.js';
import type { InvalidatingOptions } from './wrappers/invalidating.js';
import { looksLike, type WrappedFunction } from './wrappers/shared.js';

let configured: Cache<Store> | undefined;
let fallback: Cache<Store> | undefined;

/**
 * Sets the cache used by the plain `cacheable` and `invalidating` functions when they are given
 * no `cache`; pass a cache or options for a new one. Returns that cache. Wrappers made earlier
 * switch to it on their next call.
 */
export function configureCache<S extends Store = MemoryStore, A extends object = NoAmbient>(
  cacheOrOptions: Cache<S, A> | CacheOptions<S, A> = {},
): Cache<S, A> {
  const cache = isCache(cacheOrOptions) ? cacheOrOptions : createCache(cacheOrOptions);
  configured = cache as Cache<Store>;
  return cache as Cache<S, A>;
}

/** The cache given to `configureCache`, else a process-wide cache on a `MemoryStore`. */
export function getDefaultCache(): Cache<Store> {
  if (configured !== undefined) return configured;
  fallback ??= createCache() as Cache<Store>;
  return fallback;
}

/** The `cache` option of the plain wrappers. */
export interface WithCache<S extends Store, Ambient extends object = NoAmbient> {
  /**
   * The cache to use. Without it, the wrapper uses `getDefaultCache()` at each call and always
   * returns a promise (the default cache's store is not known when the wrapper is made).
   */
  cache: Cache<S, Ambient>;
}

/** `cache.cacheable(fn, options)` on `options.cache`, or on the default cache. */
export function cacheable<
  A extends unknown[],
  R,
  const T extends string,
  S extends Store,
  Ambient extends object = NoAmbient,
>(
  fn: (...args: A) => R,
  options: CacheableOptions<A, R, T, Ambient> & WithCache<S, Ambient>,
): WrappedFunction<A, R, S>;
export function cacheable<A extends unknown[], R, const T extends string>(
  fn: (...args: A) => R,
  options: CacheableOptions<A, R, T> & { cache?: undefined },
): (...args: A) => Promise<Awaited<R>>;
export function cacheable<A extends unknown[], R, const T extends string>(
  fn: (...args: A) => R,
  options: CacheableOptions<A, R, T> & { cache?: unknown },
): (...args: A) => unknown {
  const { cache, ...rest } = options;
  return onCache(cache, fn, options.name, (target) =>
    target.cacheable(fn, rest as CacheableOptions<A, R, T>),
  );
}

/** `cache.invalidating(fn, options)` on `options.cache`, or on the default cache. */
export function invalidating<
  A extends unknown[],
  R,
  const P extends string,
  S extends Store,
  Ambient extends object = NoAmbient,
>(
  fn: (...args: A) => R,
  options: InvalidatingOptions<A, R, P, Ambient> & WithCache<S, Ambient>,
): WrappedFunction<A, R, S>;
export function invalidating<A extends unknown[], R, const P extends string>(
  fn: (...args: A) => R,
  options: InvalidatingOptions<A, R, P> & { cache?: undefined },
): (...args: A) => Promise<Awaited<R>>;
export function invalidating<A extends unknown[], R, const P extends string>(
  fn: (...args: A) => R,
  options: InvalidatingOptions<A, R, P> & { cache?: unknown },
): (...args: A) => unknown {
  const { cache, ...rest } = options;
  return onCache(cache, fn, options.name, (target) =>
    target.invalidating(fn, rest as InvalidatingOptions<A, R, P>),
  );
}

/**
 * With an explicit cache, wraps on it. Without, wraps on the default cache now (so options are
 * checked at once) and again whenever the default cache has changed since.
 */
function onCache<A extends unknown[]>(
  cache: unknown,
  fn: (...args: A) => unknown,
  name: string | undefined,
  wrap: (cache: Cache<Store>) => (...args: A) => unknown,
): (...args: A) => unknown {
  if (cache !== undefined) {
    if (!isCache(cache)) {
      throw new InvalidOptionError(
        'cache',
        `\`cache\` must be a cache made by createCache(), got ${describe(cache)}`,
      );
    }
    return wrap(cache as Cache<Store>);
  }
  let current = getDefaultCache();
  let wrapped = wrap(current);
  const wrapper = function (this: unknown, ...args: A): Promise<unknown> {
    try {
      const target = getDefaultCache();
      if (target !== current) {
        current = target;
        wrapped = wrap(target);
      }
      return Promise.resolve(Reflect.apply(wrapped, this, args));
    } catch (error) {
      return Promise.reject(error);
    }
  };
  return looksLike(wrapper, fn, name);
}
