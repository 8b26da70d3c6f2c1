/**
 * In-process side of exact invalidation: callers that joined computations which an invalidation
 * overtook read again, a bounded number of times, then compute alone and store nothing.
 */
import { describe, expect, it } from 'vitest';
import { createCache, MemoryStore } from '../../src/index.js';
import { ChaosStore } from '../../src/testing/index.js';
import { deferred } from '../helpers/stores.js';

/** Lets every pending promise reaction and I/O callback run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('a caller whose joined computations keep being invalidated', () => {
  it('reads again twice, then runs the function itself and stores nothing', async () => {
    const cache = createCache({ store: new ChaosStore(new MemoryStore()) });
    const gates: { resolve: (value: string) => void }[] = [];
    const load = cache.cacheable(
      () => {
        const gate = deferred<string>();
        gates.push(gate);
        return gate.promise;
      },
      { key: 'hot' },
    );
    const first = load();
    await settle();
    expect(gates).toHaveLength(1);
    // Joins the first computation.
    const joiner = load();
    await settle();
    for (let round = 1; round <= 2; round += 1) {
      // An invalidation overtakes the computation the joiner waits for, and a new caller starts
      // the next one; the overtaken computation then ends, and the joiner moves on to the next.
      await cache.delete('hot');
      const next = load();
      await settle();
      expect(gates).toHaveLength(round + 1);
      gates[round - 1]?.resolve(`computation ${round}`);
      await settle();
      void next;
    }
    await cache.delete('hot');
    gates[2]?.resolve('computation 3');
    await settle();
    // Rounds exhausted: the joiner ran the function itself.
    expect(gates).toHaveLength(4);
    gates[3]?.resolve('own computation');
    expect(await first).toBe('computation 1');
    expect(await joiner).toBe('own computation');
    expect(await cache.get('hot')).toBeUndefined();
  });

  it('takes a result stored after it arrived', async () => {
    const cache = createCache({ store: new ChaosStore(new MemoryStore()) });
    const gate = deferred<string>();
    let runs = 0;
    const load = cache.cacheable(
      () => {
        runs += 1;
        return gate.promise;
      },
      { key: 'hot' },
    );
    const calls = [load(), load(), load()];
    await settle();
    gate.resolve('v');
    expect(await Promise.all(calls)).toEqual(['v', 'v', 'v']);
    expect(runs).toBe(1);
    expect(await cache.get('hot')).toBe('v');
  });
});
