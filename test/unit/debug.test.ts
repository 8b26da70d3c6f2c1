// The debug lines themselves are checked on every store by the cache-behaviour suite
// (test/unit/behaviour.test.ts); the manual API's and invalidating's lines in their own files.
import { describe, expect, it } from 'vitest';
import { createCache, type EventSource, encodeKeyValue } from '../../src/index.js';
import { recordingLogger } from '../helpers/stores.js';

describe('debug mode', () => {
  it('logs no debug lines when debug is off', async () => {
    const logger = recordingLogger();
    const cache = createCache({ logger });
    const get = cache.cacheable(async () => 1, { key: 'one' });
    await get();
    await get();
    expect(logger.lines.debug).toEqual([]);
  });

  it('follows the cache’s `debug` unless the wrapper sets its own', async () => {
    const logger = recordingLogger();
    const cache = createCache({ logger, debug: true });
    await cache.cacheable(async () => 1, { key: 'one', name: 'one' })();
    await cache.cacheable(async () => 2, { key: 'two', debug: false })();
    expect(logger.lines.debug[0]).toBe('[Cache] one | Context: {} | Key: quickpost:one');
    expect(logger.lines.debug.join('\n')).not.toContain('quickpost:two');
  });

  // Issue 10: arrow functions have no name, so every wrapper of one logged as `anonymous`.
  it('names the wrapper of a function without a name after its key template', async () => {
    const logger = recordingLogger();
    const cache = createCache({ logger, debug: true });
    const sources: EventSource[] = [];
    cache.on('lookup', ({ source }) => sources.push(source));
    const getPost = cache.cacheable(async (slug: string) => ({ slug }), {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    expect(getPost.name).toBe('cacheable(posts:{{slug}})');
    await getPost('a');
    expect(sources.map((source) => source.name)).toEqual(['cacheable(posts:{{slug}})']);
    expect(logger.lines.debug[0]).toBe(
      '[Cache] cacheable(posts:{{slug}}) | Context: {"slug":"a"} | Key: quickpost:posts:a',
    );
  });

  it('names the wrapper of a mutation without a name after its patterns', async () => {
    const logger = recordingLogger();
    const cache = createCache({ logger, debug: true });
    const sources: EventSource[] = [];
    cache.on('mutation', ({ source }) => sources.push(source));
    const save = cache.invalidating(async (slug: string) => slug, {
      patterns: ['posts:{{slug}}:*', 'posts:list:*'],
      context: (slug) => ({ slug }),
    });
    expect(save.name).toBe('invalidating(posts:{{slug}}:*, posts:list:*)');
    await save('a');
    expect(sources.map((source) => source.name)).toEqual([
      'invalidating(posts:{{slug}}:*, posts:list:*)',
    ]);
    expect(logger.lines.debug[0]).toMatch(
      /^\[Cache\] invalidating\(posts:\{\{slug\}\}:\*, posts:list:\*\) \| Context: /,
    );
  });

  it('keeps the function’s own name, and lets the `name` option name an anonymous one', async () => {
    const logger = recordingLogger();
    const cache = createCache({ logger, debug: true });
    async function loadPost(slug: string) {
      return slug;
    }
    const named = cache.cacheable(loadPost, { key: 'p:{{slug}}', context: (slug) => ({ slug }) });
    expect(named.name).toBe('loadPost');
    const optioned = cache.cacheable(async () => 1, { key: 'one', name: 'getOne' });
    expect(optioned.name).toBe('getOne');
    const mutation = cache.invalidating(async () => 1, { patterns: ['one'], name: 'resetOne' });
    expect(mutation.name).toBe('resetOne');
    await named('x');
    await optioned();
    expect(logger.lines.debug.filter((line) => line.includes('| Key:'))).toEqual([
      '[Cache] loadPost | Context: {"slug":"x"} | Key: quickpost:p:x',
      '[Cache] getOne | Context: {} | Key: quickpost:one',
    ]);
  });

  // Issue 10: the whole context was printed, and a `Bearer` token a context returned reached a log.
  it('prints only the values the key template uses, never other fields of the context', async () => {
    const logger = recordingLogger();
    const cache = createCache({ logger, debug: true });
    const lookups: unknown[] = [];
    cache.on('lookup', ({ context }) => lookups.push(context));
    const getPost = cache.cacheable(
      async (req: { token: string; user: number }, slug: string) => ({ slug, by: req.user }),
      {
        key: 'posts:{{slug}}:{{user}}',
        // Returns more than the template needs, as an extractor spreading the request would.
        context: (req, slug) => ({ ...req, slug }),
      },
    );
    await getPost({ token: 'Bearer s3cr3t-token', user: 7 }, 'a');
    expect(logger.lines.debug[0]).toBe(
      '[Cache] cacheable(posts:{{slug}}:{{user}}) | Context: {"slug":"a","user":7} | Key: quickpost:posts:a:7',
    );
    expect(logger.lines.debug.join('\n')).not.toContain('s3cr3t');
    // Events still carry what the extractor returned: a listener decides what it logs.
    expect(lookups).toEqual([{ token: 'Bearer s3cr3t-token', user: 7, slug: 'a' }]);
  });

  it('prints an object value as the hash its key holds, not its content', async () => {
    const logger = recordingLogger();
    const cache = createCache({ logger, debug: true });
    const listPosts = cache.cacheable(async (filters: object) => [filters], {
      key: 'posts:list:{{filters}}:{{big}}',
      context: (filters) => ({ filters, big: 10n ** 20n }),
    });
    const filters = { tag: 'redis', apiKey: 'k-s3cr3t' };
    await listPosts(filters);
    const hash = encodeKeyValue(filters) as string;
    expect(hash).toMatch(/^~[0-9a-f]{40}$/);
    expect(logger.lines.debug[0]).toBe(
      `[Cache] cacheable(posts:list:{{filters}}:{{big}}) | Context: {"filters":"${hash}","big":"100000000000000000000n"} | Key: quickpost:posts:list:${hash}:100000000000000000000`,
    );
    expect(logger.lines.debug.join('\n')).not.toContain('s3cr3t');
  });

  it('prints only the patterns’ values for a mutation, from its arguments or its result', async () => {
    const logger = recordingLogger();
    const cache = createCache({ logger, debug: true });
    const update = cache.invalidating(async (session: { token: string; slug: string }) => session, {
      patterns: ['posts:{{slug}}:*', 'posts:list:*'],
      context: (session) => session,
    });
    const create = cache.invalidating(
      async (title: string) => ({ slug: title.toLowerCase(), token: 'Bearer s3cr3t-result' }),
      { patterns: ['posts:{{slug}}:*'], contextFromResult: (post) => post },
    );
    await update({ token: 'Bearer s3cr3t-argument', slug: 'a' });
    await create('B');
    const mutations = logger.lines.debug.filter((line) => line.includes('| Patterns:'));
    expect(mutations).toEqual([
      '[Cache] invalidating(posts:{{slug}}:*, posts:list:*) | Context: {"slug":"a"} | Patterns: quickpost:posts:a:*, quickpost:posts:list:*',
      '[Cache] invalidating(posts:{{slug}}:*) | Context: {"slug":"b"} | Patterns: quickpost:posts:b:*',
    ]);
    expect(logger.lines.debug.join('\n')).not.toContain('s3cr3t');
  });
});
