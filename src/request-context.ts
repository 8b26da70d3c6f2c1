/**
 * The ambient request context: values a middleware sets once per request (the user's id, the
 * locale) and every wrapper of a cache made with `requestContext` reads for its templates, so
 * functions need not pass the request around. Backed by one AsyncLocalStorage, created at the
 * first `run`: on Node 20 an AsyncLocalStorage switches on promise hooks for the whole process,
 * so an application that never runs a request context does not pay for them.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { InvalidOptionError } from './errors.js';

const BRAND = Symbol.for('quickpost-cache.RequestContext');

/**
 * Values that follow the code of one request across `await`s: fill them with `run` (or the
 * middleware of `quickpost-cache/express`, `/fastify`, `/hono`, `/nestjs`), read them with `get`.
 * Give it to `createCache({ requestContext })` and the cache's wrappers fill placeholders such as
 * `{{user_id}}` from it. Made by {@link requestContext}.
 */
export class RequestContext<T extends object> {
  /** Marks request contexts made by any copy of this library (ESM and CommonJS copies included). */
  readonly [BRAND] = true;
  #storage: AsyncLocalStorage<T> | undefined;

  /**
   * Runs `fn` with `values` as the request context, for everything it does synchronously and
   * every promise and callback it starts; returns what `fn` returns. A nested `run` replaces the
   * values for its own `fn` (merge them yourself: `run({ ...ctx.get(), locale }, fn)`), and the
   * outer values are back once it returns.
   */
  run<R>(values: T, fn: () => R): R {
    if (typeof values !== 'object' || values === null) {
      throw new InvalidOptionError(
        'values',
        `the request context's values must be an object such as { user_id: '42' }, got ${values === null ? 'null' : typeof values}`,
      );
    }
    this.#storage ??= new AsyncLocalStorage<T>();
    return this.#storage.run(values, fn);
  }

  /** The values of the current request, or `undefined` outside any `run`. */
  get(): Readonly<T> | undefined {
    return this.#storage?.getStore();
  }
}

/**
 * Creates a request context carrying values of type `T` (for example `{ user_id: string }`).
 * Give it to `createCache({ requestContext })`, and fill it per request with your framework's
 * middleware or with `run`.
 *
 * @example
 * const requestCtx = requestContext<{ user_id: string }>();
 * const cache = createCache({ requestContext: requestCtx });
 * app.use(requestContextMiddleware(requestCtx, (req) => ({ user_id: req.user.id })));
 */
export function requestContext<T extends object>(): RequestContext<T> {
  return new RequestContext<T>();
}

/** True for a request context made by `requestContext`, also by another copy of the library. */
export function isRequestContext(value: unknown): value is RequestContext<object> {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[BRAND] === true
  );
}
