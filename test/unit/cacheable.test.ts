import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCache, InvalidOptionError, TemplateSyntaxError } from '../../src/index.js';
import { ChaosStore, recordingLogger } from '../helpers/stores.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('cacheable on an async function', () => {
  it('expires entries after ttl seconds', async () => {
    vi.useFakeTimers();
    const cache = createCache({ ttl: 60 });
    let version = 0;
    const getPost = cache.cacheable(async (slug: string) => `${slug}@${++version}`, {
      key: 'posts:{{slug}}',
      ttl: 10,
      context: (slug) => ({ slug }),
    });
    expect(await getPost('a')).toBe('a@1');
    vi.advanceTimersByTime(9_999);
    expect(await getPost('a')).toBe('a@1');
    vi.advanceTimersByTime(2);
    expect(await getPost('a')).toBe('a@2');
  });

  it('uses the cache’s default ttl when the wrapper has none', async () => {
    vi.useFakeTimers();
    const cache = createCache({ ttl: 5 });
    let version = 0;
    const get = cache.cacheable(async () => ++version, { key: 'counter' });
    await get();
    vi.advanceTimersByTime(4_999);
    expect(await get()).toBe(1);
    vi.advanceTimersByTime(2);
    expect(await get()).toBe(2);
  });
});

describe('cacheable on a sync function', () => {
  it('stays synchronous while an async computation of the same key is in flight', async () => {
    const cache = createCache();
    const slow = cache.getOrSet('users:1', async () => ({ id: 1 }));
    const getUser = cache.cacheable((id: number) => ({ id }), {
      key: 'users:{{id}}',
      context: (id) => ({ id }),
    });
    expect(getUser(1)).toEqual({ id: 1 });
    await slow;
    expect(getUser(2)).toEqual({ id: 2 });
  });

  it('switches to promises once a plain function turns out to return one', async () => {
    const cache = createCache();
    const load = (id: number) => Promise.resolve({ id });
    const getUser = cache.cacheable(load, { key: 'users:{{id}}', context: (id) => ({ id }) });
    const miss = getUser(1);
    expect(miss).toBeInstanceOf(Promise);
    await miss;
    const hit = getUser(1);
    expect(hit).toBeInstanceOf(Promise);
    expect(await hit).toEqual({ id: 1 });
  });
});

describe('cacheable keys', () => {
  it('fails when the wrapper is made for a malformed template or a missing context', () => {
    const cache = createCache();
    expect(() => cache.cacheable(() => 1, { key: 'posts:{{slug' } as never)).toThrow(
      TemplateSyntaxError,
    );
    expect(() =>
      cache.cacheable((slug: string) => slug, { key: 'posts:{{slug}}' } as never),
    ).toThrow(
      expect.objectContaining({ option: 'context', message: expect.stringContaining('{{slug}}') }),
    );
  });

  it('rejects (async) or throws (sync) when the context lacks a placeholder', async () => {
    const cache = createCache();
    const asyncGet = cache.cacheable(async (_slug: string) => 1, {
      key: 'posts:{{slug}}',
      context: () => ({}) as { slug: string },
    });
    await expect(asyncGet('a')).rejects.toMatchObject({ code: 'E_MISSING_CONTEXT_VALUE' });
    const syncGet = cache.cacheable((_slug: string) => 1, {
      key: 'posts:{{slug}}',
      context: () => ({}) as { slug: string },
    });
    expect(() => syncGet('a')).toThrow(expect.objectContaining({ placeholder: 'slug' }));
  });
});

describe('cacheable when the store fails', () => {
  it('calls the function, returns its result and reports the failures', async () => {
    const logger = recordingLogger();
    const store = new ChaosStore({ failing: ['get', 'set'] });
    const cache = createCache({ store, logger });
    const load = vi.fn(async (slug: string) => `post ${slug}`);
    const getPost = cache.cacheable(load, { key: 'posts:{{slug}}', context: (slug) => ({ slug }) });
    expect(await getPost('a')).toBe('post a');
    expect(await getPost('a')).toBe('post a');
    expect(load).toHaveBeenCalledTimes(2);
    expect(logger.lines.warn).toContainEqual(
      expect.stringContaining('get quickpost:posts:a failed'),
    );
    store.failing.delete('get');
    expect(await getPost('b')).toBe('post b');
    expect(logger.lines.warn).toContainEqual(
      expect.stringContaining('set quickpost:posts:b failed'),
    );
  });
});

describe('cacheable debug mode', () => {
  it('logs nothing when debug is off', async () => {
    const logger = recordingLogger();
    const cache = createCache({ logger });
    const get = cache.cacheable(async () => 1, { key: 'one' });
    await get();
    await get();
    expect(logger.lines.debug).toEqual([]);
  });

  it('follows the cache’s debug setting unless the wrapper overrides it', async () => {
    const logger = recordingLogger();
    const cache = createCache({ logger, debug: true });
    await cache.cacheable(async () => 1, { key: 'one', name: 'one' })();
    await cache.cacheable(async () => 2, { key: 'two', debug: false })();
    expect(logger.lines.debug[0]).toBe('[Cache] one | Context: {} | Key: quickpost:one');
    expect(logger.lines.debug.join('\n')).not.toContain('quickpost:two');
  });
});

describe('cacheable options', () => {
  it.each([
    [{ key: 'k', ttl: -5 }, 'ttl', '`ttl` must be a positive number of seconds, got -5'],
    [{ key: 'k', ttl: 0 }, 'ttl', 'got 0'],
    [{ key: 42 }, 'key', '`key` must be a key template string'],
    [{ key: 'k', debug: 'yes' }, 'debug', "got 'yes'"],
    [{ key: 'k', context: 'slug' }, 'context', 'must be a function'],
    [{ key: 'k', schema: {} }, 'schema', 'Standard Schema'],
    [{ key: 'k', tll: 5 }, 'tll', '`tll` is not an option of cacheable'],
  ])('rejects %j naming `%s`', (options, option, message) => {
    const cache = createCache();
    let error: unknown;
    try {
      cache.cacheable(() => 1, options as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ code: 'E_INVALID_OPTION', option });
    expect((error as Error).message).toContain(message);
  });

  it('rejects a non-function', () => {
    const cache = createCache();
    expect(() => cache.cacheable('nope' as never, { key: 'k' })).toThrow(InvalidOptionError);
  });
});
