/**
 * `quickpost-cache/fastify`: fills a request context per request in a Fastify 5 application, so
 * the wrappers of a cache made with that request context read its values (`{{user_id}}`).
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../request-context.js';
import { runWithValues } from './run.js';

/**
 * A Fastify plugin that runs each request, from its `onRequest` hook to its handler and the hooks
 * after it, inside `requestContext`, with the values `values(request, reply)` gives, directly or
 * as a promise. It applies to the whole application (it is not encapsulated, as with
 * fastify-plugin); register it before your routes, and before any hook that calls a cached
 * function. An error thrown or rejected by `values` fails the request through Fastify's error
 * handling.
 *
 * @example
 * await app.register(requestContextPlugin(requestCtx, (request) => ({ user_id: request.headers['x-user-id'] ?? 'anonymous' })));
 */
export function requestContextPlugin<T extends object>(
  requestContext: RequestContext<T>,
  values: (request: FastifyRequest, reply: FastifyReply) => NoInfer<T> | PromiseLike<NoInfer<T>>,
): FastifyPluginCallback {
  // Fastify 5 keeps a request's async context across the parsing of its body (its
  // content-type parser runs the rest in the request's AsyncResource), so values set here reach
  // the hooks after parsing and the handler; test/helpers/adapter-cases.ts sends bodies that
  // arrive after the headers to check it.
  const plugin: FastifyPluginCallback = (app, _options, done) => {
    app.addHook('onRequest', (request, reply, next) => {
      runWithValues(
        requestContext,
        () => values(request, reply),
        () => next(),
        (error) => next(error as Error),
      );
    });
    done();
  };
  // What fastify-plugin does: skip encapsulation (the hooks apply to the whole application) and
  // state the Fastify versions this plugin is for.
  return Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: 'quickpost-cache',
    [Symbol.for('plugin-meta')]: { name: 'quickpost-cache', fastify: '5.x' },
  });
}
