import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGlobMatcher } from '../glob.js';
import { atomicOf, type Store } from '../stores/store.js';
import { GLOB_KEYS, GLOB_MATCHES } from './glob-table.js';

/** How {@link describeStoreConformance} gets, and disposes of, the store under test. */
export interface StoreConformanceOptions<S extends Store> {
  /** Shown in the test names. */
  name: string;
  /** Creates the store; called once for the whole suite. */
  create: () => S | Promise<S>;
  /** Disposes of the store after the suite (close connections, stop timers). */
  dispose?: (store: S) => unknown;
  /**
   * Entries examined by the pattern-delete volume test.
   * @default 5000
   */
  volume?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The `Store` contract as a vitest suite, for the stores this package ships and for your own:
 * every method, TTL expiry, Redis glob semantics (a table of patterns × keys recorded from Redis),
 * 1 MB values, unusual strings, concurrent use, and the optional atomic writes when the store has
 * them. Every key it writes is under a random
 * namespace, so it can run against a store that holds other data.
 *
 * @example
 * // my-store.test.ts
 * import { describeStoreConformance } from 'quickpost-cache/testing';
 * describeStoreConformance({ name: 'MyStore', create: () => new MyStore(), dispose: (s) => s.close() });
 */
export function describeStoreConformance<S extends Store>(
  options: StoreConformanceOptions<S>,
): void {
  describe(`Store conformance: ${options.name}`, () => {
    let store: S;
    let ns = '';
    /** A fresh namespace per test, so tests never see each other's keys. */
    const key = (suffix: string) => `${ns}${suffix}`;

    beforeAll(async () => {
      store = await options.create();
    });
    afterAll(async () => {
      if (store !== undefined) await options.dispose?.(store);
    });

    const fresh = () => {
      ns = `qc-conformance:${randomUUID()}:`;
    };
    const isAbsent = (value: unknown) => value === undefined || value === null;

    it('declares sync only if every method answers directly', async () => {
      fresh();
      const results = [
        store.set(key('a'), 'v', 10_000),
        store.get(key('a')),
        store.delete(key('a')),
        store.deletePattern(key('*')),
      ];
      const anyPromise = results.some((result) => result instanceof Promise);
      await Promise.all(results);
      if (store.sync === true) expect(anyPromise).toBe(false);
    });

    it('returns nothing for an absent key', async () => {
      fresh();
      expect(isAbsent(await store.get(key('absent')))).toBe(true);
    });

    it('sets, reads back exactly, and overwrites', async () => {
      fresh();
      await store.set(key('a'), 'first', 10_000);
      expect(await store.get(key('a'))).toBe('first');
      await store.set(key('a'), 'second', 10_000);
      expect(await store.get(key('a'))).toBe('second');
    });

    it('deletes one key and says whether it existed', async () => {
      fresh();
      await store.set(key('a'), 'v', 10_000);
      await store.set(key('b'), 'v', 10_000);
      expect(await store.delete(key('a'))).toBe(true);
      expect(await store.delete(key('a'))).toBe(false);
      expect(await store.delete(key('never'))).toBe(false);
      expect(isAbsent(await store.get(key('a')))).toBe(true);
      expect(await store.get(key('b'))).toBe('v');
    });

    it('expires entries after their TTL, and does not count expired entries as removed', async () => {
      fresh();
      await store.set(key('short'), 'v', 100);
      await store.set(key('short2'), 'v', 100);
      await store.set(key('long'), 'v', 60_000);
      await sleep(400);
      expect(isAbsent(await store.get(key('short')))).toBe(true);
      expect(await store.get(key('long'))).toBe('v');
      expect(await store.delete(key('short2'))).toBe(false);
      await store.set(key('gone'), 'v', 100);
      await sleep(400);
      expect(await store.deletePattern(key('*'))).toBe(1);
    });

    it('accepts fractional TTLs in milliseconds', async () => {
      fresh();
      await store.set(key('a'), 'v', 10_000.5);
      expect(await store.get(key('a'))).toBe('v');
    });

    it.each(Object.keys(GLOB_MATCHES))('deletes by the Redis glob %j exactly', async (pattern) => {
      fresh();
      const keys = GLOB_KEYS.map(key);
      await Promise.all(keys.map((k) => store.set(k, 'v', 60_000)));
      const matches = createGlobMatcher(key(pattern));
      const expected = keys.filter((k) => matches(k));
      expect(await store.deletePattern(key(pattern))).toBe(expected.length);
      const left = await Promise.all(keys.map(async (k) => isAbsent(await store.get(k))));
      expect(keys.filter((_, i) => left[i])).toEqual(expected);
    });

    it('deletes many keys by pattern, and only the matching ones', async () => {
      fresh();
      const volume = options.volume ?? 5000;
      const batch = 500;
      for (let start = 0; start < volume; start += batch) {
        await Promise.all(
          Array.from({ length: Math.min(batch, volume - start) }, (_, i) =>
            store.set(
              key(`posts:${start + i}:${(start + i) % 2 === 0 ? 'even' : 'odd'}`),
              'v',
              60_000,
            ),
          ),
        );
      }
      expect(await store.deletePattern(key('posts:*:even'))).toBe(Math.ceil(volume / 2));
      expect(await store.get(key('posts:1:odd'))).toBe('v');
      expect(await store.deletePattern(key('posts:*'))).toBe(Math.floor(volume / 2));
      expect(await store.deletePattern(key('posts:*'))).toBe(0);
    });

    it('stores a 1 MB value intact', async () => {
      fresh();
      const big = Array.from({ length: 1024 * 1024 }, (_, i) =>
        String.fromCharCode(33 + (i % 90)),
      ).join('');
      await store.set(key('big'), big, 60_000);
      expect(await store.get(key('big'))).toBe(big);
    });

    it.each([
      ['emoji', '😀🎉', 'värde 😀'],
      ['NUL and control characters', 'a\u0000b\n\t', '\u0000x\u0001\r\n'],
      ['a 10 kB key', 'k'.repeat(10_000), 'v'],
      ['JSON-looking text', '{"a":1}', '\u0001{"__proto__":{"x":1}}'],
      ['the empty value', 'empty', ''],
    ])('keeps keys and values with %s intact', async (_what, suffix, value) => {
      fresh();
      await store.set(key(suffix), value, 60_000);
      expect(await store.get(key(suffix))).toBe(value);
      expect(await store.deletePattern(key('*'))).toBe(1);
    });

    describe('atomic writes (optional: setIfAbsent, compareAndSet, compareAndDelete)', () => {
      const atomic = () => {
        const capable = atomicOf(store);
        if (capable === undefined) {
          expect(
            ['setIfAbsent', 'compareAndSet', 'compareAndDelete'].filter((m) => m in store),
            'a store has all three atomic methods or none',
          ).toEqual([]);
        }
        return capable;
      };

      it('writes only absent keys with setIfAbsent, one winner among concurrent callers', async () => {
        fresh();
        const capable = atomic();
        if (capable === undefined) return;
        const wins = await Promise.all(
          Array.from({ length: 50 }, (_, i) => capable.setIfAbsent(key('lease'), `t${i}`, 10_000)),
        );
        expect(wins.filter(Boolean)).toHaveLength(1);
        const winner = wins.indexOf(true);
        expect(await store.get(key('lease'))).toBe(`t${winner}`);
        await store.set(key('gone'), 'v', 100);
        await sleep(300);
        expect(await capable.setIfAbsent(key('gone'), 'again', 10_000)).toBe(true);
      });

      it('replaces only the expected text with compareAndSet, keeping the TTL when asked', async () => {
        fresh();
        const capable = atomic();
        if (capable === undefined) return;
        await store.set(key('a'), 'one', 300);
        expect(await capable.compareAndSet(key('a'), 'other', 'two', 10_000)).toBe(false);
        expect(await capable.compareAndSet(key('absent'), 'one', 'two', 10_000)).toBe(false);
        expect(isAbsent(await store.get(key('absent')))).toBe(true);
        expect(await capable.compareAndSet(key('a'), 'one', 'two', undefined)).toBe(true);
        expect(await store.get(key('a'))).toBe('two');
        await sleep(500);
        expect(isAbsent(await store.get(key('a')))).toBe(true);
        await store.set(key('b'), 'one', 100);
        expect(await capable.compareAndSet(key('b'), 'one', 'two', 60_000)).toBe(true);
        await sleep(300);
        expect(await store.get(key('b'))).toBe('two');
      });

      it('deletes only the expected text with compareAndDelete', async () => {
        fresh();
        const capable = atomic();
        if (capable === undefined) return;
        await store.set(key('a'), 'mine', 10_000);
        expect(await capable.compareAndDelete(key('a'), 'theirs')).toBe(false);
        expect(await store.get(key('a'))).toBe('mine');
        expect(await capable.compareAndDelete(key('a'), 'mine')).toBe(true);
        expect(isAbsent(await store.get(key('a')))).toBe(true);
        expect(await capable.compareAndDelete(key('a'), 'mine')).toBe(false);
      });
    });

    it('serves concurrent callers consistently', async () => {
      fresh();
      const n = 200;
      await Promise.all(
        Array.from({ length: n }, (_, i) => store.set(key(`c:${i}`), `v${i}`, 60_000)),
      );
      const read = await Promise.all(Array.from({ length: n }, (_, i) => store.get(key(`c:${i}`))));
      expect(read).toEqual(Array.from({ length: n }, (_, i) => `v${i}`));
      const writes = Array.from({ length: 50 }, (_, i) => store.set(key('same'), `w${i}`, 60_000));
      await Promise.all(writes);
      expect(await store.get(key('same'))).toMatch(/^w\d+$/);
      const deletes = await Promise.all(
        Array.from({ length: 20 }, () => store.delete(key('same'))),
      );
      expect(deletes.filter(Boolean)).toHaveLength(1);
      const [removed, ...others] = await Promise.all([
        store.deletePattern(key('c:*')),
        ...Array.from({ length: 10 }, (_, i) => store.get(key(`c:${i}`))),
      ]);
      expect(removed).toBe(n);
      expect(others.every((value) => isAbsent(value) || String(value).startsWith('v'))).toBe(true);
    });
  });
}
