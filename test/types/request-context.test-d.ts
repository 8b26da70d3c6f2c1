import { describe, expectTypeOf, it } from 'vitest';
import {
  type AmbientKeys,
  type Cache,
  cacheable,
  createCache,
  invalidating,
  type MemoryStore,
  type RequestContext,
  requestContext,
  type Store,
  type TemplateContext,
} from '../../src/index.js';

type Ambient = { user_id: string; locale: 'en' | 'fr'; token: string };
const ctx = requestContext<Ambient>();
const cache = createCache({ requestContext: ctx });
const plain = createCache();

describe('request context types', () => {
  it('are carried by the cache', () => {
    expectTypeOf(ctx).toEqualTypeOf<RequestContext<Ambient>>();
    expectTypeOf(cache).toEqualTypeOf<Cache<MemoryStore, Ambient>>();
    expectTypeOf(cache.requestContext).toEqualTypeOf<RequestContext<Ambient> | undefined>();
    expectTypeOf(ctx.get()).toEqualTypeOf<Readonly<Ambient> | undefined>();
  });

  it('need no context function for a template whose placeholders are all ambient', () => {
    const getProfile = cache.cacheable(async () => ({ name: 'x' }), { key: 'profile:{{user_id}}' });
    expectTypeOf(getProfile).toEqualTypeOf<() => Promise<{ name: string }>>();
    cache.cacheable(async () => 1, { key: 'home:{{locale}}:{{user_id}}' });
    cache.invalidating(async () => 1, { patterns: ['profile:{{user_id}}:*'] });
    cache.get('profile:{{user_id}}');
    cache.set('profile:{{user_id}}', 1, { ttl: 5 });
    cache.deletePattern('profile:{{user_id}}:*');
    cache.getOrSet('profile:{{user_id}}', () => 1);
  });

  it('still require every placeholder the request context does not provide', () => {
    // @ts-expect-error context is required: {{slug}} is not in the request context
    cache.cacheable(async (slug: string) => slug, { key: 'posts:{{slug}}:{{user_id}}' });
    cache.cacheable(async (slug: string) => slug, {
      key: 'posts:{{slug}}:{{user_id}}',
      // @ts-expect-error slug is missing
      context: () => ({}),
    });
    cache.cacheable(async (slug: string) => slug, {
      key: 'posts:{{slug}}:{{user_id}}',
      context: (slug) => ({ slug }),
    });
    // @ts-expect-error context is required: {{slug}} is not in the request context
    cache.invalidating(async (slug: string) => slug, { patterns: ['likes:{{slug}}:{{user_id}}'] });
    cache.invalidating(async (slug: string) => slug, {
      patterns: ['likes:{{slug}}:{{user_id}}'],
      context: (slug) => ({ slug }),
    });
    // @ts-expect-error the context is missing: {{slug}} is not in the request context
    cache.get('posts:{{slug}}:{{user_id}}');
    cache.get('posts:{{slug}}:{{user_id}}', { slug: 'a' });
    // @ts-expect-error slug is missing from the options' context
    cache.set('posts:{{slug}}:{{user_id}}', 1, { ttl: 5 });
  });

  it('give a cache without a request context no ambient placeholders', () => {
    // @ts-expect-error context is required for profile:{{user_id}}
    plain.cacheable(async () => 1, { key: 'profile:{{user_id}}' });
    // @ts-expect-error the context is missing
    plain.get('profile:{{user_id}}');
  });

  it('reject values of the wrong type', () => {
    // @ts-expect-error user_id is a string
    ctx.run({ user_id: 1, locale: 'en', token: 't' }, () => 1);
    // @ts-expect-error locale is missing
    ctx.run({ user_id: '1', token: 't' }, () => 1);
    cache.cacheable(async (slug: string) => slug, {
      key: 'posts:{{slug}}:{{user_id}}',
      // @ts-expect-error a placeholder's value cannot be null, even where the request context has one
      context: (slug) => ({ slug, user_id: null }),
    });
    const optional = createCache({ requestContext: requestContext<{ user_id?: string }>() });
    // @ts-expect-error a value of the request context that may be undefined provides nothing
    optional.cacheable(async () => 1, { key: 'profile:{{user_id}}' });
    const unrenderable = createCache({
      requestContext: requestContext<{ user_id: () => string }>(),
    });
    // @ts-expect-error a value a placeholder cannot render provides nothing either
    unrenderable.cacheable(async () => 1, { key: 'profile:{{user_id}}' });
    expectTypeOf<
      AmbientKeys<{
        a: string;
        b?: string;
        c: string | undefined;
        d: null;
        e: { x: 1 };
        f: () => 1;
      }>
    >().toEqualTypeOf<'a' | 'e'>();
  });

  it('let the context function override an ambient value', () => {
    cache.cacheable(async (userId: string) => userId, {
      key: 'profile:{{user_id}}',
      context: (userId) => ({ user_id: userId }),
    });
    cache.get('profile:{{user_id}}', { user_id: 'someone-else' });
    expectTypeOf<TemplateContext<'p:{{user_id}}:{{slug}}', Ambient>>().toEqualTypeOf<
      { readonly slug: ContextValueOf } & { readonly user_id?: ContextValueOf }
    >();
  });

  it('follow the cache into the plain wrappers given `cache`', () => {
    cacheable(async () => 1, { cache, key: 'profile:{{user_id}}' });
    invalidating(async () => 1, { cache, patterns: ['profile:{{user_id}}'] });
    // @ts-expect-error without a request context on the cache, the context is required
    cacheable(async () => 1, { cache: plain, key: 'profile:{{user_id}}' });
  });

  it('keep a cache with a request context a `Cache`', () => {
    const caches: Cache[] = [cache, plain];
    expectTypeOf(caches).toEqualTypeOf<Cache<Store>[]>();
  });
});

type ContextValueOf = TemplateContext<'x:{{v}}'>['v'];
