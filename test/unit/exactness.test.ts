/**
 * In-process side of exact invalidation: a caller that joined a computation takes its result only
 * if the result vouches for it (a store operation sent, or the function started, after the caller
 * arrived); otherwise it reads again.
 */
import { describe, expect, it } from 'vitest';
import { createCache, MemoryStore } from '../../src/index.js';
import { ChaosStore } from '../../src/testing/index.js';
import { deferred } from '../helpers/stores.js';

/** Lets every pending promise reaction and I/O callback run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('a caller that joined a computation an invalidation overtook', () => {
  it('reads again, and takes the next computation, which started after it arrived', async () => {
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
    // Joins the first computation, whose function started before it arrived.
    const joiner = load();
    await settle();
    // An invalidation overtakes that computation; a new caller starts the next one.
    await cache.delete('hot');
    const next = load();
    await settle();
    expect(gates).toHaveLength(2);
    gates[0]?.resolve('computation 1');
    await settle();
    // The joiner moved on to the second computation instead of taking the overtaken result.
    expect(gates).toHaveLength(2);
    gates[1]?.resolve('computation 2');
    expect(await first).toBe('computation 1');
    expect(await joiner).toBe('computation 2');
    expect(await next).toBe('computation 2');
    expect(await cache.get('hot')).toBe('computation 2');
  });

  it('throws a clear error when the function calls itself for its own key', async () => {
    const cache = createCache({ store: new ChaosStore(new MemoryStore()) });
    const load: () => Promise<string> = cache.cacheable(
      async function recursive(): Promise<string> {
        return `outer(${await load()})`;
      },
      { key: 'self' },
    );
    await expect(load()).rejects.toMatchObject({
      code: 'E_REENTRANT_CALL',
      key: 'quickpost:self',
    });
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

describe('reads of one hot key', () => {
  it('share one store read if they arrive before it is sent, and no later ones', async () => {
    const store = new ChaosStore(new MemoryStore());
    const cache = createCache({ store });
    await cache.set('hot', 'v1');
    const load = cache.cacheable(async () => 'computed', { key: 'hot' });
    const before = store.calls.get;
    const held = store.hold('get', { phase: 'request' });
    const early = [load(), load(), load()];
    await held.reached;
    expect(store.calls.get - before).toBe(1);
    // The read is on its way: a caller arriving now may not share its reply.
    const late = load();
    await settle();
    expect(store.calls.get - before).toBe(2);
    held.release();
    expect(await Promise.all([...early, late])).toEqual(['v1', 'v1', 'v1', 'v1']);
  });
});
