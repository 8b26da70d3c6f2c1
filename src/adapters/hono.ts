/**
 * `quickpost-cache/hono`: fills a request context per request in a Hono application, so the
 * wrappers of a cache made with that request context read its values (`{{user_id}}`).
 */
import type { Context, Env, MiddlewareHandler } from 'hono';
import type { RequestContext } from '../request-context.js';

/**
 * A Hono middleware that runs the rest of each request (the middleware after it and the
 * handler, across their `await`s) inside `requestContext`, with the values `values(c)` gives,
 * directly or as a promise. Register it after the middleware that authenticates the user.
 *
 * @example
 * app.use(requestContextMiddleware(requestCtx, (c) => ({ user_id: c.req.header('x-user-id') ?? 'anonymous' })));
 */
export function requestContextMiddleware<T extends object, E extends Env = Env>(
  requestContext: RequestContext<T>,
  values: (c: Context<E>) => NoInfer<T> | PromiseLike<NoInfer<T>>,
): MiddlewareHandler<E> {
  return async (c, next) => {
    const given = await values(c);
    await requestContext.run(given, next);
  };
}
