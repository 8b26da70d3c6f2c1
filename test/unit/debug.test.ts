// The debug lines themselves are checked on every store by the cache-behaviour suite
// (test/unit/behaviour.test.ts); the manual API's and invalidating's lines in their own files.
import { describe, expect, it } from 'vitest';
import { createCache, type EventSource } from '../../src/index.js';
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
});
