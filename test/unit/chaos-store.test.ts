/**
 * ChaosStore keeps the optional capabilities of the store it wraps: behind it, a cache has leases
 * and a key index exactly when it would have them on the wrapped store, and the index's calls can
 * fail, hang, slow down or be held like any other.
 */
import { describe, expect, it } from 'vitest';
import { createCache, MemoryStore } from '../../src/index.js';
import { indexOf } from '../../src/stores/store.js';
import { ChaosStore } from '../../src/testing/index.js';
import { AsyncMemoryStore } from '../helpers/stores.js';

describe('ChaosStore and the key index', () => {
  it('has track and deleteTracked exactly when the wrapped store has them', () => {
    expect(indexOf(new ChaosStore(new MemoryStore()))).toBeDefined();
    expect(indexOf(new ChaosStore(new AsyncMemoryStore()))).toBeUndefined();
  });

  it('lets a cache behind it answer pattern invalidations from the index, not a scan', async () => {
    const store = new ChaosStore(new MemoryStore());
    const cache = createCache({ store });
    const scans: string[] = [];
    cache.on('scan', ({ pattern }) => scans.push(pattern));
    await cache.set('posts:a:comments', 1);
    expect(await cache.deletePattern('posts:a:*')).toBe(1);
    expect(scans).toEqual([]);
    expect(store.calls.deleteTracked).toBe(1);
    expect(store.calls.deletePattern).toBe(0);
    expect(store.calls.track).toBeGreaterThan(0);
  });

  it('fails and holds track and deleteTracked like any other method', async () => {
    const store = new ChaosStore(new MemoryStore());
    store.fail('track');
    await expect(store.track?.('p:a:b', 1000)).rejects.toThrow('chaos');
    store.heal();
    const held = store.hold('deleteTracked');
    const answer = Promise.resolve(store.deleteTracked?.('p:a:*'));
    await held.reached;
    let settled = false;
    void answer.then(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    held.release();
    expect(await answer).toEqual({ removed: 0 });
  });
});
