/**
 * Invalidations are never lost: one the store does not confirm stays pending, is retried until it
 * is confirmed, and meanwhile this instance serves no matching key from the store. (The same on a
 * frozen and a killed Redis: test/redis/durable-invalidation.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import {
  type CacheEventMap,
  createCache,
  InvalidationError,
  MemoryStore,
} from '../../src/index.js';
import { ChaosStore } from '../../src/testing/index.js';
import { recordingLogger } from '../helpers/stores.js';

const DELETES = ['deletePattern', 'deleteTracked', 'delete'] as const;

function setup(options: { invalidationErrors?: 'throw'; invalidationWait?: number } = {}) {
  const store = new ChaosStore(new MemoryStore());
  const logger = recordingLogger();
  const cache = createCache({ store, logger, ...options });
  const db = new Map([['a', 'v1']]);
  let loads = 0;
  const getPost = cache.cacheable(
    async (slug: string) => {
      loads += 1;
      return db.get(slug);
    },
    { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
  );
  const updatePost = cache.invalidating(
    async (slug: string, title: string) => {
      db.set(slug, title);
      return title;
    },
    { patterns: ['posts:{{slug}}:*'], context: (slug) => ({ slug }) },
  );
  const events: { name: string; event: unknown }[] = [];
  for (const name of ['invalidate', 'invalidationPending', 'invalidationRetry'] as const) {
    cache.on(name, (event: CacheEventMap[typeof name]) => events.push({ name, event }));
  }
  return { store, logger, cache, getPost, updatePost, events, loads: () => loads };
}

/** Waits until `check` holds, polling every few ms (at most `ms`). */
async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('an invalidation the store does not confirm', () => {
  it('stays pending, bypasses matching keys meanwhile, and is retried until confirmed', async () => {
    const { store, logger, getPost, updatePost, events, loads } = setup();
    expect(await getPost('a')).toBe('v1');
    expect(await getPost('a')).toBe('v1');
    expect(loads()).toBe(1);
    store.fail(DELETES);
    expect(await updatePost('a', 'v2')).toBe('v2');
    expect(logger.lines.warn).toEqual([
      expect.stringContaining('INVALIDATION PENDING: deleting quickpost:posts:a:* failed'),
    ]);
    // The old value is still in the store, but this instance does not serve it.
    expect(await store.inner.get('quickpost:posts:a')).toBeDefined();
    expect(await getPost('a')).toBe('v2');
    expect(await getPost('a')).toBe('v2');
    expect(loads()).toBe(3);
    store.heal();
    await until(() => events.some(({ name }) => name === 'invalidate'));
    expect(events.map(({ name }) => name)).toEqual(
      expect.arrayContaining(['invalidationPending', 'invalidationRetry', 'invalidate']),
    );
    const confirmed = events.at(-1)?.event as CacheEventMap['invalidate'];
    expect(confirmed.pattern).toBe('quickpost:posts:a:*');
    expect(confirmed.attempts).toBeGreaterThan(1);
    expect(logger.lines.warn.at(-1)).toContain('INVALIDATION CONFIRMED: quickpost:posts:a:*');
    // Confirmed: the store is used again, and holds the new value once filled.
    expect(await getPost('a')).toBe('v2');
    expect(await getPost('a')).toBe('v2');
    expect(loads()).toBe(4);
  });

  it('does not hold the mutation’s caller while the store hangs, and goes on in the background', async () => {
    const { store, getPost, updatePost, events } = setup({ invalidationWait: 30 });
    await getPost('a');
    store.hang(DELETES);
    expect(await updatePost('a', 'v2')).toBe('v2');
    expect(await getPost('a')).toBe('v2');
    expect(events.filter(({ name }) => name === 'invalidate')).toEqual([]);
  });

  it('merges requests for one pattern while it is pending into one retry', async () => {
    const { store, updatePost, events } = setup();
    store.fail(DELETES);
    await Promise.all(Array.from({ length: 20 }, (_, i) => updatePost('a', `v${i}`)));
    const failedCalls = store.calls.deleteTracked + store.calls.deletePattern;
    // One attempt, then a retry every 50–100 ms or so while the mutations waited: not one each.
    expect(failedCalls).toBeLessThan(6);
    store.heal();
    await until(() => events.some(({ name }) => name === 'invalidate'));
    expect(events.filter(({ name }) => name === 'invalidate')).toHaveLength(1);
  });

  it('covers a request made while a delete of the same pattern runs only with the next delete', async () => {
    const { store, updatePost, events } = setup();
    const first = store.hold('deleteTracked', { phase: 'request' });
    const one = updatePost('a', 'v2');
    await first.reached;
    const two = updatePost('a', 'v3');
    first.release();
    await Promise.all([one, two]);
    await until(() => events.filter(({ name }) => name === 'invalidate').length === 2);
    expect(store.calls.deleteTracked).toBe(2);
  });

  it('throws InvalidationError with invalidationErrors: throw, and still retries', async () => {
    const { store, updatePost, events } = setup({ invalidationErrors: 'throw' });
    store.fail(DELETES);
    const error = await updatePost('a', 'v2').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidationError);
    expect(error).toMatchObject({ result: 'v2', patterns: ['quickpost:posts:a:*'] });
    store.heal();
    await until(() => events.some(({ name }) => name === 'invalidate'));
  });

  it('is never dropped by an open breaker', async () => {
    const store = new ChaosStore(new MemoryStore());
    const logger = recordingLogger();
    const cache = createCache({ store, logger, breaker: { failures: 1, cooldown: 60_000 } });
    await cache.set('posts:a', 'v1');
    store.fail('get');
    expect(await cache.get('posts:a')).toBeUndefined();
    expect(logger.lines.warn.some((line) => line.includes('BREAKER OPEN'))).toBe(true);
    store.heal();
    expect(await cache.deletePattern('posts:*')).toBe(1);
    expect(await store.inner.get('quickpost:posts:a')).toBeUndefined();
  });

  it('is drained by close(), which reports what the store never confirmed', async () => {
    const { store, logger, cache, updatePost } = setup();
    store.fail(DELETES);
    await updatePost('a', 'v2');
    await cache.close({ timeout: 200 });
    expect(logger.lines.error).toEqual([
      expect.stringContaining('closing with 1 unconfirmed invalidation (quickpost:posts:a:*)'),
    ]);
  });

  it('is confirmed by close() once the store answers again', async () => {
    const { store, logger, cache, updatePost } = setup();
    store.fail(DELETES);
    await updatePost('a', 'v2');
    store.heal();
    await cache.close();
    expect(logger.lines.error).toEqual([]);
    expect(await store.inner.get('quickpost:posts:a')).toBeUndefined();
  });

  it('merges into one invalidation of the whole prefix beyond maxPendingInvalidations', async () => {
    const store = new ChaosStore(new MemoryStore());
    const cache = createCache({ store, logger: recordingLogger(), maxPendingInvalidations: 3 });
    const pending: string[] = [];
    cache.on('invalidationPending', ({ pattern }) => pending.push(pattern));
    store.fail(DELETES);
    for (const slug of ['a', 'b', 'c', 'd', 'e'])
      await cache.deletePattern('posts:{{slug}}:*', { slug }).catch(() => 0);
    expect(pending).toEqual([
      'quickpost:posts:a:*',
      'quickpost:posts:b:*',
      'quickpost:posts:c:*',
      'quickpost:*',
    ]);
  });
});
