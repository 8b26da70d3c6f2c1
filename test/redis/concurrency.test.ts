import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cache, createCache, type Store } from '../../src/index.js';
import {
  clusterClient,
  nodeRedisClient,
  nodeRedisCluster,
  standaloneClient,
} from '../helpers/redis-clients.js';
import {
  ioredisStore,
  nodeRedisStore,
  type OwnStore,
  type StoreMaker,
} from '../helpers/redis-stores.js';
import { deferred } from '../helpers/stores.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A Redis store seen through the required Store methods only: no atomic writes, no leases. */
function withoutAtomics(store: OwnStore['store']): Store {
  return {
    get: (key) => store.get(key),
    set: (key, value, ttlMs) => store.set(key, value, ttlMs),
    delete: (key) => store.delete(key),
    deletePattern: (pattern) => store.deletePattern(pattern),
  };
}

// Processes use the stores in turn: with both, every other process is on node-redis, and leases
// must hold across the two clients.
describe.each<[string, string, StoreMaker[]]>([
  ['RedisStore', 'a standalone Redis', [ioredisStore(standaloneClient)]],
  ['RedisStore', 'a 3-master Redis Cluster', [ioredisStore(clusterClient)]],
  [
    'NodeRedisStore beside RedisStore',
    'a standalone Redis',
    [nodeRedisStore(nodeRedisClient), ioredisStore(standaloneClient)],
  ],
  [
    'NodeRedisStore beside RedisStore',
    'a 3-master Redis Cluster',
    [nodeRedisStore(nodeRedisCluster), ioredisStore(clusterClient)],
  ],
])('concurrency, %s on %s', (storeName, topology, makers) => {
  const name = `${storeName} on ${topology}`;
  const clients: OwnStore[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
  });

  /** A store of the i-th process, on a connection of its own. */
  async function storeOf(i: number): Promise<OwnStore['store']> {
    const made = await (makers[i % makers.length] as StoreMaker)();
    clients.push(made);
    return made.store;
  }

  /** `count` caches sharing one prefix, each with its own connection: `count` app processes. */
  async function processes(
    count: number,
    options: { lease?: false; atomic?: boolean } = {},
  ): Promise<Cache<Store>[]> {
    const prefix = `cc-${randomUUID().slice(0, 8)}`;
    const stores = await Promise.all(Array.from({ length: count }, (_, i) => storeOf(i)));
    return stores.map((redis) => {
      const store: Store = options.atomic === false ? withoutAtomics(redis) : redis;
      // A generous timeout: these tests are about leases, and a read timed out by a busy CI
      // machine would (correctly) compute without one.
      return createCache({
        store,
        prefix,
        timeout: 2000,
        ...(options.lease === false ? { lease: false } : {}),
      });
    });
  }

  it('runs the loader once for 1,000 concurrent callers spread over 4 processes', async () => {
    const caches = await processes(4);
    let runs = 0;
    const wrappers = caches.map((cache) =>
      cache.cacheable(
        async (slug: string) => {
          runs += 1;
          await sleep(50);
          return `post ${slug}`;
        },
        { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
      ),
    );
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        (wrappers[i % 4] as (slug: string) => Promise<string>)('hot'),
      ),
    );
    expect(new Set(results)).toEqual(new Set(['post hot']));
    console.log(`[stampede] ${name}: 1,000 callers over 4 processes, loader runs: ${runs}`);
    expect(runs).toBe(1);
  });

  it('falls back to once per process on a store without atomic writes', async () => {
    const caches = await processes(4, { atomic: false });
    let runs = 0;
    const wrappers = caches.map((cache) =>
      cache.cacheable(
        async () => {
          runs += 1;
          await sleep(50);
          return 'v';
        },
        { key: 'hot' },
      ),
    );
    await Promise.all(
      Array.from({ length: 400 }, (_, i) => (wrappers[i % 4] as () => Promise<string>)()),
    );
    expect(runs).toBeGreaterThanOrEqual(1);
    expect(runs).toBeLessThanOrEqual(4);
  });

  it('lets another process compute when the lease holder’s loader fails', async () => {
    const [a, b] = (await processes(2)) as [Cache<Store>, Cache<Store>];
    const started = deferred<void>();
    const failing = a.cacheable(
      async () => {
        started.resolve();
        await sleep(30);
        throw new Error('db down');
      },
      { key: 'fragile' },
    );
    const working = b.cacheable(async () => 'from b', { key: 'fragile' });
    const first = failing();
    await started.promise;
    const second = working();
    await expect(first).rejects.toThrow('db down');
    expect(await second).toBe('from b');
  });

  it('computes itself after waiting `lease.wait` for a slow holder, without failing', async () => {
    const prefix = `cc-${randomUUID().slice(0, 8)}`;
    const [storeA, storeB] = [await storeOf(0), await storeOf(1)];
    const a = createCache({ store: storeA, prefix });
    const b = createCache({ store: storeB, prefix, lease: { wait: 100 } });
    const release = deferred<void>();
    const slow = a.cacheable(
      async () => {
        await release.promise;
        return 'slow';
      },
      { key: 'slow' },
    );
    const impatient = b.cacheable(async () => 'impatient', { key: 'slow' });
    const first = slow();
    // Once the holder's lease is in the store (under load that takes more than a few ms).
    while ((await storeA.get(`${prefix}:slow`))?.charCodeAt(0) !== 2) await sleep(2);
    expect(await impatient()).toBe('impatient');
    release.resolve();
    expect(await first).toBe('slow');
  });

  /**
   * The stale-fill race, forced step by step: a reader misses and reads the old row; a writer (in
   * another process) commits and invalidates; then the reader's fill would write the old row back.
   */
  async function staleFillRace(options: { lease?: false }) {
    const [reader, writer] = (await processes(2, options)) as [Cache<Store>, Cache<Store>];
    let row = 'v1';
    const readOld = deferred<void>();
    const finishRead = deferred<void>();
    let blockNext = true;
    const getPost = reader.cacheable(
      async (_slug: string) => {
        const seen = row;
        if (blockNext) {
          blockNext = false;
          readOld.resolve();
          await finishRead.promise;
        }
        return seen;
      },
      { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
    );
    const updatePost = writer.invalidating(
      async (_slug: string, text: string) => {
        row = text;
      },
      { patterns: ['posts:{{slug}}:*'], context: (slug) => ({ slug }) },
    );
    const early = getPost('a');
    await readOld.promise;
    await updatePost('a', 'v2');
    // Arrives after the invalidation returned, in the reader's process, while the old read is
    // still in flight there.
    const late = getPost('a');
    finishRead.resolve();
    const earlyValue = await early;
    const lateValue = await late;
    const afterwards = await getPost('a');
    const fromWriter = await writer.get('posts:a');
    return { earlyValue, lateValue, afterwards, fromWriter };
  }

  it('never writes a value computed before an invalidation after it (forced interleaving)', async () => {
    const result = await staleFillRace({});
    expect(result.earlyValue).toBe('v1');
    expect(result.lateValue).toBe('v2');
    expect(result.afterwards).toBe('v2');
    expect(result.fromWriter).toBe('v2');
  });

  it('is what goes wrong without leases (the same interleaving, leases off)', async () => {
    const result = await staleFillRace({ lease: false });
    expect(result.lateValue).toBe('v1');
    expect(result.afterwards).toBe('v1');
  });
});
