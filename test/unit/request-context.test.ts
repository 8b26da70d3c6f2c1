import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import {
  createCache,
  InvalidOptionError,
  MemoryStore,
  MissingContextValueError,
  requestContext,
} from '../../src/index.js';
import { AsyncMemoryStore, deferred } from '../helpers/stores.js';

type Ambient = { user_id: string; token: string };

function setup(store: MemoryStore | AsyncMemoryStore = new MemoryStore()) {
  const ctx = requestContext<Ambient>();
  const cache = createCache({ store, requestContext: ctx });
  return { ctx, cache, store };
}

const alice: Ambient = { user_id: 'alice', token: 'Bearer a' };
const bob: Ambient = { user_id: 'bob', token: 'Bearer b' };

describe('requestContext', () => {
  it('gives its values to the code run inside run(), across awaits, and nothing outside', async () => {
    const ctx = requestContext<{ user_id: string }>();
    expect(ctx.get()).toBeUndefined();
    const seen = await ctx.run({ user_id: 'u1' }, async () => {
      const before = ctx.get()?.user_id;
      await sleep(1);
      const after = await new Promise((resolve) => setImmediate(() => resolve(ctx.get()?.user_id)));
      return [before, after];
    });
    expect(seen).toEqual(['u1', 'u1']);
    expect(ctx.get()).toBeUndefined();
  });

  it('lets a nested run replace the values for its own function, then restores the outer ones', () => {
    const ctx = requestContext<{ user_id: string }>();
    const seen = ctx.run({ user_id: 'outer' }, () => {
      const inner = ctx.run({ user_id: 'inner' }, () => ctx.get()?.user_id);
      return [inner, ctx.get()?.user_id];
    });
    expect(seen).toEqual(['inner', 'outer']);
  });

  it('keeps interleaved requests apart', async () => {
    const ctx = requestContext<{ user_id: string }>();
    const gate = deferred<void>();
    const request = (user_id: string) =>
      ctx.run({ user_id }, async () => {
        const seen = [ctx.get()?.user_id];
        await gate.promise; // both requests are in flight here
        seen.push(ctx.get()?.user_id);
        await sleep(user_id === 'a' ? 5 : 1);
        seen.push(ctx.get()?.user_id);
        return seen;
      });
    const a = request('a');
    const b = request('b');
    gate.resolve();
    expect(await Promise.all([a, b])).toEqual([
      ['a', 'a', 'a'],
      ['b', 'b', 'b'],
    ]);
  });

  it('refuses values that are not an object', () => {
    const ctx = requestContext<{ user_id: string }>();
    expect(() => ctx.run(null as unknown as { user_id: string }, () => 1)).toThrow(
      InvalidOptionError,
    );
  });

  it('is refused by createCache when it is not a request context', () => {
    expect(() =>
      createCache({
        requestContext: { get: () => ({}) } as unknown as ReturnType<typeof requestContext>,
      }),
    ).toThrow(/`requestContext` must be a request context made by requestContext\(\)/);
  });
});

describe('a cache with a request context', () => {
  it('fills a placeholder from the request context, so users never see each other’s entry', async () => {
    const { ctx, cache } = setup();
    const load = vi.fn(async () => ({ name: ctx.get()?.user_id }));
    const getProfile = cache.cacheable(load, { key: 'profile:{{user_id}}' });
    expect(await ctx.run(alice, () => getProfile())).toEqual({ name: 'alice' });
    expect(await ctx.run(bob, () => getProfile())).toEqual({ name: 'bob' });
    expect(await ctx.run(alice, () => getProfile())).toEqual({ name: 'alice' });
    expect(await ctx.run(bob, () => getProfile())).toEqual({ name: 'bob' });
    expect(load).toHaveBeenCalledTimes(2);
    expect(cache.get('profile:{{user_id}}', { user_id: 'alice' })).toEqual({ name: 'alice' });
  });

  it('merges the request context under the context function’s values: explicit ones win', async () => {
    const { ctx, cache } = setup();
    const keys: string[] = [];
    cache.on('lookup', ({ key }) => keys.push(key));
    const getPost = cache.cacheable(async (slug: string, _as: string | undefined) => slug, {
      key: 'posts:{{slug}}:for:{{user_id}}',
      context: (slug, as) => (as === undefined ? { slug } : { slug, user_id: as }),
    });
    await ctx.run(alice, async () => {
      await getPost('a', undefined);
      await getPost('a', 'carol');
    });
    expect(keys).toEqual(['quickpost:posts:a:for:alice', 'quickpost:posts:a:for:carol']);
  });

  it('keeps synchronous wrappers synchronous on a synchronous store', () => {
    const { ctx, cache } = setup();
    const square = cache.cacheable((n: number) => n * n, {
      key: 'sq:{{n}}:{{user_id}}',
      context: (n) => ({ n }),
    });
    expect(ctx.run(alice, () => square(3))).toBe(9);
    expect(cache.get('sq:{{n}}:{{user_id}}', { n: 3, user_id: 'alice' })).toBe(9);
  });

  it('throws MissingContextValueError outside any request, naming the middleware, without running the function', async () => {
    const { cache } = setup(new AsyncMemoryStore());
    const load = vi.fn(async () => 1);
    const getProfile = cache.cacheable(load, { key: 'profile:{{user_id}}' });
    const error = await getProfile().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingContextValueError);
    expect(error).toMatchObject({ code: 'E_MISSING_CONTEXT_VALUE', placeholder: 'user_id' });
    expect((error as Error).message).toMatch(/outside any request context/);
    expect((error as Error).message).toMatch(/quickpost-cache\/express/);
    expect(load).not.toHaveBeenCalled();
  });

  it('throws MissingContextValueError inside a request whose values lack the placeholder', async () => {
    const ctx = requestContext<{ user_id?: string }>();
    const cache = createCache({ requestContext: ctx });
    const getProfile = cache.cacheable(async () => 1, {
      key: 'profile:{{user_id}}',
      context: () => ({ user_id: ctx.get()?.user_id ?? 'anonymous' }),
    });
    const getSettings = cache.cacheable(async () => 1, {
      key: 'settings:{{user_id}}',
      // The type says `user_id` is needed (the request context may lack it): this call lies.
      context: () => ({}) as { user_id: string },
    });
    await ctx.run({}, async () => {
      await expect(getProfile()).resolves.toBe(1);
      const error = await getSettings().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MissingContextValueError);
      expect(error).toMatchObject({ origin: 'context' });
      expect((error as Error).message).toMatch(
        /neither the `context` function of cacheable\(settings:\{\{user_id\}\}\) nor the request context has one/,
      );
    });
  });

  it('keeps the plain message on a cache without a request context', () => {
    const cache = createCache();
    const get = cache.cacheable((slug: string) => slug, {
      key: 'posts:{{slug}}',
      context: () => ({}) as { slug: string },
    });
    expect(() => get('a')).toThrow(
      /returned none \(or undefined\)\. Return `slug` from `context`\.$/,
    );
  });

  it('shows listeners the template’s values from the request context, never its other values', async () => {
    const { ctx, cache } = setup();
    const contexts: unknown[] = [];
    cache.on('lookup', ({ context }) => contexts.push(context));
    cache.on('mutation', ({ context }) => contexts.push(context));
    const getPost = cache.cacheable(async (slug: string) => slug, {
      key: 'posts:{{slug}}:{{user_id}}',
      context: (slug) => ({ slug }),
    });
    const like = cache.invalidating(async (_slug: string) => true, {
      patterns: ['posts:{{slug}}:{{user_id}}'],
      context: (slug) => ({ slug }),
    });
    await ctx.run(alice, async () => {
      await getPost('a');
      await like('a');
    });
    expect(contexts).toEqual([
      { slug: 'a', user_id: 'alice' },
      { slug: 'a', user_id: 'alice' },
    ]);
    expect(JSON.stringify(contexts)).not.toContain('Bearer');
  });

  it('invalidates patterns filled from the request context, with context, contextFromResult or neither', async () => {
    const { ctx, cache, store } = setup();
    const write = (key: string) => store.set(`quickpost:${key}`, 'v', 60_000);
    const left = (...keys: string[]) =>
      keys.filter((key) => store.get(`quickpost:${key}`) !== undefined);
    for (const key of ['profile:alice', 'profile:bob', 'likes:a:alice', 'likes:b:alice']) {
      write(key);
    }
    const updateProfile = cache.invalidating(async () => true, {
      patterns: ['profile:{{user_id}}'],
    });
    const like = cache.invalidating(async (_slug: string) => true, {
      patterns: ['likes:{{slug}}:{{user_id}}'],
      context: (slug) => ({ slug }),
    });
    const likeFromResult = cache.invalidating(async (slug: string) => ({ slug }), {
      patterns: ['likes:{{slug}}:{{user_id}}'],
      contextFromResult: (result) => ({ slug: result.slug }),
    });
    await ctx.run(alice, async () => {
      await updateProfile();
      await like('a');
      await likeFromResult('b');
    });
    expect(left('profile:alice', 'profile:bob', 'likes:a:alice', 'likes:b:alice')).toEqual([
      'profile:bob',
    ]);
  });

  it('runs no mutation whose patterns cannot be filled outside a request', async () => {
    const { cache } = setup();
    const mutate = vi.fn(async () => true);
    const updateProfile = cache.invalidating(mutate, { patterns: ['profile:{{user_id}}'] });
    await expect(updateProfile()).rejects.toThrow(MissingContextValueError);
    expect(mutate).not.toHaveBeenCalled();
  });

  it('fills the manual API’s templates too', async () => {
    const { ctx, cache } = setup();
    ctx.run(alice, () => {
      cache.set('profile:{{user_id}}', 'A');
      expect(cache.get('profile:{{user_id}}')).toBe('A');
      expect(cache.get('profile:{{user_id}}', { user_id: 'bob' })).toBeUndefined();
      expect(cache.getOrSet('profile:{{user_id}}', () => 'other')).toBe('A');
    });
    expect(cache.get('profile:{{user_id}}', { user_id: 'alice' })).toBe('A');
    expect(() => cache.get('profile:{{user_id}}')).toThrow(/outside any request context/);
    ctx.run(bob, () => {
      cache.set('profile:{{user_id}}', 'B');
      expect(cache.deletePattern('profile:{{user_id}}')).toBe(1);
      expect(cache.delete('profile:{{user_id}}', { user_id: 'alice' })).toBe(true);
    });
    expect(cache.get('profile:{{user_id}}', { user_id: 'alice' })).toBeUndefined();
  });

  it('keeps concurrent requests of different users apart on an asynchronous store', async () => {
    const { ctx, cache } = setup(new AsyncMemoryStore());
    const gate = deferred<void>();
    const load = vi.fn(async () => {
      const user = ctx.get()?.user_id;
      await gate.promise; // every computation waits here, interleaved with the others
      return `profile of ${user}`;
    });
    const getProfile = cache.cacheable(load, { key: 'profile:{{user_id}}' });
    const users = ['alice', 'bob', 'carol', 'alice', 'bob'];
    const pending = users.map((user_id) =>
      ctx.run({ user_id, token: 't' }, async () => {
        await sleep(1);
        return getProfile();
      }),
    );
    await sleep(5);
    gate.resolve();
    expect(await Promise.all(pending)).toEqual(users.map((user) => `profile of ${user}`));
    expect(load).toHaveBeenCalledTimes(3);
  });
});
