import { describe, expect, it } from 'vitest';
import {
  Cache,
  createCache,
  InvalidOptionError,
  isCacheError,
  MemoryStore,
} from '../../src/index.js';

describe('createCache', () => {
  it('has documented defaults', () => {
    const cache = createCache();
    expect(cache).toBeInstanceOf(Cache);
    expect(cache.store).toBeInstanceOf(MemoryStore);
    expect(cache.prefix).toBe('quickpost');
    expect(cache.ttl).toBe(300);
    expect(cache.get('absent')).toBeUndefined();
  });

  it.each([
    [
      { ttl: -5 },
      'ttl',
      "[quickpost-cache] `ttl` must be a positive number of seconds, or a duration such as '10m' (a number right before ms, s, m, h or d), got -5",
    ],
    [{ ttl: Number.NaN }, 'ttl', 'got NaN'],
    [{ ttl: '60' }, 'ttl', "got '60'"],
    [{ prefix: 'my app' }, 'prefix', '`prefix` must be a non-empty string of letters, digits'],
    [{ prefix: 'app*' }, 'prefix', "got 'app*'"],
    [{ prefix: 'app\u0001' }, 'prefix', 'got'],
    [{ prefix: 'blog:admin' }, 'prefix', '(no `:`)'],
    [{ prefix: '' }, 'prefix', "got ''"],
    [{ store: {} }, 'store', 'missing: get, set, delete, deletePattern'],
    [{ store: { get() {}, set() {}, delete() {} } }, 'store', 'missing: deletePattern'],
    [{ logger: { debug() {} } }, 'logger', 'missing: warn, error'],
    [{ serializer: { serialize() {} } }, 'serializer', 'missing: deserialize'],
    [{ debug: 1 }, 'debug', 'must be true or false'],
    [{ prefx: 'x' }, 'prefx', '`prefx` is not an option of createCache; known options are'],
  ])('rejects %j naming `%s`', (options, option, message) => {
    let error: unknown;
    try {
      createCache(options as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ name: 'InvalidOptionError', code: 'E_INVALID_OPTION', option });
    expect((error as Error).message).toContain(message);
    expect(isCacheError(error)).toBe(true);
  });

  it('rejects options that are not an object', () => {
    expect(() => createCache(5 as never)).toThrow(InvalidOptionError);
  });
});

describe('MemoryStore options', () => {
  it.each([
    [{ maxEntries: 0 }, 'maxEntries'],
    [{ maxEntries: 1.5 }, 'maxEntries'],
    [{ maxBytes: -1 }, 'maxBytes'],
    [{ maxSize: 10 }, 'maxSize'],
  ])('rejects %j naming `%s`', (options, option) => {
    expect(() => new MemoryStore(options as never)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', option }),
    );
  });
});

describe('isCacheError', () => {
  it('recognises errors from another copy of the library by their code', () => {
    const foreign = Object.assign(new Error('x'), { code: 'E_INVALID_OPTION' });
    expect(isCacheError(foreign)).toBe(true);
    expect(isCacheError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false);
    expect(isCacheError('E_INVALID_OPTION')).toBe(false);
  });
});
