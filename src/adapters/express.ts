/**
 * `quickpost-cache/express`: fills a request context per request in an Express 5 application, so
 * the wrappers of a cache made with that request context read its values (`{{user_id}}`).
 */
import type { Request, RequestHandler, Response } from 'express';
import type { RequestContext } from '../request-context.js';
import { runWithValues } from './run.js';

/**
 * An Express middleware that runs the rest of each request (the middleware after it and the
 * route's handlers, across their `await`s) inside `requestContext`, with the values
 * `values(req, res)` gives, directly or as a promise. Register it after the middleware that
 * authenticates the user and after body parsers. An error thrown or rejected by `values` goes to
 * Express's error handling.
 *
 * @example
 * app.use(requestContextMiddleware(requestCtx, (req) => ({ user_id: req.get('x-user-id') ?? 'anonymous' })));
 */
export function requestContextMiddleware<T extends object>(
  requestContext: RequestContext<T>,
  values: (req: Request, res: Response) => NoInfer<T> | PromiseLike<NoInfer<T>>,
): RequestHandler {
  return (req, res, next) => {
    runWithValues(requestContext, () => values(req, res), next, next);
  };
}
