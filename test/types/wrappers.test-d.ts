import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  type Cache,
  cacheable,
  createCache,
  invalidating,
  type MemoryStore,
  type Store,
} from '../../src/index.js';

type Req = { user: string };
type Post = { slug: string; title: string };
declare const asyncStore: Store & { readonly sync: false };
declare const unknownStore: Store;
const memory = createCache();
const remote = createCache({ store: asyncStore });

describe('cacheable types', () => {
  it('keep an async function async', () => {
    const getPost = memory.cacheable(
      async (_req: Req, slug: string): Promise<Post> => ({ slug, title: '' }),
      {
        key: 'posts:{{slug}}',
        context: (_req, slug) => ({ slug }),
      },
    );
    expectTypeOf(getPost).toEqualTypeOf<(_req: Req, slug: string) => Promise<Post>>();
  });

  it('keep a sync function sync on a synchronous store, and make it async elsewhere', () => {
    const load = (id: number): Post => ({ slug: String(id), title: '' });
    expectTypeOf(memory).toEqualTypeOf<Cache<MemoryStore>>();
    expectTypeOf(
      memory.cacheable(load, { key: 'p:{{id}}', context: (id) => ({ id }) }),
    ).returns.toEqualTypeOf<Post>();
    expectTypeOf(
      remote.cacheable(load, { key: 'p:{{id}}', context: (id) => ({ id }) }),
    ).returns.toEqualTypeOf<Promise<Post>>();
    expectTypeOf(
      cacheable(load, { key: 'p:{{id}}', context: (id) => ({ id }) }),
    ).returns.toEqualTypeOf<Promise<Post>>();
    expectTypeOf(
      cacheable(load, { cache: memory, key: 'p:{{id}}', context: (id) => ({ id }) }),
    ).returns.toEqualTypeOf<Post>();
  });

  it('type the context extractor’s parameters from the function', () => {
    memory.cacheable(async (_req: Req, slug: string, page: number) => [slug, page], {
      key: 'posts:{{slug}}:{{page}}',
      context: (req, slug, page) => {
        expectTypeOf(req).toEqualTypeOf<Req>();
        expectTypeOf(slug).toEqualTypeOf<string>();
        expectTypeOf(page).toEqualTypeOf<number>();
        return { slug, page };
      },
    });
  });

  it('reject a context that misses a placeholder', () => {
    memory.cacheable(async (slug: string) => slug, {
      key: 'posts:{{slug}}:{{page}}',
      // @ts-expect-error page is missing
      context: (slug) => ({ slug }),
    });
  });

  it('require a context exactly when the template has placeholders', () => {
    // @ts-expect-error context is required for posts:{{slug}}
    memory.cacheable(async (slug: string) => slug, { key: 'posts:{{slug}}' });
    memory.cacheable(async () => 1, { key: 'posts:count' });
  });

  it('check schema and shouldCache against the result type', () => {
    const PostSchema = z.object({ slug: z.string(), title: z.string() });
    memory.cacheable(async (slug: string): Promise<Post> => ({ slug, title: '' }), {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
      schema: PostSchema,
      shouldCache: (post) => {
        expectTypeOf(post).toEqualTypeOf<Post>();
        return true;
      },
    });
    memory.cacheable(async (slug: string): Promise<Post> => ({ slug, title: '' }), {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
      // @ts-expect-error the schema's output is not a Post
      schema: z.number(),
    });
  });

  it('reject a ttl that is not a number and unknown options', () => {
    // @ts-expect-error ttl is a number of seconds
    memory.cacheable(async () => 1, { key: 'k', ttl: '60' });
    // @ts-expect-error tll is not an option
    memory.cacheable(async () => 1, { key: 'k', tll: 60 });
  });
});

describe('invalidating types', () => {
  it('keeps the mutation’s signature and result', () => {
    const updatePost = memory.invalidating(
      async (_req: Req, slug: string, title: string): Promise<Post> => ({ slug, title }),
      { patterns: ['posts:{{slug}}:*', 'posts:list:*'], context: (_req, slug) => ({ slug }) },
    );
    expectTypeOf(updatePost).toEqualTypeOf<
      (_req: Req, slug: string, title: string) => Promise<Post>
    >();
    const like = memory.invalidating((slug: string) => slug.length, {
      patterns: ['posts:{{slug}}:likes'],
      context: (slug) => ({ slug }),
    });
    expectTypeOf(like).returns.toEqualTypeOf<number>();
    const likeRemote = remote.invalidating((slug: string) => slug.length, {
      patterns: ['posts:{{slug}}:likes'],
      context: (slug) => ({ slug }),
    });
    expectTypeOf(likeRemote).returns.toEqualTypeOf<Promise<number>>();
  });

  it('requires every placeholder of every pattern', () => {
    memory.invalidating(async (slug: string, userId: number) => [slug, userId], {
      patterns: ['posts:{{slug}}:*', 'users:{{user_id}}:*'],
      // @ts-expect-error user_id is missing
      context: (slug) => ({ slug }),
    });
    memory.invalidating(async (slug: string, userId: number) => [slug, userId], {
      patterns: ['posts:{{slug}}:*', 'users:{{user_id}}:*'],
      context: (slug, userId) => ({ slug, user_id: userId }),
    });
  });

  it('gives contextFromResult the awaited result, then the arguments', () => {
    invalidating(async (_req: Req, title: string): Promise<Post> => ({ slug: 'x', title }), {
      cache: memory,
      patterns: ['posts:{{slug}}:*'],
      contextFromResult: (post, req, title) => {
        expectTypeOf(post).toEqualTypeOf<Post>();
        expectTypeOf(req).toEqualTypeOf<Req>();
        expectTypeOf(title).toEqualTypeOf<string>();
        return { slug: post.slug };
      },
    });
  });

  it('does not accept both context and contextFromResult', () => {
    // @ts-expect-error only one of context and contextFromResult
    memory.invalidating(async (slug: string) => slug, {
      patterns: ['posts:{{slug}}'],
      context: (slug: string) => ({ slug }),
      contextFromResult: (slug: string) => ({ slug }),
    });
  });

  it('needs no context for patterns without placeholders', () => {
    memory.invalidating(async () => 1, { patterns: ['posts:list:*'] });
    // @ts-expect-error context is required for posts:{{slug}}:*
    memory.invalidating(async (slug: string) => slug, { patterns: ['posts:{{slug}}:*'] });
  });
});

describe('manual API types', () => {
  it('answers directly on a synchronous store and with promises otherwise', () => {
    expectTypeOf(memory.get<Post>('posts:a')).toEqualTypeOf<Post | undefined>();
    expectTypeOf(remote.get<Post>('posts:a')).toEqualTypeOf<Promise<Post | undefined>>();
    expectTypeOf(memory.deletePattern('posts:*')).toEqualTypeOf<number>();
    expectTypeOf(remote.deletePattern('posts:*')).toEqualTypeOf<Promise<number>>();
    expectTypeOf(memory.getOrSet('k', () => 1)).toEqualTypeOf<number>();
    expectTypeOf(memory.getOrSet('k', async () => 1)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(remote.getOrSet('k', () => 1)).toEqualTypeOf<Promise<number>>();
  });
});

describe('caches on different stores', () => {
  it('are all a `Cache`', () => {
    const caches: Cache[] = [memory, remote, createCache({ store: unknownStore })];
    expectTypeOf(caches).toEqualTypeOf<Cache<Store>[]>();
  });

  it('answer with a value or a promise when the store does not declare `sync`', () => {
    const unknown = createCache({ store: unknownStore });
    expectTypeOf(unknown.get<number>('k')).toEqualTypeOf<
      number | undefined | Promise<number | undefined>
    >();
    expectTypeOf(
      unknown.cacheable((n: number) => n, { key: 'sq:{{n}}', context: (n) => ({ n }) }),
    ).returns.toEqualTypeOf<number | Promise<number>>();
    const bare: Cache = unknown;
    expectTypeOf(bare.delete('k')).toEqualTypeOf<boolean | Promise<boolean>>();
  });
});

describe('manual API key templates', () => {
  it('require a context exactly when the key has placeholders', () => {
    memory.get('posts:{{slug}}', { slug: 'a' });
    // @ts-expect-error the context is missing
    memory.get('posts:{{slug}}');
    // @ts-expect-error slug is missing from the context
    memory.delete('posts:{{slug}}:{{page}}', { page: 1 });
    // @ts-expect-error a key without placeholders takes no context
    memory.get('posts:all', { slug: 'a' });
    memory.deletePattern('posts:{{slug}}:*', { slug: 'a' });
    memory.set('posts:{{slug}}', 1, { context: { slug: 'a' }, ttl: 5 });
    // @ts-expect-error the options must carry the context
    memory.set('posts:{{slug}}', 1, { ttl: 5 });
    memory.getOrSet('posts:{{slug}}', () => 1, { context: { slug: 'a' } });
    const dynamic: string = 'posts:a';
    memory.get(dynamic);
  });
});

describe('malformed templates are compile errors', () => {
  it('in the key of cacheable, on a cache and plain', () => {
    memory.cacheable(async (a: string, b: string) => a + b, {
      // @ts-expect-error adjacent placeholders
      key: 'x:{{a}}{{b}}',
      context: (a, b) => ({ a, b }),
    });
    memory.cacheable(async () => 1, {
      // @ts-expect-error a wildcard belongs in patterns
      key: 'posts:*',
    });
    memory.cacheable(async () => 1, {
      // @ts-expect-error an empty name
      key: 'x:{{}}',
    });
    // @ts-expect-error whitespace
    cacheable(async () => 1, { key: 'posts: all' });
    cacheable(async (a: string, b: string) => a + b, {
      cache: memory,
      // @ts-expect-error separated only by a character values can contain
      key: 'x:{{a}}.{{b}}',
      context: (a, b) => ({ a, b }),
    });
    const dynamic: string = 'x:{{a}}{{b}}';
    memory.cacheable(async () => 1, { key: dynamic });
  });

  it('in the patterns of invalidating, which may hold wildcards', () => {
    memory.invalidating(async (slug: string) => slug, {
      // @ts-expect-error an unclosed placeholder
      patterns: ['posts:{{slug}}:*', 'posts:{{slug'],
      context: (slug) => ({ slug }),
    });
    invalidating(async (a: string, b: string) => a + b, {
      // @ts-expect-error adjacent placeholders
      patterns: ['x:{{a}}{{b}}:*'],
      context: (a, b) => ({ a, b }),
    });
    memory.invalidating(async (slug: string) => slug, {
      patterns: ['posts:{{slug}}:*', 'posts:[a-z]?:\\*', 'tags:{{slug}}*{{slug}}'],
      context: (slug) => ({ slug }),
    });
  });

  it('in the keys and patterns of the manual API', () => {
    // @ts-expect-error a wildcard in a key
    memory.get('posts:*');
    // @ts-expect-error adjacent placeholders
    memory.set('x:{{a}}{{b}}', 1, { context: { a: 1, b: 2 } });
    // @ts-expect-error a lone brace
    memory.delete('posts:{a}');
    // @ts-expect-error separated only by a character values can contain
    memory.getOrSet('x:{{a}}%{{b}}', () => 1, { context: { a: 1, b: 2 } });
    // @ts-expect-error empty
    memory.deletePattern('');
    // @ts-expect-error separated only by a character values can contain
    memory.deletePattern('x:{{a}}-{{b}}:*', { a: 1, b: 2 });
    memory.deletePattern('posts:{{slug}}:*', { slug: 'a' });
    memory.deletePattern('posts:[a-z]*');
  });
});
