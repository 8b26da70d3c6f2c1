import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGlobMatcher } from '../glob.js';
import { levelOf } from '../stores/levels.js';
import {
  atomicOf,
  type BatchOperation,
  batchingOf,
  type IndexAnswer,
  indexOf,
  leasingReadOf,
  type Store,
  taggingOf,
} from '../stores/store.js';
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
 * 1 MB values, unusual strings, concurrent use, and the optional atomic writes, leasing read, key
 * index and batches when the store has them. Every key it writes is under a random namespace, so it can run against a
 * store that holds other data.
 *
 * The key index (`track`, `deleteTracked`) is held to what the cache relies on: a key tracked
 * before it was written is deleted by every pattern that matches it, exactly as a Redis glob
 * would, and counted once; other keys stay; a pattern whose literal start ends at the first `:`
 * (the cache's prefix alone) is left `unanswered`, deleting nothing; tracking twice is harmless;
 * tracks and deletes may run concurrently. Whether a key written without `track` is found is the
 * store's business (not checked). A store whose index is switched off (answering with `disabled`)
 * passes these tests as long as it says why.
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

    describe('leasing read (optional: getOrLease, with the atomic writes)', () => {
      it('answers a present key’s text untouched, and leases an absent key for its TTL', async () => {
        fresh();
        const leasing = leasingReadOf(store);
        if (leasing === undefined) return;
        await store.set(key('present'), 'value', 60_000);
        expect(await leasing.getOrLease(key('present'), 'lease', 60_000)).toBe('value');
        expect(await store.get(key('present'))).toBe('value');
        expect(isAbsent(await leasing.getOrLease(key('absent'), 'lease', 300))).toBe(true);
        expect(await store.get(key('absent'))).toBe('lease');
        expect(await leasing.getOrLease(key('absent'), 'other', 300)).toBe('lease');
        await sleep(500);
        expect(isAbsent(await store.get(key('absent')))).toBe(true);
      });

      it('leases an absent key to exactly one of many concurrent callers', async () => {
        fresh();
        const leasing = leasingReadOf(store);
        if (leasing === undefined) return;
        const answers = await Promise.all(
          Array.from({ length: 50 }, (_, i) => leasing.getOrLease(key('hot'), `t${i}`, 10_000)),
        );
        const winners = answers.flatMap((answer, i) => (isAbsent(answer) ? [i] : []));
        expect(winners).toHaveLength(1);
        expect(new Set(answers.filter((answer) => !isAbsent(answer)))).toEqual(
          new Set([`t${winners[0]}`]),
        );
      });
    });

    describe('tags (optional: tag, invalidateTag)', () => {
      /** The store's tags, or `undefined` (then it must have neither method). */
      const tagged = () => {
        const capable = taggingOf(store);
        if (capable === undefined) {
          expect(
            ['tag', 'invalidateTag'].filter(
              (m) => typeof (store as unknown as Record<string, unknown>)[m] === 'function',
            ),
            'a store has both tag methods or neither',
          ).toEqual([]);
        }
        return capable;
      };
      /**
       * The cache's order: with atomic writes, takes the key's lease, records the key under `tags`,
       * then replaces the lease with the value if the store said it may (an invalidation that
       * read the record removed the lease, so the value is not written). Without them, records,
       * writes, then records again and deletes the value if an invalidation came meanwhile.
       */
      const tagAndSet = async (
        tagging: NonNullable<ReturnType<typeof tagged>>,
        keys: readonly string[],
        tags: readonly string[],
        since = performance.now(),
      ) => {
        const atomic = atomicOf(store);
        return Promise.all(
          keys.map(async (k) => {
            if (atomic !== undefined) {
              await atomic.setIfAbsent(k, 'lease', 60_000);
              if (await tagging.tag(k, tags, 60_000, since)) {
                return atomic.compareAndSet(k, 'lease', 'v', 60_000);
              }
              await atomic.compareAndDelete(k, 'lease');
              return false;
            }
            if (!(await tagging.tag(k, tags, 60_000, since))) return false;
            await store.set(k, 'v', 60_000);
            if (await tagging.tag(k, tags, 60_000, since)) return true;
            await store.delete(k);
            return false;
          }),
        );
      };
      const present = async (keys: readonly string[]) => {
        const values = await Promise.all(keys.map((k) => store.get(k)));
        return keys.filter((_, i) => !isAbsent(values[i]));
      };

      it('deletes exactly the keys recorded under a tag, and counts the live ones', async () => {
        fresh();
        const tagging = tagged();
        if (tagging === undefined) return;
        const doomed = [key('list:1'), key('list:2'), key('other:3')];
        const kept = [key('list:4'), key('list:5')];
        if (!(await tagAndSet(tagging, doomed, [key('post:a'), key('author:x')])).every(Boolean)) {
          return; // tags are switched off (a Redis that may evict keys): the store says so itself
        }
        await tagAndSet(tagging, kept, [key('post:b')]);
        const answer = await tagging.invalidateTag(key('post:a'));
        expect(answer.removed).toBe(doomed.length);
        expect([...answer.keys].sort()).toEqual([...doomed].sort());
        expect(await present(doomed)).toEqual([]);
        expect(await present(kept)).toEqual(kept);
        // Its other tag forgets nothing it still has to delete, and counts only live keys.
        expect((await tagging.invalidateTag(key('author:x'))).removed).toBe(0);
        expect((await tagging.invalidateTag(key('post:a'))).removed).toBe(0);
        await Promise.all(kept.map((k) => store.delete(k)));
      });

      it('answers false for a value computed since before the tag was invalidated', async () => {
        fresh();
        const tagging = tagged();
        if (tagging === undefined) return;
        const before = performance.now();
        await sleep(5);
        await tagging.invalidateTag(key('post:a'));
        const after = performance.now();
        await sleep(5);
        if (!(await tagging.tag(key('list:0'), [key('post:z')], 60_000, before))) return;
        expect(
          await tagging.tag(key('list:1'), [key('post:z'), key('post:a')], 60_000, before),
        ).toBe(false);
        expect(await tagging.tag(key('list:2'), [key('post:a')], 60_000, after + 5)).toBe(true);
      });

      it('keeps the record of a key recorded again after an invalidation read it', async () => {
        fresh();
        const tagging = tagged();
        if (tagging === undefined) return;
        const k = key('list:again');
        if (!(await tagAndSet(tagging, [k], [key('post:a')])).every(Boolean)) return;
        await tagging.invalidateTag(key('post:a'));
        await sleep(5);
        expect(await tagAndSet(tagging, [k], [key('post:a')])).toEqual([true]);
        expect((await tagging.invalidateTag(key('post:a'))).removed).toBe(1);
        expect(await present([k])).toEqual([]);
      });

      it('keeps tags apart whatever they hold', async () => {
        fresh();
        const tagging = tagged();
        if (tagging === undefined) return;
        const hostile = ['a}b', '{x}', '*', 'a b', 'ü:ñ', 'post:a', 'post:a:*', '\\'];
        const keys = hostile.map((_, i) => key(`list:${i}`));
        for (const [i, tag] of hostile.entries()) {
          if (!(await tagAndSet(tagging, [keys[i] as string], [key(tag)])).every(Boolean)) return;
        }
        for (const [i, tag] of hostile.entries()) {
          const answer = await tagging.invalidateTag(key(tag));
          expect(answer.keys, tag).toEqual([keys[i]]);
          expect(await present(keys.slice(i + 1)), tag).toEqual(keys.slice(i + 1));
        }
      });

      it('misses no value when records and invalidations of a tag run concurrently', async () => {
        fresh();
        const tagging = tagged();
        if (tagging === undefined) return;
        const keys = Array.from({ length: 60 }, (_, i) => key(`list:${i}`));
        const since = performance.now();
        // Each value is written only if its record says no invalidation came since it started;
        // invalidations race the records. Whatever was written must be found by the next one.
        const [clean] = await Promise.all([
          tagAndSet(tagging, keys, [key('post:hot')], since),
          tagging.invalidateTag(key('post:hot')),
          sleep(1).then(() => tagging.invalidateTag(key('post:hot'))),
        ]);
        const left = await present(keys.filter((_, i) => clean[i]));
        const answer = await tagging.invalidateTag(key('post:hot'));
        expect(answer.removed).toBe(left.length);
        expect(await present(keys)).toEqual([]);
      });
    });

    describe('key index (optional: track, deleteTracked)', () => {
      /** The store's index, or `undefined` (then it must have neither method). */
      const indexed = () => {
        const capable = indexOf(store);
        if (capable === undefined) {
          expect(
            ['track', 'deleteTracked'].filter(
              (m) => typeof (store as unknown as Record<string, unknown>)[m] === 'function',
            ),
            'a store has both key-index methods or neither',
          ).toEqual([]);
        }
        return capable;
      };
      /** Whether the answer says the index is not kept at all (then it must say why). */
      const disabled = (answer: IndexAnswer) => {
        if (!('unanswered' in answer) || answer.disabled !== true) return false;
        expect(answer.unanswered, 'a disabled index says why').toMatch(/\S/);
        return true;
      };
      /** Tracks each key, then writes it: the cache's order. */
      const trackAndSet = async (
        index: NonNullable<ReturnType<typeof indexed>>,
        keys: readonly string[],
      ) => {
        await Promise.all(keys.map((k) => index.track(k, 60_000)));
        await Promise.all(keys.map((k) => store.set(k, 'v', 60_000)));
      };
      const present = async (keys: readonly string[]) => {
        const values = await Promise.all(keys.map((k) => store.get(k)));
        return keys.filter((_, i) => !isAbsent(values[i]));
      };

      it('deletes the tracked keys a pattern matches, counts each once, and leaves other levels', async () => {
        fresh();
        const index = indexed();
        if (index === undefined) return;
        const doomed = [key('posts:a'), key('posts:a:comments'), key('posts:b:comments:1')];
        const kept = [
          key('users:a'),
          key('users:a:posts:a'),
          key('postsx:a'),
          key('posts'),
          `qc-conformance:${randomUUID()}:posts:a`,
        ];
        await trackAndSet(index, [...doomed, ...kept]);
        // Each doomed key is tracked under two or three levels; one pattern counts it once.
        const answer = await index.deleteTracked(key('posts:*'));
        if (disabled(answer)) return;
        expect(answer).toEqual({ removed: doomed.length });
        expect(await present(doomed)).toEqual([]);
        expect(await present(kept)).toEqual(kept);
        expect(await index.deleteTracked(key('posts:*'))).toEqual({ removed: 0 });
        await Promise.all(kept.map((k) => store.delete(k)));
      });

      it('answers patterns under a deeper level, and patterns with wildcards between levels', async () => {
        fresh();
        const index = indexed();
        if (index === undefined) return;
        const keys = [
          key('posts:a:comments'),
          key('posts:a:likes'),
          key('posts:b:comments'),
          key('posts:ab:comments'),
        ];
        await trackAndSet(index, keys);
        const first = await index.deleteTracked(key('posts:a:*'));
        if (disabled(first)) return;
        expect(first).toEqual({ removed: 2 });
        expect(await index.deleteTracked(key('posts:*:comments'))).toEqual({ removed: 2 });
        expect(await present(keys)).toEqual([]);
      });

      it('leaves a pattern with a wildcard right after the first segment unanswered, deleting nothing', async () => {
        fresh();
        const index = indexed();
        if (index === undefined) return;
        const keys = [key('posts:a'), key('posts:a:comments')];
        await trackAndSet(index, keys);
        // Each pattern matches this test's keys only, but its literal start reaches no level
        // beyond the first segment (which, for the cache, is its prefix and holds every key).
        const id = ns.slice('qc-conformance:'.length, -1);
        for (const pattern of [
          `qc-conformance:?${id.slice(1)}:posts:*`,
          `qc-conformance:*${id}:posts:*`,
          `qc-conformanc?:${id}:posts:*`,
          `[q]c-conformance:${id}:*`,
        ]) {
          expect(levelOf(pattern), pattern).toBeUndefined();
          const answer = await index.deleteTracked(pattern);
          expect(answer, pattern).toMatchObject({ unanswered: expect.stringMatching(/\S/) });
        }
        expect(await present(keys)).toEqual(keys);
      });

      it('does not require a key written without track to be found, but counts what it deletes', async () => {
        fresh();
        const index = indexed();
        if (index === undefined) return;
        await trackAndSet(index, [key('posts:tracked')]);
        await store.set(key('posts:untracked'), 'v', 60_000);
        const answer = await index.deleteTracked(key('posts:*'));
        if (disabled(answer)) return;
        const gone = 2 - (await present([key('posts:tracked'), key('posts:untracked')])).length;
        expect(await present([key('posts:tracked')])).toEqual([]);
        expect(answer).toEqual({ removed: gone });
        await store.delete(key('posts:untracked'));
      });

      for (const pattern of Object.keys(GLOB_MATCHES)) {
        it(`deletes tracked keys by the Redis glob ${JSON.stringify(pattern)} exactly`, async () => {
          fresh();
          const index = indexed();
          if (index === undefined) return;
          const keys = GLOB_KEYS.map(key);
          // Under the random namespace, every pattern of the table reaches a level (the
          // namespace at least), so the index must answer it.
          expect(levelOf(key(pattern))).toBeDefined();
          await trackAndSet(index, keys);
          const matches = createGlobMatcher(key(pattern));
          const expected = keys.filter((k) => matches(k));
          // The recorded matches, under the namespace; all but the empty key fit as they are.
          // That one is the namespace alone: Redis's glob matches nothing against an empty
          // string (SCAN's `*` shortcut aside), but once prefixed it matches any pattern that is
          // the prefix and stars only (`ns**` matches `ns`): the matcher, checked against Redis
          // in test/redis/glob.test.ts, says which.
          expect(expected.filter((k) => k !== key(''))).toEqual(
            (GLOB_MATCHES[pattern] ?? []).filter((k) => k !== '').map(key),
          );
          const answer = await index.deleteTracked(key(pattern));
          if (disabled(answer)) return;
          expect(answer).toEqual({ removed: expected.length });
          const left = await present(keys);
          expect(keys.filter((k) => !left.includes(k))).toEqual(expected);
          await Promise.all(left.map((k) => store.delete(k)));
        });
      }

      it('is unharmed by tracking a key twice, a shorter time the second time', async () => {
        fresh();
        const index = indexed();
        if (index === undefined) return;
        await index.track(key('posts:a:x'), 60_000);
        await index.track(key('posts:a:x'), 60_000);
        await index.track(key('posts:a:x'), 50);
        await sleep(200);
        await store.set(key('posts:a:x'), 'v', 60_000);
        const answer = await index.deleteTracked(key('posts:a:*'));
        if (disabled(answer)) return;
        expect(answer).toEqual({ removed: 1 });
        expect(await present([key('posts:a:x')])).toEqual([]);
      });

      it('finds a key again once it is written again after a delete', async () => {
        fresh();
        const index = indexed();
        if (index === undefined) return;
        await trackAndSet(index, [key('posts:a:x')]);
        const answer = await index.deleteTracked(key('posts:a:*'));
        if (disabled(answer)) return;
        expect(answer).toEqual({ removed: 1 });
        await trackAndSet(index, [key('posts:a:x')]);
        expect(await index.deleteTracked(key('posts:a:*'))).toEqual({ removed: 1 });
        // Tracked once, deleted, then written again: the cache tracks before every write, but
        // the index must not have forgotten the key because it was deleted.
        await store.set(key('posts:a:x'), 'v', 60_000);
        expect(await index.deleteTracked(key('posts:a:*'))).toEqual({ removed: 1 });
      });

      it('keeps concurrent tracks and deletes exact: every key deleted once, no track lost', async () => {
        fresh();
        const index = indexed();
        if (index === undefined) return;
        const n = 100;
        const posts = Array.from({ length: n }, (_, i) => key(`c:${i}:x`));
        const users = Array.from({ length: n }, (_, i) => key(`d:${i}`));
        const later = Array.from({ length: n }, (_, i) => key(`c:new${i}:x`));
        await trackAndSet(index, [...posts, ...users]);
        const [answers, others] = await Promise.all([
          Promise.all(Array.from({ length: 10 }, () => index.deleteTracked(key('c:*')))),
          Promise.all(Array.from({ length: 10 }, () => index.deleteTracked(key('d:*')))),
          Promise.all(later.map((k) => index.track(k, 60_000))),
        ]);
        if (disabled(answers[0] as IndexAnswer)) return;
        const removed = (list: IndexAnswer[]) =>
          list.reduce((total, answer) => total + ('removed' in answer ? answer.removed : NaN), 0);
        expect(removed(answers)).toBe(n);
        expect(removed(others)).toBe(n);
        expect(await present([...posts, ...users])).toEqual([]);
        // Tracked while the deletes ran: still known, so found once written.
        await Promise.all(later.map((k) => store.set(k, 'v', 60_000)));
        expect(await index.deleteTracked(key('c:*'))).toEqual({ removed: n });
        expect(await present(later)).toEqual([]);
      });
    });

    describe('batches (optional: batch)', () => {
      it('answers each operation as its method would, in order, one promise each', async () => {
        fresh();
        const batching = batchingOf(store);
        if (batching === undefined) return;
        const leasing = leasingReadOf(store);
        const atomic = atomicOf(store);
        const index = indexOf(store);
        await store.set(key('present'), 'value', 60_000);
        await store.set(key('cas'), 'old', 60_000);
        const operations: BatchOperation[] = [
          { op: 'get', key: key('present') },
          { op: 'get', key: key('absent') },
        ];
        if (leasing !== undefined) {
          operations.push(
            { op: 'getOrLease', key: key('present'), lease: 'lease', ttlMs: 60_000 },
            { op: 'getOrLease', key: key('leased'), lease: 'lease', ttlMs: 60_000 },
          );
        }
        if (atomic !== undefined) {
          operations.push(
            { op: 'compareAndSet', key: key('cas'), expected: 'old', value: 'new', ttlMs: 60_000 },
            { op: 'compareAndSet', key: key('present'), expected: 'x', value: 'y', ttlMs: 60_000 },
          );
        }
        if (index !== undefined)
          operations.push({ op: 'track', key: key('tracked'), ttlMs: 60_000 });
        const answers = batching.batch(operations);
        expect(answers).toHaveLength(operations.length);
        const [present, absent, ...rest] = await Promise.all(answers);
        expect(present).toBe('value');
        expect(isAbsent(absent)).toBe(true);
        if (leasing !== undefined) {
          const [found, leased] = rest.splice(0, 2);
          expect(found).toBe('value');
          expect(isAbsent(leased)).toBe(true);
          expect(await store.get(key('leased'))).toBe('lease');
        }
        if (atomic !== undefined) {
          expect(rest.splice(0, 2)).toEqual([true, false]);
          expect(await store.get(key('cas'))).toBe('new');
        }
        expect(await store.get(key('present'))).toBe('value');
        if (index !== undefined) {
          // Tracked by the batch, then written: an exact pattern deletes it through the index.
          await store.set(key('tracked'), 'v', 60_000);
          const answer = await index.deleteTracked(key('tracked'));
          if (!('unanswered' in answer)) {
            expect(answer).toEqual({ removed: 1 });
            expect(isAbsent(await store.get(key('tracked')))).toBe(true);
          }
        }
      });

      it('answers hundreds of reads at once, spread over the keyspace', async () => {
        fresh();
        const batching = batchingOf(store);
        if (batching === undefined) return;
        const leasing = leasingReadOf(store);
        const n = 300;
        await Promise.all(
          Array.from({ length: n / 2 }, (_, i) => store.set(key(`k:${i}`), `v${i}`, 60_000)),
        );
        const operations = Array.from({ length: n }, (_, i): BatchOperation => {
          const k = key(`k:${i}`);
          return leasing !== undefined && i % 3 === 0
            ? { op: 'getOrLease', key: k, lease: `lease${i}`, ttlMs: 60_000 }
            : { op: 'get', key: k };
        });
        const answers = await Promise.all(batching.batch(operations));
        answers.forEach((answer, i) => {
          if (i < n / 2) expect(answer).toBe(`v${i}`);
          else expect(isAbsent(answer)).toBe(true);
        });
        const after = await Promise.all(operations.map((operation) => store.get(operation.key)));
        after.forEach((text, i) => {
          if (i < n / 2) expect(text).toBe(`v${i}`);
          else if (operations[i]?.op === 'getOrLease') expect(text).toBe(`lease${i}`);
          else expect(isAbsent(text)).toBe(true);
        });
      });

      it('applies a fill before what it is handed next: a read handed after a fill finds the value', async () => {
        fresh();
        const batching = batchingOf(store);
        const atomic = atomicOf(store);
        if (batching === undefined || atomic === undefined) return;
        const keys = Array.from({ length: 40 }, (_, i) => key(`order:${i}`));
        await Promise.all(keys.map((k) => atomic.setIfAbsent(k, 'lease', 60_000)));
        const reads = keys.map((k, i) => {
          // Neither awaited: the fill is handed over first (alone or in a batch), then the read.
          const fill =
            i % 2 === 0
              ? atomic.compareAndSet(k, 'lease', `v${i}`, 60_000)
              : batching.batch([
                  { op: 'compareAndSet', key: k, expected: 'lease', value: `v${i}`, ttlMs: 60_000 },
                ])[0];
          const read = i % 4 < 2 ? store.get(k) : batching.batch([{ op: 'get', key: k }])[0];
          return Promise.all([fill, read]);
        });
        expect(await Promise.all(reads)).toEqual(keys.map((_, i) => [true, `v${i}`]));
      });

      it('leases an absent key to exactly one of many concurrent batches', async () => {
        fresh();
        const batching = batchingOf(store);
        if (batching === undefined || leasingReadOf(store) === undefined) return;
        const answers = await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            const [own, shared] = batching.batch([
              { op: 'get', key: key(`own:${i}`) },
              { op: 'getOrLease', key: key('hot'), lease: `t${i}`, ttlMs: 10_000 },
            ]);
            await own;
            return shared;
          }),
        );
        const winners = answers.flatMap((answer, i) => (isAbsent(answer) ? [i] : []));
        expect(winners).toHaveLength(1);
        expect(new Set(answers.filter((answer) => !isAbsent(answer)))).toEqual(
          new Set([`t${winners[0]}`]),
        );
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
