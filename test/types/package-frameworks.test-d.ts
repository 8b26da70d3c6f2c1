// The published declarations of the request context, the decorators and the framework adapters
// (dist/*.d.ts, resolved through package.json `exports`).
import {
  Cacheable,
  cacheable,
  createCache,
  InvalidateCache,
  type RequestContext,
  requestContext,
} from 'quickpost-cache';
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
