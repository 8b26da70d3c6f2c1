/**
 * Forgetting to invalidate, and typos in patterns: a cache knows its key templates, checks each
 * `invalidating` pattern against them at the wrapper's first call, and lists templates no
 * pattern invalidates.
 */
import { describe, expect, it } from 'vitest';
import { createCache, InvalidOptionError } from '../../src/index.js';
import { recordingLogger } from '../helpers/stores.js';

const load = async (slug: string) => slug;

function blog(options: { strict?: boolean } = {}) {
  const logger = recordingLogger();
  const cache = createCache({ logger, ...options });
  cache.cacheable(load, { key: 'posts:{{slug}}', context: (slug) => ({ slug }) });
  cache.cacheable(load, { key: 'posts:{{slug}}:comments', context: (slug) => ({ slug }) });
  cache.cacheable(async (page: number) => [page], {
    key: 'posts:list:{{page}}',
    context: (page) => ({ page }),
  });
  cache.cacheable(async (id: number) => id, {
    key: 'users:{{user_id}}:profile',
    context: (id) => ({ user_id: id }),
  });
  return { cache, logger };
}

describe('checking invalidation patterns against the key templates', () => {
  it.each([
    ['posts:{{slug}}:*'],
    ['posts:list:*'],
    ['posts:*'],
    ['users:{{user_id}}:profile'],
    ['users:[0-9]*:*'],
    ['*:comments'],
    ['posts:?:comments'],
  ])('accepts %s, which matches some template’s keys', async (pattern) => {
    const { cache, logger } = blog();
    await cache.invalidating(async () => 1, {
      patterns: [pattern],
      ...(pattern.includes('{{') ? { context: () => ({ slug: 'a', user_id: 1 }) } : {}),
    } as never)();
    expect(logger.lines.warn).toEqual([]);
  });

  it.each([
    ['post:{{slug}}:*', 'matches the keys of no template of this cache'],
    ['users:{{user_id}}:settings', 'matches the keys of no template of this cache'],
    ['posts', 'matches the keys of no template of this cache'],
    ['comments:{{slug}}:*', 'matches the keys of no template of this cache'],
  ])('warns once that %s matches nothing', async (pattern, problem) => {
    const { cache, logger } = blog();
    const mutate = cache.invalidating(async (_slug: string) => 1, {
      patterns: [pattern],
      ...(pattern.includes('{{') ? { context: (slug: string) => ({ slug, user_id: 1 }) } : {}),
    } as never) as (slug: string) => Promise<number>;
    await mutate('a');
    await mutate('b');
    expect(logger.lines.warn).toEqual([expect.stringContaining(problem)]);
    expect(logger.lines.warn[0]).toContain(pattern);
  });

  it('warns when a pattern puts one value where the keys hold another (the QuickPost like bug)', async () => {
    const { cache, logger } = blog();
    const toggleLike = cache.invalidating(async function toggleLike(_id: number) {}, {
      patterns: ['posts:{{obj_id}}:*'],
      context: (id) => ({ obj_id: id }),
    });
    await toggleLike(7);
    expect(logger.lines.warn).toEqual([
      '[Cache] WARNING: the pattern posts:{{obj_id}}:* of toggleLike puts {{obj_id}} where the template posts:{{slug}} has {{slug}}: check that they hold the same value',
      '[Cache] WARNING: the pattern posts:{{obj_id}}:* of toggleLike puts {{obj_id}} where the template posts:{{slug}}:comments has {{slug}}: check that they hold the same value',
    ]);
  });

  it('counts templates registered after the invalidating wrapper was made', async () => {
    const logger = recordingLogger();
    const cache = createCache({ logger });
    const save = cache.invalidating(async (slug: string) => slug, {
      patterns: ['drafts:{{slug}}'],
      context: (slug) => ({ slug }),
    });
    cache.cacheable(load, { key: 'drafts:{{slug}}', context: (slug) => ({ slug }) });
    await save('a');
    expect(logger.lines.warn).toEqual([]);
  });

  it('throws before the mutation runs when strict', async () => {
    const { cache } = blog({ strict: true });
    let ran = false;
    const save = cache.invalidating(
      async (_slug: string) => {
        ran = true;
      },
      { patterns: ['post:{{slug}}:*'], context: (slug) => ({ slug }) },
    );
    await expect(save('a')).rejects.toThrow(InvalidOptionError);
    await expect(save('a')).rejects.toThrow(
      /the pattern post:\{\{slug\}\}:\* of invalidating\(post:\{\{slug\}\}:\*\) matches/,
    );
    expect(ran).toBe(false);
  });

  it('checks nothing on a cache without cacheable templates (manual API only)', async () => {
    const logger = recordingLogger();
    const cache = createCache({ logger });
    await cache.invalidating(async () => 1, { patterns: ['anything:*'] })();
    expect(logger.lines.warn).toEqual([]);
  });
});

describe('cache.templates()', () => {
  it('lists each template with the patterns that invalidate it, and shows the uncovered ones', () => {
    const { cache } = blog();
    cache.invalidating(async (_slug: string) => 1, {
      patterns: ['posts:{{slug}}:*', 'posts:list:*'],
      context: (slug) => ({ slug }),
    });
    expect(cache.templates()).toEqual([
      // A slug can be "list": each pattern matches keys of the other's templates too.
      { template: 'posts:{{slug}}', invalidatedBy: ['posts:{{slug}}:*', 'posts:list:*'] },
      { template: 'posts:{{slug}}:comments', invalidatedBy: ['posts:{{slug}}:*', 'posts:list:*'] },
      { template: 'posts:list:{{page}}', invalidatedBy: ['posts:{{slug}}:*', 'posts:list:*'] },
      { template: 'users:{{user_id}}:profile', invalidatedBy: [] },
    ]);
    const uncovered = cache.templates().filter((t) => t.invalidatedBy.length === 0);
    expect(uncovered.map((t) => t.template)).toEqual(['users:{{user_id}}:profile']);
  });
});
