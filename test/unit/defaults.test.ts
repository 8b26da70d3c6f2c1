import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  cacheable,
  configureCache,
  createCache,
  getDefaultCache,
  InvalidOptionError,
  invalidating,
  requestContext,
} from '../../src/index.js';

afterEach(() => {
  configureCache(createCache());
});

describe('plain wrappers', () => {
  it('use the cache given in options, keeping sync functions sync on it', () => {
    const cache = createCache({ prefix: 'own' });
    const load = vi.fn((id: number) => id * 2);
    const double = cacheable(load, { cache, key: 'double:{{id}}', context: (id) => ({ id }) });
    expect(double(2)).toBe(4);
    expect(double(2)).toBe(4);
    expect(load).toHaveBeenCalledTimes(1);
    expect(cache.get('double:2')).toBe(4);
  });

  it('without a cache, use the configured one at call time and return promises', async () => {
    const load = vi.fn((id: number) => id * 2);
    const double = cacheable(load, { key: 'double:{{id}}', context: (id) => ({ id }) });
    const reset = invalidating((id: number) => id, {
      patterns: ['double:{{id}}'],
      context: (id) => ({ id }),
    });
    const first = createCache({ prefix: 'first' });
    configureCache(first);
    const result = double(3);
    expect(result).toBeInstanceOf(Promise);
    expect(await result).toBe(6);
    expect(first.get('double:3')).toBe(6);

    const second = configureCache({ prefix: 'second' });
    expect(getDefaultCache()).toBe(second);
    expect(await double(3)).toBe(6);
    expect(second.get('double:3')).toBe(6);
    expect(load).toHaveBeenCalledTimes(2);

    expect(await reset(3)).toBe(3);
    expect(second.get('double:3')).toBeUndefined();
    expect(first.get('double:3')).toBe(6);
  });

  it('check options when the wrapper is made', () => {
    expect(() => cacheable(() => 1, { key: 'k', ttl: -1 })).toThrow(InvalidOptionError);
    expect(() => cacheable(() => 1, { key: 'k', cache: {} as never })).toThrow(
      expect.objectContaining({ option: 'cache' }),
    );
    expect(() => invalidating(() => 1, { patterns: [] } as never)).toThrow(InvalidOptionError);
  });

  it('without a cache, leave placeholders to a request context configured after them', async () => {
    // As decorators do: the wrappers are made when their class is defined, before the
    // application configures its cache.
    const load = vi.fn(async () => 'profile');
    // The type says `context` is needed (DefaultRequestContext is not declared in these tests).
    const getProfile = cacheable(load, { key: 'profile:{{user_id}}' } as never);
    const updateProfile = invalidating(async () => true, {
      patterns: ['profile:{{user_id}}'],
    } as never);
    const ctx = requestContext<{ user_id: string }>();
    const cache = configureCache({ requestContext: ctx });
    await ctx.run({ user_id: 'alice' }, async () => {
      expect(await getProfile()).toBe('profile');
      expect(cache.get('profile:alice')).toBe('profile');
      await updateProfile();
      expect(cache.get('profile:alice')).toBeUndefined();
    });
  });

  it('without a cache, reject a call whose placeholders nothing can fill', async () => {
    const load = vi.fn(async () => 'profile');
    const getProfile = cacheable(load, { key: 'profile:{{user_id}}' } as never);
    await expect(getProfile()).rejects.toThrow(
      expect.objectContaining({ option: 'context', code: 'E_INVALID_OPTION' }),
    );
    expect(load).not.toHaveBeenCalled();
  });

  it('keep the name and length of the function', () => {
    function loadPost(_slug: string, _draft: boolean) {
      return 1;
    }
    const wrapped = cacheable(loadPost, { key: 'p:{{slug}}', context: (slug) => ({ slug }) });
    expect(wrapped.name).toBe('loadPost');
    expect(wrapped.length).toBe(2);
    const named = cacheable(async () => 1, { key: 'one', name: 'getOne' });
    expect(named.name).toBe('getOne');
    expect(cacheable(async () => 1, { key: 'one' }).name).toBe('cacheable(one)');
    expect(invalidating(async () => 1, { patterns: ['one', 'two:*'] }).name).toBe(
      'invalidating(one, two:*)',
    );
  });
});
