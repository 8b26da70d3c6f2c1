/**
 * The behaviour `@Cacheable` and `@InvalidateCache` promise, written once and run in both
 * decorator forms: test/unit/decorators.test.ts (TypeScript 5 standard decorators) and
 * test/unit/decorators.legacy.test.ts (`experimentalDecorators`). Each file defines the classes
 * (decorator syntax compiles by the file's form) and hands them here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Cache,
  configureCache,
  createCache,
  InvalidOptionError,
  type MemoryStore,
  type RequestContext,
  requestContext,
} from '../../src/index.js';

export interface Post {
  slug: string;
  title: string;
}

/** A service with decorated methods, made by the test file on `cache`. */
export interface PostService {
  /** Calls of the undecorated body of `getPost`. */
  readonly loads: string[];
  getPost(slug: string): Promise<Post>;
  updatePost(slug: string, title: string): Promise<Post>;
  createPost(title: string): Promise<Post>;
  failUpdate(slug: string): Promise<Post>;
  getProfile(): Promise<string>;
}

/** A service whose methods also use tags. */
export interface TaggedPostService extends PostService {
  /** Every post, tagged by each post it shows. */
  listPosts(): Promise<Post[]>;
  /** Changes a post's title, invalidating its tag. */
  retitle(slug: string, title: string): Promise<Post>;
}

/** What a test file gives: its form, the arguments its decorators received, its classes. */
export interface DecoratorForm {
  name: 'standard' | 'legacy';
  /** How many arguments, and of which kinds, a probe decorator of this file received. */
  probe: () => string;
  /** Two instances of a service class whose methods are decorated with `cache`. */
  services: (
    cache: Cache<MemoryStore, { user_id: string }>,
  ) => [TaggedPostService, TaggedPostService];
  /**
   * A service class decorated without `cache`, defined before the default cache is configured;
   * its `getProfile` answers `'profile'` under `profile:{{user_id}}`.
   */
  defaultServices: () => () => PostService;
  /** A static method decorated with `cache`, and how many times its body ran. */
  staticMethod: (cache: Cache<MemoryStore>) => {
    count: (n: number) => Promise<number>;
    runs: () => number;
  };
  /** Defines a class with `@Cacheable` on a getter: throws as the decorator refuses it. */
  decorateGetter: () => void;
}

/** The database the services read: posts by slug. */
export function database(): Map<string, Post> {
  return new Map([
    ['a', { slug: 'a', title: 'A' }],
    ['b', { slug: 'b', title: 'B' }],
  ]);
}

export function describeDecoratorForm(form: DecoratorForm): void {
  afterEach(() => {
    configureCache(createCache());
  });

  describe(`decorators (${form.name} form)`, () => {
    it(`are called in the ${form.name} form in this file`, () => {
      expect(form.probe()).toBe(
        form.name === 'standard' ? '2 arguments, context of a method' : '3 arguments, descriptor',
      );
    });

    it('cache a method’s results under its key, shared by every instance, with `this` kept', async () => {
      const ctx: RequestContext<{ user_id: string }> = requestContext();
      const cache = createCache({ requestContext: ctx });
      const [one, two] = form.services(cache);
      expect(await one.getPost('a')).toEqual({ slug: 'a', title: 'A' });
      expect(await one.getPost('a')).toEqual({ slug: 'a', title: 'A' });
      expect(await two.getPost('a')).toEqual({ slug: 'a', title: 'A' });
      expect(await two.getPost('b')).toEqual({ slug: 'b', title: 'B' });
      expect([...one.loads, ...two.loads]).toEqual(['a', 'b']);
      expect(cache.get('posts:a')).toEqual({ slug: 'a', title: 'A' });
    });

    it('keep the method’s name and length', () => {
      const [one] = form.services(createCache({ requestContext: requestContext() }));
      expect(one.getPost.name).toBe('getPost');
      expect(one.getPost.length).toBe(1);
      expect(one.updatePost.name).toBe('updatePost');
    });

    it('invalidate once the method succeeded, and not when it fails', async () => {
      const cache = createCache({ requestContext: requestContext<{ user_id: string }>() });
      const [service] = form.services(cache);
      await service.getPost('a');
      await expect(service.failUpdate('a')).rejects.toThrow('no such post');
      expect(cache.get('posts:a')).toBeDefined();
      expect(await service.updatePost('a', 'A2')).toEqual({ slug: 'a', title: 'A2' });
      expect(cache.get('posts:a')).toBeUndefined();
      expect(await service.getPost('a')).toEqual({ slug: 'a', title: 'A2' });
      expect(service.loads).toEqual(['a', 'a']);
    });

    it('tag entries from the result, and invalidate by tag', async () => {
      const cache = createCache({ requestContext: requestContext<{ user_id: string }>() });
      const [service] = form.services(cache);
      await service.listPosts();
      await service.listPosts();
      expect(await service.retitle('b', 'B2')).toEqual({ slug: 'b', title: 'B2' });
      expect((await service.listPosts())[1]).toEqual({ slug: 'b', title: 'B2' });
      expect(service.loads).toEqual(['list', 'list']);
    });

    it('invalidate from the result with contextFromResult', async () => {
      const cache = createCache({ requestContext: requestContext<{ user_id: string }>() });
      const [service] = form.services(cache);
      cache.set('posts:{{slug}}', 'stale', { context: { slug: 'new-post' } });
      expect(await service.createPost('New post')).toEqual({ slug: 'new-post', title: 'New post' });
      expect(cache.get('posts:new-post')).toBeUndefined();
    });

    it('fill placeholders from the cache’s request context', async () => {
      const ctx = requestContext<{ user_id: string }>();
      const cache = createCache({ requestContext: ctx });
      const [service] = form.services(cache);
      expect(await ctx.run({ user_id: 'alice' }, () => service.getProfile())).toBe('alice');
      expect(await ctx.run({ user_id: 'bob' }, () => service.getProfile())).toBe('bob');
      expect(cache.get('profile:alice')).toBe('alice');
      expect(cache.get('profile:bob')).toBe('bob');
    });

    it('without `cache`, use the default cache configured after the class was defined', async () => {
      const make = form.defaultServices();
      const ctx = requestContext<{ user_id: string }>();
      const cache = configureCache({ requestContext: ctx });
      const service = make();
      expect(await service.getPost('a')).toEqual({ slug: 'a', title: 'A' });
      expect(await service.getPost('a')).toEqual({ slug: 'a', title: 'A' });
      expect(service.loads).toEqual(['a']);
      expect(cache.get('posts:a')).toEqual({ slug: 'a', title: 'A' });
      expect(await ctx.run({ user_id: 'carol' }, () => service.getProfile())).toBe('profile');
      expect(cache.get('profile:carol')).toBe('profile');
      await service.updatePost('a', 'A3');
      expect(cache.get('posts:a')).toBeUndefined();
    });

    it('decorate static methods', async () => {
      const { count, runs } = form.staticMethod(createCache());
      expect(await count(2)).toBe(4);
      expect(await count(2)).toBe(4);
      expect(runs()).toBe(1);
    });

    it('refuse what is not a method, when the class is defined', () => {
      expect(form.decorateGetter).toThrow(InvalidOptionError);
      expect(form.decorateGetter).toThrow(/@Cacheable decorates methods only/);
    });
  });
}
