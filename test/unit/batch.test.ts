/**
 * Batches (the optional `batch` capability): the reads held until the end of a tick, and the
 * fills of one tick, go to the store in one call each; every operation still settles on its own,
 * bounded and counted like a call of its own. On Redis, see test/redis/batch.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { type CacheEventMap, createCache, StoreUnavailableError } from '../../src/index.js';
import { BatchingMemoryStore, quietLogger } from '../helpers/stores.js';

/** A cache on a fresh batching store, the errors it reported, and how often each post was computed. */
function setUp(options: { breaker?: { failures: number; cooldown: number } } = {}) {
  const store = new BatchingMemoryStore();
  const cache = createCache({ store, prefix: 'b', logger: quietLogger, ...options });
  const errors: CacheEventMap['error'][] = [];
  cache.on('error', (event) => errors.push(event));
  const computed: string[] = [];
  const getPost = cache.cacheable(
    async (slug: string) => {
      computed.push(slug);
      return { slug };
    },
    { key: 'posts:{{slug}}', context: (slug) => ({ slug }), ttl: 60 },
  );
  return { store, cache, errors, computed, getPost };
}

/** Settles leases' first-use check, and stores `slugs`, one after another. */
async function warm(getPost: (slug: string) => Promise<unknown>, slugs: readonly string[]) {
  for (const slug of slugs) await getPost(slug);
}

describe('batches of one tick', () => {
  it('sends the reads of one tick in one batch, identical reads once, and a read alone as a get', async () => {
    const { store, computed, getPost } = setUp();
    await warm(getPost, ['a', 'b', 'c']);
    computed.length = 0;
    store.batches.length = 0;
    store.calls.length = 0;
    const posts = await Promise.all(['a', 'b', 'c', 'a'].map((slug) => getPost(slug)));
    expect(posts).toEqual([{ slug: 'a' }, { slug: 'b' }, { slug: 'c' }, { slug: 'a' }]);
    expect(computed).toEqual([]);
    expect(store.batches).toEqual([['get b:posts:a', 'get b:posts:b', 'get b:posts:c']]);
    expect(store.calls).toEqual([]);

    expect(await getPost('b')).toEqual({ slug: 'b' });
    expect(store.batches).toHaveLength(1);
    expect(store.calls).toEqual(['get b:posts:b']);
  });

  it('sends leasing reads with their index records in one batch, and the fills of one tick in another', async () => {
    const { store, computed, getPost } = setUp();
    await warm(getPost, ['warm']);
    store.batches.length = 0;
    const posts = await Promise.all(['x', 'y'].map((slug) => getPost(slug)));
    expect(posts).toEqual([{ slug: 'x' }, { slug: 'y' }]);
    expect(computed).toEqual(['warm', 'x', 'y']);
    expect(store.batches).toEqual([
      ['track b:posts:x', 'getOrLease b:posts:x', 'track b:posts:y', 'getOrLease b:posts:y'],
      ['compareAndSet b:posts:x', 'compareAndSet b:posts:y'],
    ]);
    // Stored under the leases, and tracked: an invalidation through the index finds them.
    expect(await Promise.all(['x', 'y'].map((slug) => getPost(slug)))).toEqual(posts);
    expect(computed).toHaveLength(3);
    expect(store.inner.deleteTracked('b:posts:*')).toEqual({ removed: 3 });
  });

  it('mixes plain reads of keys found lately and leasing reads of new keys in one batch', async () => {
    const { store, getPost } = setUp();
    await warm(getPost, ['old']);
    store.batches.length = 0;
    await Promise.all([getPost('old'), getPost('new')]);
    expect(store.batches[0]).toEqual([
      'get b:posts:old',
      'track b:posts:new',
      'getOrLease b:posts:new',
    ]);
  });

  it('answers a miss once its fill is handed over: its caller, callers that joined before the function started, and later ones by a read', async () => {
    const { store, cache, computed, getPost } = setUp();
    await warm(getPost, ['warm']);
    const sets: string[] = [];
    cache.on('set', ({ key }) => sets.push(key));
    const release = store.holdFillAnswers();
    let enter: (() => void) | undefined;
    const entered = new Promise<void>((resolve) => {
      enter = resolve;
    });
    let proceed: (() => void) | undefined;
    const go = new Promise<void>((resolve) => {
      proceed = resolve;
    });
    const runs: string[] = [];
    const slow = cache.cacheable(
      async (slug: string) => {
        runs.push(slug);
        enter?.();
        await go;
        return { slug };
      },
      { key: 'slow:{{slug}}', context: (slug) => ({ slug }), ttl: 60 },
    );
    const first = slow('s');
    // Shares the first one's read, so joins before the function starts: the start vouches for it.
    const early = slow('s');
    await entered;
    // Joins after the function started: only a read sent after the fill vouches for it.
    const late = slow('s');
    store.calls.length = 0;
    proceed?.();
    expect(await Promise.all([first, early, late])).toEqual([
      { slug: 's' },
      { slug: 's' },
      { slug: 's' },
    ]);
    // The late caller's read goes after the fill; the early one sent nothing more.
    expect(store.calls).toEqual(['compareAndSet b:slow:s', 'get b:slow:s']);
    // All of that while Redis's answer to the fill is held.
    expect(sets).toEqual([]);
    expect(await slow('s')).toEqual({ slug: 's' });
    let settled = false;
    void cache.settled().then(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(settled).toBe(false);
    release();
    await cache.settled();
    expect(settled).toBe(true);
    expect(sets).toEqual(['b:slow:s']);
    expect(runs).toEqual(['s']);
    expect(computed).toEqual(['warm']);
  });

  it('fails only the caller whose operation failed: a miss for it, hits for the others', async () => {
    const { store, errors, computed, getPost } = setUp();
    await warm(getPost, ['a', 'b', 'c']);
    computed.length = 0;
    store.batches.length = 0;
    store.failing.add('b:posts:b');
    const posts = await Promise.all(['a', 'b', 'c'].map((slug) => getPost(slug)));
    expect(posts).toEqual([{ slug: 'a' }, { slug: 'b' }, { slug: 'c' }]);
    expect(store.batches[0]).toEqual(['get b:posts:a', 'get b:posts:b', 'get b:posts:c']);
    expect(computed).toEqual(['b']);
    expect(errors.map(({ operation, key }) => `${operation} ${key}`)).toEqual(['get b:posts:b']);
    expect(errors[0]?.error).toEqual(new Error('failing: get b:posts:b'));
  });

  it('computes alone, storing nothing, when the index record of a leasing read fails', async () => {
    const { store, errors, computed, getPost } = setUp();
    await warm(getPost, ['warm']);
    store.failing.add('track b:posts:x');
    expect(await Promise.all([getPost('x'), getPost('y')])).toEqual([{ slug: 'x' }, { slug: 'y' }]);
    expect(computed).toEqual(['warm', 'x', 'y']);
    expect(errors.map(({ operation, key }) => `${operation} ${key}`)).toEqual(['lease b:posts:x']);
    store.failing.clear();
    // y was stored; x was not, and its lease was released.
    expect(store.inner.get('b:posts:x')).toBeUndefined();
    expect(store.inner.get('b:posts:y')).toMatch(/"slug":"y"/);
  });

  it('refuses a whole batch at once while the breaker is open, without sending it', async () => {
    const { store, errors, computed, getPost } = setUp({
      breaker: { failures: 2, cooldown: 60_000 },
    });
    await warm(getPost, ['a', 'b']);
    computed.length = 0;
    store.failing.add('b:posts:a').add('b:posts:b');
    await Promise.all([getPost('a'), getPost('b')]);
    const sent = store.batches.length;
    store.failing.clear();
    expect(await Promise.all([getPost('a'), getPost('b')])).toEqual([{ slug: 'a' }, { slug: 'b' }]);
    expect(store.batches).toHaveLength(sent);
    expect(computed).toEqual(['a', 'b', 'a', 'b']);
    const refused = errors.slice(-2).map(({ error }) => error);
    for (const error of refused) {
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as StoreUnavailableError).reason).toBe('breaker-open');
    }
  });

  it('turns a batch that throws into a miss for each of its callers', async () => {
    const { store, errors, computed, getPost } = setUp();
    await warm(getPost, ['a', 'b']);
    computed.length = 0;
    store.batch = () => {
      throw new Error('batch refused');
    };
    expect(await Promise.all([getPost('a'), getPost('b')])).toEqual([{ slug: 'a' }, { slug: 'b' }]);
    expect(computed).toEqual(['a', 'b']);
    expect(errors.map(({ error }) => (error as Error).message)).toEqual([
      'batch refused',
      'batch refused',
    ]);
  });
});
