// Issue 10: the hint of a missing value always said "Return `x` from the `context` function",
// even when the context came from `contextFromResult` or from the caller of the manual API.
import { describe, expect, it } from 'vitest';
import { compileTemplate, createCache, MissingContextValueError } from '../../src/index.js';

/** The error `run` throws or rejects with. */
async function errorOf(run: () => unknown): Promise<MissingContextValueError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(MissingContextValueError);
    return error as MissingContextValueError;
  }
  throw new Error('expected a MissingContextValueError');
}

describe('a missing context value', () => {
  it('names the `context` function of the cacheable wrapper that left it out', async () => {
    const cache = createCache();
    const getPost = cache.cacheable(async (slug?: string) => slug, {
      key: 'posts:{{slug}}',
      name: 'getPost',
      context: (slug) => ({ slug: slug as string }),
    });
    const error = await errorOf(() => getPost(undefined));
    expect(error).toMatchObject({
      origin: 'context',
      template: 'posts:{{slug}}',
      placeholder: 'slug',
    });
    expect(error.message).toBe(
      '[quickpost-cache] Template "posts:{{slug}}" needs a value for {{slug}}, but the `context` function of getPost returned none (or undefined). Return `slug` from `context`.',
    );
  });

  it('names the `context` function of the invalidating wrapper, before the mutation runs', async () => {
    const cache = createCache();
    let ran = false;
    const save = cache.invalidating(
      async (_slug?: string) => {
        ran = true;
      },
      { patterns: ['posts:{{slug}}:*'], context: (slug) => ({ slug: slug as string }) },
    );
    const error = await errorOf(() => save(undefined));
    expect(error.origin).toBe('context');
    expect(error.message).toContain(
      'but the `context` function of invalidating(posts:{{slug}}:*) returned none',
    );
    expect(ran).toBe(false);
  });

  it('names `contextFromResult` when the value was to come from the result', async () => {
    const cache = createCache();
    const create = cache.invalidating(async () => ({ id: 1 }), {
      patterns: ['posts:{{slug}}:*'],
      name: 'createPost',
      contextFromResult: (post) => ({ slug: (post as { slug?: string }).slug as string }),
    });
    const error = (await create().catch((e: unknown) => e)) as { cause: unknown };
    expect(error.cause).toBeInstanceOf(MissingContextValueError);
    expect(error.cause).toMatchObject({ origin: 'contextFromResult' });
    expect((error.cause as Error).message).toContain(
      "but the `contextFromResult` function of createPost returned none (or undefined) for this result. Return `slug` from `contextFromResult`, which receives the mutation's result, then its arguments.",
    );
  });

  it.each([
    ['get', (cache: ReturnType<typeof createCache>) => cache.get('posts:{{slug}}', {} as never)],
    [
      'set',
      (cache: ReturnType<typeof createCache>) =>
        cache.set('posts:{{slug}}', 1, { context: {} as never }),
    ],
    [
      'delete',
      (cache: ReturnType<typeof createCache>) => cache.delete('posts:{{slug}}', {} as never),
    ],
    [
      'deletePattern',
      (cache: ReturnType<typeof createCache>) =>
        cache.deletePattern('posts:{{slug}}:*', {} as never),
    ],
    [
      'getOrSet',
      (cache: ReturnType<typeof createCache>) =>
        cache.getOrSet('posts:{{slug}}', () => 1, { context: {} as never }),
    ],
  ])('names the caller’s context argument of cache.%s()', async (method, call) => {
    const error = await errorOf(() => call(createCache()));
    expect(error.origin).toBe('argument');
    expect(error.message).toContain(
      `but the context given to cache.${method}() has none (or undefined). Add \`slug\` to it.`,
    );
  });

  it('blames no function when a compiled template is called directly', () => {
    const render = compileTemplate('posts:{{slug}}') as (context: object) => string;
    let error: unknown;
    try {
      render({});
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toMatchObject({ origin: undefined });
    expect((error as Error).message).toContain(
      'but the context has none (or undefined). Give `slug` a value in the context.',
    );
  });
});
