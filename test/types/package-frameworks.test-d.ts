// The published declarations of the request context, the decorators and the framework adapters
// (dist/*.d.ts, resolved through package.json `exports`).
import type { ExecutionContext } from '@nestjs/common';
import express, { type RequestHandler } from 'express';
import Fastify, { type FastifyPluginCallback } from 'fastify';
import { Hono, type MiddlewareHandler } from 'hono';
import {
  Cacheable,
  cacheable,
  createCache,
  InvalidateCache,
  type RequestContext,
  requestContext,
} from 'quickpost-cache';
import { requestContextMiddleware as expressMiddleware } from 'quickpost-cache/express';
import { requestContextPlugin } from 'quickpost-cache/fastify';
import { requestContextMiddleware as honoMiddleware } from 'quickpost-cache/hono';
import { Cacheable as NestCacheable, QuickpostCacheModule } from 'quickpost-cache/nestjs';
import { describe, expectTypeOf, it } from 'vitest';

// An application declares its default cache's request context once; the plain wrappers and the
// decorators used without `cache` then need no `context` for its values.
declare module 'quickpost-cache' {
  interface DefaultRequestContext {
    user_id: string;
  }
}

describe('published declarations: request context and decorators', () => {
  it('type the request context and the cache made with it', () => {
    const ctx = requestContext<{ user_id: string }>();
    expectTypeOf(ctx).toEqualTypeOf<RequestContext<{ user_id: string }>>();
    const cache = createCache({ requestContext: ctx });
    cache.cacheable(async () => 1, { key: 'profile:{{user_id}}' });
    // @ts-expect-error {{slug}} is not in the request context
    cache.cacheable(async () => 1, { key: 'posts:{{slug}}' });
  });

  it('let DefaultRequestContext, declared by the application, type the default cache', () => {
    const getProfile = cacheable(async () => 1, { key: 'profile:{{user_id}}' });
    expectTypeOf(getProfile).toEqualTypeOf<() => Promise<number>>();
    // @ts-expect-error {{slug}} is not in DefaultRequestContext
    cacheable(async () => 1, { key: 'posts:{{slug}}' });
  });

  it('type the decorators', () => {
    class Service {
      @Cacheable({ key: 'profile:{{user_id}}', ttl: 60 })
      async getProfile(): Promise<string> {
        return '';
      }

      @InvalidateCache({ patterns: ['posts:{{slug}}:*'], context: (slug: string) => ({ slug }) })
      async updatePost(slug: string): Promise<string> {
        return slug;
      }

      // @ts-expect-error `context` takes a number, the method a string
      @Cacheable({ key: 'posts:{{slug}}', context: (slug: number) => ({ slug }) })
      async getPost(slug: string): Promise<string> {
        return slug;
      }
    }
    expectTypeOf(new Service().updatePost).toEqualTypeOf<(slug: string) => Promise<string>>();
  });
});

describe('published declarations: framework adapters', () => {
  const ctx = requestContext<{ user_id: string }>();

  it('give each framework its own middleware type, with values typed by the request context', () => {
    const app = express();
    const middleware = expressMiddleware(ctx, (req) => ({ user_id: req.get('x-user-id') ?? '' }));
    expectTypeOf(middleware).toEqualTypeOf<RequestHandler>();
    app.use(middleware);
    // @ts-expect-error user_id is a string
    expressMiddleware(ctx, () => ({ user_id: 1 }));

    const plugin = requestContextPlugin(ctx, async (request) => ({ user_id: request.id }));
    expectTypeOf(plugin).toEqualTypeOf<FastifyPluginCallback>();
    void Fastify().register(plugin);
    // @ts-expect-error user_id is missing
    requestContextPlugin(ctx, () => ({}));

    type AppEnv = { Variables: { userId: string } };
    const hono = new Hono<AppEnv>();
    const honoHandler = honoMiddleware(ctx, (c: import('hono').Context<AppEnv>) => ({
      user_id: c.get('userId'),
    }));
    expectTypeOf(honoHandler).toEqualTypeOf<MiddlewareHandler<AppEnv>>();
    hono.use(honoHandler);
  });

  it('type the NestJS module by its cache', () => {
    const cache = createCache({ requestContext: ctx });
    QuickpostCacheModule.forRoot({
      cache,
      context: (request: { user: { id: string } }, execution: ExecutionContext) => {
        expectTypeOf(execution).toEqualTypeOf<ExecutionContext>();
        return { user_id: request.user.id };
      },
    });
    // @ts-expect-error the values are the cache's request context's: user_id is a string
    QuickpostCacheModule.forRoot({ cache, context: () => ({ user_id: 1 }) });
    expectTypeOf(NestCacheable).toEqualTypeOf(Cacheable);
  });
});
