import { describe, expect, it } from 'vitest';
import { createCache, InvalidOptionError, TemplateSyntaxError } from '../../src/index.js';

describe('cacheable options are checked when the wrapper is made', () => {
  it('throws when the wrapper is made for a malformed template or a missing `context`', () => {
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

  it.each([
    [{ key: 'k', ttl: -5 }, 'ttl', '`ttl` must be a positive number of seconds, or a duration'],
    [{ key: 'k', ttl: -5 }, 'ttl', 'got -5'],
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

  it('throws InvalidOptionError when given something other than a function', () => {
    const cache = createCache();
    expect(() => cache.cacheable('nope' as never, { key: 'k' })).toThrow(InvalidOptionError);
  });
});
