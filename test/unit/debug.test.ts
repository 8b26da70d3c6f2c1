// The debug lines themselves are checked on every store by the cache-behaviour suite
// (test/unit/behaviour.test.ts); the manual API's and invalidating's lines in their own files.
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/index.js';
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
});
