import { describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/index.js';
import { recordingLogger } from '../helpers/stores.js';

describe('events', () => {
  it('name the key template and the key in hit, miss, set and invalidate events', async () => {
    const cache = createCache();
    const seen: string[] = [];
    for (const name of ['hit', 'miss', 'set', 'invalidate'] as const) {
      cache.on(name, (event) => {
        seen.push(`${name} ${event.source.template} ${'key' in event ? event.key : event.pattern}`);
      });
    }
    const get = cache.cacheable(async (slug: string) => slug, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    const update = cache.invalidating(async (_slug: string) => undefined, {
      patterns: ['posts:{{slug}}:*'],
      context: (slug) => ({ slug }),
    });
    await get('a');
    await get('a');
    await update('a');
    expect(seen).toEqual([
      'miss posts:{{slug}} quickpost:posts:a',
      'set posts:{{slug}} quickpost:posts:a',
      'hit posts:{{slug}} quickpost:posts:a',
      'invalidate posts:{{slug}}:* quickpost:posts:a:*',
    ]);
  });

  it('stop reaching a removed listener, and isolate a listener that throws', async () => {
    const logger = recordingLogger();
    const cache = createCache({ logger });
    const hits = vi.fn();
    const off = cache.on('hit', hits);
    cache.on('miss', () => {
      throw new Error('listener bug');
    });
    const get = cache.cacheable(() => 1, { key: 'k' });
    expect(get()).toBe(1);
    get();
    off();
    get();
    expect(hits).toHaveBeenCalledTimes(1);
    expect(logger.lines.error).toEqual([expect.stringContaining('an event listener threw')]);
  });
});
