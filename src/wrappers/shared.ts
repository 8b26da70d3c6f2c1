import type { BySync, Store } from '../stores/store.js';
import type { AmbientSource } from '../template/index.js';

/**
 * What a wrapper returns for a function returning `R`: a promise for async functions and for any
 * function on an async store; the plain value for a sync function on a synchronous store (and
 * either, to be awaited, when the store's type does not say whether it is synchronous).
 */
export type WrappedResult<R, S extends Store> =
  R extends PromiseLike<infer V> ? Promise<V> : BySync<R>[`${(S & Store)['sync']}`];

/** A wrapper: the wrapped function's parameters, its result as {@link WrappedResult} says. */
export type WrappedFunction<A extends unknown[], R, S extends Store> = (
  ...args: A
) => WrappedResult<R, S>;

/**
 * Gives `wrapper` the `name` and `length` of `fn`, so it looks like the function it wraps; an
 * anonymous function's wrapper takes `fallbackName` (the `name` option, else a name made from the
 * key template or patterns: see {@link nameOf}) instead.
 */
export function looksLike<W extends object>(
  wrapper: W,
  fn: { name: string; length: number },
  fallbackName?: string,
): W {
  Object.defineProperty(wrapper, 'name', {
    value: fn.name || fallbackName || '',
    configurable: true,
  });
  Object.defineProperty(wrapper, 'length', { value: fn.length, configurable: true });
  return wrapper;
}

/**
 * The name a wrapper shows in debug lines and events: the `name` option, else the function's
 * name, else what it caches or invalidates (`cacheable(posts:{{slug}})`), since arrow functions
 * passed inline have no name and every one of them would otherwise log as the same `anonymous`.
 */
export function nameOf(
  fn: { name: string },
  option: string | undefined,
  kind: 'cacheable' | 'invalidating',
  templates: string,
): string {
  return option ?? (fn.name || `${kind}(${templates})`);
}

/**
 * The context a call rendered its template(s) with, for events and debug lines: `context`, plus
 * the request context's values for the placeholders `context` left out. Only those: other values
 * of the request context (a token, a user object) never reach a listener or a log line. Without a
 * request context, `context` itself.
 */
export function withAmbient(
  context: object,
  placeholders: readonly string[],
  ambient: AmbientSource | undefined,
): object {
  const values = ambient?.get();
  if (values === undefined) return context;
  const own = context as Readonly<Record<string, unknown>>;
  let merged: Record<string, unknown> | undefined;
  for (const name of placeholders) {
    if (own[name] === undefined && values[name] !== undefined) {
      merged ??= { ...own };
      merged[name] = values[name];
    }
  }
  return merged ?? context;
}
