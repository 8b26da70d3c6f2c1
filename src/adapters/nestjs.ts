/**
 * `quickpost-cache/nestjs`: a NestJS 11 module that provides a cache through dependency injection
 * and fills its request context per request (an interceptor, so that guards have authenticated
 * the user first), and the method decorators `@Cacheable` and `@InvalidateCache`.
 */
import {
  type CallHandler,
  type DynamicModule,
  type ExecutionContext,
  Global,
  Module,
  type NestInterceptor,
} from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { from, mergeMap, type Observable } from 'rxjs';
import { Cache, isCache } from '../cache.js';
import { configureCache } from '../defaults.js';
import { InvalidOptionError } from '../errors.js';
import type { RequestContext } from '../request-context.js';
import type { Store } from '../stores/store.js';
import { isThenable } from '../util/maybe-promise.js';

export {
  Cacheable,
  type CacheableDecoratorOptions,
  type CacheMethodDecorator,
  InvalidateCache,
  type InvalidateCacheOptions,
} from '../decorators.js';

/** Options of `QuickpostCacheModule.forRoot`. */
export interface QuickpostCacheModuleOptions<S extends Store, A extends object, Req> {
  /**
   * The cache to provide: inject it by its class, `constructor(private readonly cache: Cache)`
   * (import `Cache` as a value, not with `import type`, so its class reaches Nest's metadata).
   * It also becomes the default cache (`configureCache`), which `@Cacheable` and
   * `@InvalidateCache` without `cache` use.
   */
  cache: Cache<S, A>;
  /**
   * The request context's values for one request, from the request (Express's or Fastify's,
   * after guards ran: `req.user` is set) and Nest's execution context; directly or as a promise.
   * Needs a cache made with `requestContext`. Without it, no request context is filled.
   *
   * @example context: (req: Request & { user: User }) => ({ user_id: req.user.id })
   */
  context?:
    | ((request: Req, execution: ExecutionContext) => NoInfer<A> | PromiseLike<NoInfer<A>>)
    | undefined;
}

/**
 * Runs each request's handler (and the interceptors after this one) inside the request context,
 * with the values `values` gives.
 */
export class RequestContextInterceptor<A extends object, Req> implements NestInterceptor {
  readonly #requestContext: RequestContext<A>;
  readonly #values: (request: Req, execution: ExecutionContext) => A | PromiseLike<A>;

  /** Made by `QuickpostCacheModule.forRoot` from its `context` option. */
  constructor(
    requestContext: RequestContext<A>,
    values: (request: Req, execution: ExecutionContext) => A | PromiseLike<A>,
  ) {
    this.#requestContext = requestContext;
    this.#values = values;
  }

  /**
   * Calls `next.handle()` inside the request context: Nest binds the rest of the request to the
   * async context it is called in.
   */
  intercept(execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    const given = this.#values(execution.switchToHttp().getRequest<Req>(), execution);
    if (isThenable(given)) {
      return from(Promise.resolve(given)).pipe(
        mergeMap((values) => this.#requestContext.run(values, () => next.handle())),
      );
    }
    return this.#requestContext.run(given, () => next.handle());
  }
}

/** The NestJS module of quickpost-cache: `imports: [QuickpostCacheModule.forRoot({ cache, context })]`. */
// biome-ignore lint/complexity/noStaticOnlyClass: a Nest module is a class; forRoot is how Nest configures one
export class QuickpostCacheModule {
  /**
   * A global module providing `cache` (inject it as `Cache`), making it the default cache of the
   * decorators, and, with `context`, filling its request context for every request through an
   * application-wide interceptor.
   */
  static forRoot<S extends Store, A extends object, Req = unknown>(
    options: QuickpostCacheModuleOptions<S, A, Req>,
  ): DynamicModule {
    const { cache, context } = options;
    if (!isCache(cache)) {
      throw new InvalidOptionError('cache', '`cache` must be a cache made by createCache()');
    }
    const requestContext = cache.requestContext;
    if (context !== undefined && requestContext === undefined) {
      throw new InvalidOptionError(
        'context',
        '`context` fills the request context of the cache, and this cache has none: make it with createCache({ requestContext })',
      );
    }
    configureCache(cache);
    return {
      module: QuickpostCacheModule,
      providers: [
        { provide: Cache, useValue: cache },
        ...(context === undefined || requestContext === undefined
          ? []
          : [
              {
                provide: APP_INTERCEPTOR,
                useValue: new RequestContextInterceptor(requestContext, context),
              },
            ]),
      ],
      exports: [Cache],
    };
  }
}

// Nest's decorators applied as functions: this file is not compiled with `experimentalDecorators`.
Global()(QuickpostCacheModule);
Module({})(QuickpostCacheModule);
