import { type Cache, createCache, isCache } from './cache.js';
import type { CacheOptions } from './core/options.js';
import { InvalidOptionError } from './errors.js';
import type { MemoryStore } from './stores/memory.js';
import type { Store } from './stores/store.js';
import type { NoAmbient } from './template/index.js';
import { describe } from './util/options.js';
import { type CacheableOptions, checkCacheable } from './wrappers/cacheable.js';
import {
  checkInvalidating,
  describeTargets,
  type InvalidatingOptions,
} from './wrappers/invalidating.js';
import { looksLike, nameOf, type WrappedFunction } from './wrappers/shared.js';

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

/**
 * The type of the default cache's request context values, for the types of `cacheable`,
 * `invalidating`, `@Cacheable` and `@InvalidateCache` used without `cache`: empty unless your
 * application declares it, once, to match the cache it gives `configureCache`:
 *
 * @example
 * declare module 'quickpost-cache' {
 *   interface DefaultRequestContext { user_id: string }
 * }
 */
// biome-ignore lint/suspicious/noEmptyInterface: applications fill it by declaration merging
export interface DefaultRequestContext {}

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
  const G extends string = never,
>(
  fn: (...args: A) => R,
  options: CacheableOptions<A, R, T, Ambient, G> & WithCache<S, Ambient>,
): WrappedFunction<A, R, S>;
export function cacheable<
  A extends unknown[],
  R,
  const T extends string,
  const G extends string = never,
>(
  fn: (...args: A) => R,
  options: CacheableOptions<A, R, T, DefaultRequestContext, G> & { cache?: undefined },
): (...args: A) => Promise<Awaited<R>>;
export function cacheable<A extends unknown[], R, const T extends string>(
  fn: (...args: A) => R,
  options: CacheableOptions<A, R, T, NoAmbient, string> & { cache?: unknown },
): (...args: A) => unknown {
  const { cache, ...rest } = options;
  const wrap = (target: Cache<Store>) =>
    target.cacheable(fn, rest as CacheableOptions<A, R, T, NoAmbient, string>);
  if (cache !== undefined) return wrap(onCache(cache));
  const { needsRequestContext } = checkCacheable(fn, rest);
  const name = nameOf(fn, options.name, 'cacheable', options.key);
  return onDefaultCache(fn, name, needsRequestContext, wrap);
}

/** `cache.invalidating(fn, options)` on `options.cache`, or on the default cache. */
export function invalidating<
  A extends unknown[],
  R,
  S extends Store,
  const P extends string = never,
  Ambient extends object = NoAmbient,
  const G extends string = never,
>(
  fn: (...args: A) => R,
  options: InvalidatingOptions<A, R, P, Ambient, G> & WithCache<S, Ambient>,
): WrappedFunction<A, R, S>;
export function invalidating<
  A extends unknown[],
  R,
  const P extends string = never,
  const G extends string = never,
>(
  fn: (...args: A) => R,
  options: InvalidatingOptions<A, R, P, DefaultRequestContext, G> & { cache?: undefined },
): (...args: A) => Promise<Awaited<R>>;
export function invalidating<A extends unknown[], R, const P extends string>(
  fn: (...args: A) => R,
  options: InvalidatingOptions<A, R, P, NoAmbient, string> & { cache?: unknown },
): (...args: A) => unknown {
  const { cache, ...rest } = options;
  const wrap = (target: Cache<Store>) =>
    target.invalidating(fn, rest as InvalidatingOptions<A, R, P, NoAmbient, string>);
  if (cache !== undefined) return wrap(onCache(cache));
  const { needsRequestContext } = checkInvalidating(fn, rest);
  const name = nameOf(fn, options.name, 'invalidating', describeTargets(options));
  return onDefaultCache(fn, name, needsRequestContext, wrap);
}

/** The `cache` option, checked. */
function onCache(cache: unknown): Cache<Store> {
  if (!isCache(cache)) {
    throw new InvalidOptionError(
      'cache',
      `\`cache\` must be a cache made by createCache(), got ${describe(cache)}`,
    );
  }
  return cache as Cache<Store>;
}

/**
 * A wrapper on the default cache of each call, made again whenever the default cache has changed.
 * It is made on the current default cache at once, so that options are checked now, unless only
 * a request context can fill its placeholders and that cache has none: a default cache with one
 * may be configured later (decorators run when their class is defined, often before the
 * application configures its cache), so that check waits for the first call.
 */
function onDefaultCache<A extends unknown[]>(
  fn: (...args: A) => unknown,
  name: string,
  needsRequestContext: boolean,
  wrap: (cache: Cache<Store>) => (...args: A) => unknown,
): (...args: A) => Promise<unknown> {
  let current: Cache<Store> | undefined = getDefaultCache();
  let wrapped: ((...args: A) => unknown) | undefined;
  if (needsRequestContext && current.requestContext === undefined) current = undefined;
  else wrapped = wrap(current);
  const wrapper = function (this: unknown, ...args: A): Promise<unknown> {
    try {
      const target = getDefaultCache();
      if (target !== current || wrapped === undefined) {
        current = target;
        wrapped = wrap(target);
      }
      return Promise.resolve(Reflect.apply(wrapped, this, args));
    } catch (error) {
      return Promise.reject(error);
    }
  };
  // The name of the wrappers made on a cache, made from the options if `fn` has none.
  return looksLike(wrapper, fn, name);
}
