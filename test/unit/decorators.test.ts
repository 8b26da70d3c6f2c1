// TypeScript 5 standard decorators: vitest.config.ts compiles this file with TypeScript itself.
import {
  type Cache,
  Cacheable,
  InvalidateCache,
  type MemoryStore,
  renderTag,
} from '../../src/index.js';
import { database, describeDecoratorForm, type Post } from '../helpers/decorator-cases.js';

let received = '';
function probe(...args: unknown[]): void {
  const context = args[1] as { kind?: string } | undefined;
  received =
    args.length === 2 && context?.kind === 'method'
      ? '2 arguments, context of a method'
      : `${args.length} arguments`;
}

class Probed {
  @probe
  method(): void {}
}

describeDecoratorForm({
  name: 'standard',
  probe: () => {
    new Probed().method();
    return received;
  },
  services: (cache: Cache<MemoryStore, { user_id: string }>) => {
    const db = database();
    class Service {
      readonly loads: string[] = [];

      @Cacheable({ cache, key: 'posts:{{slug}}', context: (slug: string) => ({ slug }) })
      async getPost(slug: string): Promise<Post> {
        this.loads.push(slug);
        return { ...(db.get(slug) as Post) };
      }

      @InvalidateCache({
        cache,
        patterns: ['posts:{{slug}}:*'],
        context: (slug: string) => ({ slug }),
      })
      async updatePost(slug: string, title: string): Promise<Post> {
        const post = { slug, title };
        db.set(slug, post);
        return post;
      }

      @InvalidateCache({
        cache,
        patterns: ['posts:{{slug}}:*'],
        contextFromResult: (post: Post) => ({ slug: post.slug }),
      })
      async createPost(title: string): Promise<Post> {
        const post = { slug: title.toLowerCase().replace(/ /g, '-'), title };
        db.set(post.slug, post);
        return post;
      }

      @InvalidateCache({
        cache,
        patterns: ['posts:{{slug}}:*'],
        context: (slug: string) => ({ slug }),
      })
      async failUpdate(_slug: string): Promise<Post> {
        throw new Error('no such post');
      }

      @Cacheable({ cache, key: 'profile:{{user_id}}' })
      async getProfile(): Promise<string> {
        return cache.requestContext?.get()?.user_id ?? 'nobody';
      }

      @Cacheable({
        cache,
        key: 'posts:list',
        tagsFromResult: (posts: Post[]) => posts.map((post) => renderTag('post:{{slug}}', post)),
      })
      async listPosts(): Promise<Post[]> {
        this.loads.push('list');
        return [...db.values()].map((post) => ({ ...post }));
      }

      @InvalidateCache({ cache, tags: ['post:{{slug}}'], context: (slug: string) => ({ slug }) })
      async retitle(slug: string, title: string): Promise<Post> {
        const post = { slug, title };
        db.set(slug, post);
        return post;
      }
    }
    return [new Service(), new Service()];
  },
  defaultServices: () => {
    const db = database();
    class Service {
      readonly loads: string[] = [];

      @Cacheable({ key: 'posts:{{slug}}', context: (slug: string) => ({ slug }) })
      async getPost(slug: string): Promise<Post> {
        this.loads.push(slug);
        return { ...(db.get(slug) as Post) };
      }

      @InvalidateCache({ patterns: ['posts:{{slug}}:*'], context: (slug: string) => ({ slug }) })
      async updatePost(slug: string, title: string): Promise<Post> {
        const post = { slug, title };
        db.set(slug, post);
        return post;
      }

      async createPost(): Promise<Post> {
        throw new Error('not decorated here');
      }

      async failUpdate(): Promise<Post> {
        throw new Error('not decorated here');
      }

      // The type needs `context` for {{user_id}} unless DefaultRequestContext declares it; the
      // default cache configured later provides it at run time.
      @Cacheable({ key: 'profile:{{user_id}}', context: () => ({}) as { user_id: string } })
      async getProfile(): Promise<string> {
        return 'profile';
      }
    }
    return () => new Service();
  },
  staticMethod: (cache) => {
    let runs = 0;
    // biome-ignore lint/complexity/noStaticOnlyClass: what is decorated here is a static method
    class Counter {
      @Cacheable({ cache, key: 'double:{{n}}', context: (n: number) => ({ n }) })
      static async double(n: number): Promise<number> {
        runs += 1;
        return n * 2;
      }
    }
    return { count: (n) => Counter.double(n), runs: () => runs };
  },
  decorateGetter: () => {
    const decorator = Cacheable({ key: 'x' }) as unknown as (
      value: unknown,
      context: ClassGetterDecoratorContext,
    ) => void;
    class WithGetter {
      @decorator
      get value(): number {
        return 1;
      }
    }
    void WithGetter;
  },
});
