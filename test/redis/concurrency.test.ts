import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cache, createCache, type Store } from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { clusterClient, standaloneClient } from '../helpers/redis-clients.js';
import { deferred } from '../helpers/stores.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A RedisStore seen through the required Store methods only: no atomic writes, no leases. */
function withoutAtomics(store: RedisStore): Store {
  return {
    get: (key) => store.get(key),
    set: (key, value, ttlMs) => store.set(key, value, ttlMs),
    delete: (key) => store.delete(key),
    deletePattern: (pattern) => store.deletePattern(pattern),
  };
}

describe.each([
  ['a standalone Redis', standaloneClient],
  ['a 3-master Redis Cluster', clusterClient],
])('concurrency on %s', (_name, connect: () => Redis | Cluster) => {
  const clients: (Redis | Cluster)[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.quit()));
  });

  /** `count` caches sharing one prefix, each with its own connection: `count` app processes. */
  function processes(
    count: number,
    options: { lease?: false; atomic?: boolean } = {},
  ): Cache<Store>[] {
    const prefix = `cc-${randomUUID().slice(0, 8)}`;
    return Array.from({ length: count }, () => {
      const client = connect();
      clients.push(client);
      const redis = new RedisStore({ client });
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
    const caches = processes(4);
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
    console.log(`[stampede] ${_name}: 1,000 callers over 4 processes, loader runs: ${runs}`);
    expect(runs).toBe(1);
  });

  it('falls back to once per process on a store without atomic writes', async () => {
    const caches = processes(4, { atomic: false });
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
    const [a, b] = processes(2) as [Cache<Store>, Cache<Store>];
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
    const [clientA, clientB] = [connect(), connect()];
    clients.push(clientA, clientB);
    const a = createCache({ store: new RedisStore({ client: clientA }), prefix });
    const b = createCache({
      store: new RedisStore({ client: clientB }),
      prefix,
      lease: { wait: 100 },
    });
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
    await sleep(20);
    expect(await impatient()).toBe('impatient');
    release.resolve();
    expect(await first).toBe('slow');
  });

  /**
   * The stale-fill race, forced step by step: a reader misses and reads the old row; a writer (in
   * another process) commits and invalidates; then the reader's fill would write the old row back.
   */
  async function staleFillRace(options: { lease?: false }) {
    const [reader, writer] = processes(2, options) as [Cache<Store>, Cache<Store>];
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

  /**
   * Randomized torture: 4 processes, 12 readers and 3 writers racing on 3 keys for 3 s, loaders
   * and mutations with random delays. A read is stale if it returns a version older than the one
   * whose invalidation had returned before the read started.
   */
  async function torture(options: { lease?: false }) {
    const caches = processes(4, options);
    const keys = ['a', 'b', 'c'];
    // The database: a version per key, bumped by each mutation.
    const versions = new Map(keys.map((key) => [key, 0]));
    // The version each key had when its last invalidation returned.
    const invalidatedAt = new Map(keys.map((key) => [key, 0]));
    const random = (max: number) => Math.floor(Math.random() * max);
    const readers = caches.map((cache) =>
      cache.cacheable(
        async (key: string) => {
          await sleep(random(4));
          const version = versions.get(key) as number;
          await sleep(random(8));
          return version;
        },
        { key: 'row:{{key}}', context: (key) => ({ key }), ttl: 60 },
      ),
    );
    const writers = caches.map((cache) =>
      cache.invalidating(
        async (key: string) => {
          await sleep(random(3));
          const version = (versions.get(key) as number) + 1;
          versions.set(key, version);
          return version;
        },
        { patterns: ['row:{{key}}:*'], context: (key) => ({ key }) },
      ),
    );
    let reads = 0;
    let writes = 0;
    let stale = 0;
    const deadline = Date.now() + 3000;
    const reader = async (i: number) => {
      while (Date.now() < deadline) {
        const key = keys[random(keys.length)] as string;
        const mustSee = invalidatedAt.get(key) as number;
        const got = await (readers[i % 4] as (key: string) => Promise<number>)(key);
        reads += 1;
        if (got < mustSee) stale += 1;
      }
    };
    const writer = async (i: number) => {
      while (Date.now() < deadline) {
        const key = keys[random(keys.length)] as string;
        const version = await (writers[i % 4] as (key: string) => Promise<number>)(key);
        writes += 1;
        invalidatedAt.set(key, Math.max(invalidatedAt.get(key) as number, version));
        await sleep(random(10));
      }
    };
    await Promise.all([
      ...Array.from({ length: 12 }, (_, i) => reader(i)),
      ...Array.from({ length: 3 }, (_, i) => writer(i)),
    ]);
    console.log(
      `[torture] ${_name}, leases ${options.lease === false ? 'off' : 'on'}: reads=${reads}, writes=${writes}, stale=${stale}`,
    );
    return { reads, writes, stale };
  }

  it('serves no value computed before an invalidation that returned (randomized torture)', async () => {
    const { reads, writes, stale } = await torture({});
    expect(reads).toBeGreaterThan(500);
    expect(writes).toBeGreaterThan(50);
    expect(stale).toBe(0);
  });

  it('catches stale reads when leases are off (the torture test can fail)', async () => {
    expect((await torture({ lease: false })).stale).toBeGreaterThan(0);
  });
});
