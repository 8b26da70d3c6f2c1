// TypeScript 5 standard decorators (this project's tsconfig.json); the legacy form's type tests
// are in decorators.legacy.test-d.ts.
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { Cacheable, createCache, InvalidateCache, requestContext } from '../../src/index.js';

type Post = { slug: string; title: string };
const cache = createCache({ requestContext: requestContext<{ user_id: string }>() });
const plain = createCache();

describe('standard decorators', () => {
  it('check `context` against the method’s parameters', () => {
    class Service {
      @Cacheable({ cache, key: 'posts:{{slug}}', context: (slug: string) => ({ slug }) })
      async getPost(slug: string, _draft: boolean): Promise<Post> {
        return { slug, title: '' };
      }

      // @ts-expect-error `context` takes a number, the method a string
      @Cacheable({ cache, key: 'posts:{{slug}}', context: (slug: number) => ({ slug }) })
      async byNumber(slug: string): Promise<string> {
        return slug;
      }

      // @ts-expect-error `context` reads two arguments, the method has one
      @Cacheable({ cache, key: 'p:{{a}}:{{b}}', context: (a: string, b: string) => ({ a, b }) })
      async tooFew(a: string): Promise<string> {
        return a;
      }
    }
    expectTypeOf(new Service().getPost).toEqualTypeOf<
      (slug: string, _draft: boolean) => Promise<Post>
    >();
  });

  it('require `context` for placeholders the request context does not provide', () => {
    class Service {
      @Cacheable({ cache, key: 'profile:{{user_id}}' })
      async getProfile(): Promise<string> {
        return '';
      }

      // @ts-expect-error {{slug}} needs `context`
      @Cacheable({ cache, key: 'posts:{{slug}}' })
      async getPost(slug: string): Promise<string> {
        return slug;
      }

      // @ts-expect-error without the cache's request context, {{user_id}} needs `context`
      @Cacheable({ cache: plain, key: 'profile:{{user_id}}' })
      async getOther(): Promise<string> {
        return '';
      }

      @Cacheable({
        cache,
        key: 'posts:{{slug}}:{{user_id}}',
        // @ts-expect-error slug is missing
        context: (_slug: string) => ({}),
      })
      async getMine(slug: string): Promise<string> {
        return slug;
      }
    }
    void Service;
  });

  it('accept methods that return a promise only', () => {
    class Service {
      // @ts-expect-error a decorated method returns a promise
      @Cacheable({ cache, key: 'count' })
      count(): number {
        return 1;
      }
    }
    void Service;
  });

  it('check `shouldCache`, `schema` and `contextFromResult` against the method’s result', () => {
    class Service {
      @Cacheable({ cache, key: 'posts:all', shouldCache: (posts: Post[]) => posts.length > 0 })
      async all(): Promise<Post[]> {
        return [];
      }

      // @ts-expect-error the method may resolve to null, which shouldCache does not take
      @Cacheable({ cache, key: 'posts:first', shouldCache: (post: Post) => post.title !== '' })
      async first(): Promise<Post | null> {
        return null;
      }

      @Cacheable({ cache, key: 'posts:count', schema: z.number() })
      async total(): Promise<number> {
        return 0;
      }

      // @ts-expect-error the schema's output is not the method's result
      @Cacheable({ cache, key: 'posts:latest', schema: z.string() })
      async latest(): Promise<number> {
        return 0;
      }

      @InvalidateCache({
        cache,
        patterns: ['posts:{{slug}}:*'],
        contextFromResult: (post: Post, title: string) => ({ slug: `${post.slug}-${title}` }),
      })
      async create(title: string): Promise<Post> {
        return { slug: title, title };
      }

      // @ts-expect-error the result is a Post, not a string
      @InvalidateCache({
        cache,
        patterns: ['posts:{{slug}}:*'],
        contextFromResult: (slug: string) => ({ slug }),
      })
      async createOther(title: string): Promise<Post> {
        return { slug: title, title };
      }
    }
    void Service;
  });

  it('check templates and patterns as the wrappers do', () => {
    class Service {
      // @ts-expect-error a wildcard belongs in patterns
      @Cacheable({ cache, key: 'posts:*' })
      async all(): Promise<number> {
        return 0;
      }

      // @ts-expect-error adjacent placeholders
      @InvalidateCache({ cache, patterns: ['x:{{a}}{{b}}:*'], context: () => ({ a: 1, b: 2 }) })
      async update(): Promise<number> {
        return 0;
      }

      @InvalidateCache({ cache, patterns: ['profile:{{user_id}}', 'posts:list:*'] })
      async updateProfile(): Promise<number> {
        return 0;
      }

      // @ts-expect-error `context` and `contextFromResult` exclude each other
      @InvalidateCache({
        cache,
        patterns: ['posts:{{slug}}'],
        context: (slug: string) => ({ slug }),
        contextFromResult: (post: Post) => ({ slug: post.slug }),
      })
      async both(slug: string): Promise<Post> {
        return { slug, title: '' };
      }
    }
    void Service;
  });

  it('take tags: their placeholders in `context`, `tagsFromResult` on the result', () => {
    class Service {
      @Cacheable({
        cache,
        key: 'posts:{{slug}}',
        tags: ['author:{{author}}'],
        context: (slug: string, author: string) => ({ slug, author }),
      })
      async getPost(slug: string, _author: string): Promise<Post> {
        return { slug, title: '' };
      }

      @Cacheable({
        cache: plain,
        key: 'posts:{{slug}}',
        tags: ['author:{{author}}'],
        // @ts-expect-error `context` leaves out the tag's placeholder
        context: (slug: string) => ({ slug }),
      })
      async untagged(slug: string): Promise<Post> {
        return { slug, title: '' };
      }

      // @ts-expect-error `tagsFromResult` reads a string, the method resolves to posts
      @Cacheable({ cache: plain, key: 'posts:all', tagsFromResult: (slug: string) => [slug] })
      async all(): Promise<Post[]> {
        return [];
      }

      @InvalidateCache({ cache, tags: ['post:{{slug}}'], context: (slug: string) => ({ slug }) })
      async retitle(slug: string): Promise<Post> {
        return { slug, title: '' };
      }

      @InvalidateCache({ cache, tagsFromResult: (post: Post) => [post.slug] })
      async create(): Promise<Post> {
        return { slug: '', title: '' };
      }
    }
    void Service;
  });

  it('without `cache`, type placeholders against DefaultRequestContext (empty unless declared)', () => {
    class Service {
      // @ts-expect-error {{user_id}} needs `context`: no DefaultRequestContext is declared here
      @Cacheable({ key: 'profile:{{user_id}}' })
      async getProfile(): Promise<string> {
        return '';
      }

      @Cacheable({ key: 'posts:{{slug}}', context: (slug: string) => ({ slug }), ttl: 60 })
      async getPost(slug: string): Promise<string> {
        return slug;
      }
    }
    void Service;
  });
});
