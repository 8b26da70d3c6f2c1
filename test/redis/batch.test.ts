/**
 * Batches on real Redis, standalone and Cluster, through both stores: the reads of one tick go out
 * together, and so do the fills of one tick (with ioredis: one socket write per server, counted on
 * the client's connections; node-redis writes the commands of a tick together by itself). Each
 * caller still gets its own answer: a command that fails within a batch is its caller's miss
 * only, and on a frozen server the timeout still bounds every caller.
 */
import { randomUUID } from 'node:crypto';
import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  type CacheEventMap,
  createCache,
  type Store,
  StoreUnavailableError,
} from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { SHAS } from '../../src/stores/redis-base/scripts.js';
import { Cleanups, pauseServer } from '../helpers/faults.js';
import {
  clusterClient,
  nodeRedisClient,
  nodeRedisCluster,
  standaloneClient,
} from '../helpers/redis-clients.js';
import { startFaultRedis } from '../helpers/redis-servers.js';
import { ioredisStore, nodeRedisStore, type StoreMaker } from '../helpers/redis-stores.js';
import { quietLogger } from '../helpers/stores.js';

/** A cache on `store`, the errors it reported, and the posts its function computed. */
function postCache(store: Store, options: { timeout?: number } = {}) {
  const prefix = `batch-${randomUUID().slice(0, 8)}`;
  const cache = createCache({ store, prefix, logger: quietLogger, ...options });
  const errors: CacheEventMap['error'][] = [];
  cache.on('error', (event) => errors.push(event));
  const computed: string[] = [];
  const getPost = cache.cacheable(
    async (slug: string) => {
      computed.push(slug);
      return { slug, title: `Post ${slug}` };
    },
    { key: 'posts:{{slug}}', context: (slug) => ({ slug }), ttl: 600 },
  );
  /** Every post of `slugs`, asked in one tick; checks each answer. */
  const readAll = async (slugs: readonly string[]) => {
    const posts = await Promise.all(slugs.map((slug) => getPost(slug)));
    expect(posts).toEqual(slugs.map((slug) => ({ slug, title: `Post ${slug}` })));
  };
  return { cache, prefix, errors, computed, getPost, readAll };
}

const slugs = (name: string, n: number) => Array.from({ length: n }, (_, i) => `${name}-${i}`);

/**
 * Counts the writes each socket of an ioredis client (a Cluster's masters) hands to the operating
 * system: the calls of its `_write` and `_writev` (Node's stream implementation methods), each
 * one write, whatever number of commands ioredis gave it.
 */
function countWrites(client: Redis | Cluster): () => number[] {
  const connections = client instanceof Cluster ? client.nodes('master') : [client];
  const counts = connections.map(() => 0);
  connections.forEach((connection, i) => {
    const socket = connection.stream as unknown as Record<
      '_write' | '_writev',
      (...args: unknown[]) => unknown
    >;
    for (const method of ['_write', '_writev'] as const) {
      const write = socket[method].bind(socket);
      socket[method] = (...args: unknown[]) => {
        counts[i] = (counts[i] ?? 0) + 1;
        return write(...args);
      };
    }
  });
  return () => [...counts];
}

/** How many masters serve `keys` (one for a standalone server). */
function mastersOf(client: Redis | Cluster, keys: readonly string[]): number {
  if (!(client instanceof Cluster)) return 1;
  return new Set(keys.map((key) => client.slots[calculateSlot(key)]?.[0])).size;
}

describe.each([
  ['a standalone Redis', standaloneClient],
  ['a 3-master Redis Cluster', clusterClient],
] as const)('RedisStore batches on %s', (_name, connect) => {
  const clients: (Redis | Cluster)[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.quit()));
  });
  function setUp() {
    const client = connect();
    clients.push(client);
    return { client, ...postCache(new RedisStore({ client })) };
  }

  it('sends the reads of one tick in one write per server: 64 callers, 64 hits', async () => {
    const { client, prefix, computed, getPost, readAll } = setUp();
    const keys = slugs('hit', 64);
    for (const slug of keys) await getPost(slug);
    computed.length = 0;
    const writes = countWrites(client);
    await readAll(keys);
    expect(computed).toEqual([]);
    const counted = writes();
    const masters = mastersOf(
      client,
      keys.map((slug) => `${prefix}:posts:${slug}`),
    );
    expect(counted.every((n) => n <= 1)).toBe(true);
    expect(counted.reduce((sum, n) => sum + n, 0)).toBe(masters);
  });

  it('sends leasing reads with their index records in one write per server, then the fills likewise', async () => {
    const { client, prefix, computed, readAll } = setUp();
    // Every master has run both scripts and granted the lease probe before the writes are counted.
    await readAll(slugs('warm', 64));
    computed.length = 0;
    const keys = slugs('miss', 64);
    const writes = countWrites(client);
    await readAll(keys);
    expect([...computed].sort()).toEqual([...keys].sort());
    const counted = writes();
    // The reads and index records in one write per server, the fills in another.
    expect(counted.every((n) => n <= 2)).toBe(true);
    const admin = connect();
    clients.push(admin);
    const stored = await Promise.all(keys.map((slug) => admin.get(`${prefix}:posts:${slug}`)));
    expect(stored.every((text) => text?.includes(`"title":"Post `))).toBe(true);
    await readAll(keys);
    expect(computed).toHaveLength(keys.length);
    // And tracked in the index: an invalidation through it finds every one.
    expect(await setUpCache(admin, prefix).deletePattern('posts:*')).toBe(128);
  });

  it('mixes plain reads and leasing reads in one write per server', async () => {
    const { client, computed, readAll } = setUp();
    await readAll(slugs('warm', 64));
    const present = slugs('warm', 32);
    const fresh = slugs('new', 32);
    computed.length = 0;
    const writes = countWrites(client);
    await readAll([...present, ...fresh]);
    expect([...computed].sort()).toEqual([...fresh].sort());
    expect(writes().every((n) => n <= 2)).toBe(true);
  });
});

describe.each([
  ['RedisStore', ioredisStore(standaloneClient)],
  ['NodeRedisStore', nodeRedisStore(nodeRedisClient)],
] as const)('%s on a standalone Redis: a lone leasing read', (_name, makeStore) => {
  const closes: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    await Promise.all(closes.map((close) => close()));
  });

  /** A cache on a store of its own, and an admin connection that watches its commands. */
  async function setUp() {
    const own = await makeStore();
    closes.push(own.close);
    const admin = standaloneClient();
    closes.push(() => admin.quit());
    return { admin, ...postCache(own.store) };
  }

  /**
   * Two misses: the first asks whether leases are allowed (then leasing reads start), the second
   * is a leasing read, so the server knows the script.
   */
  async function warmUp(getPost: (slug: string) => Promise<unknown>) {
    await getPost('warm-1');
    await getPost('warm-2');
  }

  /**
   * The commands clients sent that name a key of `prefix` while `act` ran (not those a script
   * ran), command names in lower case; the feed is read up to a marker sent after `act`.
   */
  async function commandsOf(admin: Redis, prefix: string, act: () => Promise<unknown>) {
    const monitor = await admin.monitor();
    const seen: string[][] = [];
    const end = `end-of-${prefix}`;
    const ended = new Promise<void>((resolve) => {
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (args.includes(end)) resolve();
        if (source !== 'lua' && args.some((arg) => arg.startsWith(`${prefix}:`))) {
          seen.push([(args[0] as string).toLowerCase(), ...args.slice(1)]);
        }
      });
    });
    try {
      await act();
      await admin.echo(end);
      await ended;
    } finally {
      monitor.disconnect();
    }
    return seen;
  }

  it('takes the lease and records the key in one script; the fill is the only other command', async () => {
    const { admin, cache, prefix, computed, getPost } = await setUp();
    await warmUp(getPost);
    const key = `${prefix}:posts:lone`;
    const commands = await commandsOf(admin, prefix, async () => {
      await getPost('lone');
      await cache.settled();
    });
    expect(computed).toEqual(['warm-1', 'warm-2', 'lone']);
    // The fill goes by its text (EVAL), so that a Redis without the script cannot reorder it.
    expect(commands.map((args) => [args[0], args[2], args[3]])).toEqual([
      ['evalsha', '2', key],
      ['eval', '1', key],
    ]);
    expect(commands[0]?.[1]).toBe(SHAS.leaseAndTrack);
    // Recorded in the index: a pattern delete through it finds the entry.
    expect(await setUpCache(admin, prefix).deletePattern('posts:lo*')).toBe(1);
  });

  it('records nothing when the key is present, and answers its value', async () => {
    const { admin, prefix, computed, getPost } = await setUp();
    // Filled by another instance, so this one reads it with a leasing read.
    const writer = createCache({
      store: new RedisStore({ client: admin }),
      prefix,
      logger: quietLogger,
    });
    await writer.set(
      'posts:elsewhere',
      { slug: 'elsewhere', title: 'Post elsewhere' },
      { ttl: 600 },
    );
    await warmUp(getPost);
    computed.length = 0;
    const index = `${prefix}|index|posts:`;
    const recorded = await admin.zscore(index, 'elsewhere');
    const commands = await commandsOf(admin, prefix, async () => {
      expect(await getPost('elsewhere')).toEqual({ slug: 'elsewhere', title: 'Post elsewhere' });
    });
    expect(computed).toEqual([]);
    expect(commands.map((args) => args.slice(0, 2))).toEqual([['evalsha', SHAS.leaseAndTrack]]);
    expect(await admin.zscore(index, 'elsewhere')).toBe(recorded);
  });

  it('loads the script again after Redis forgot its scripts, and the key is in the index', async () => {
    const { admin, cache, prefix, computed, getPost } = await setUp();
    await warmUp(getPost);
    await admin.script('FLUSH');
    await getPost('after-flush');
    await cache.settled();
    expect(computed).toEqual(['warm-1', 'warm-2', 'after-flush']);
    expect(await admin.get(`${prefix}:posts:after-flush`)).toContain('"title":"Post after-flush"');
    expect(await setUpCache(admin, prefix).deletePattern('posts:after-*')).toBe(1);
  });
});

/** A cache on a store of its own over `client`'s server, for deletes in a test. */
function setUpCache(client: Redis | Cluster, prefix: string) {
  return createCache({ store: new RedisStore({ client }), prefix, logger: quietLogger });
}

describe.each([
  ['RedisStore on a standalone Redis', ioredisStore(standaloneClient), standaloneClient],
  ['RedisStore on a 3-master Redis Cluster', ioredisStore(clusterClient), clusterClient],
  ['NodeRedisStore on a standalone Redis', nodeRedisStore(nodeRedisClient), standaloneClient],
  ['NodeRedisStore on a 3-master Redis Cluster', nodeRedisStore(nodeRedisCluster), clusterClient],
] as const)('%s: each caller of a batch on its own', (_name, makeStore, connect) => {
  const closes: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    await Promise.all(closes.map((close) => close()));
  });

  it('makes a command that fails within a batch its own caller’s miss; the others hit', async () => {
    const own = await makeStore();
    closes.push(own.close);
    const admin = connect();
    closes.push(() => admin.quit());
    const { prefix, errors, computed, readAll } = postCache(own.store);
    const keys = slugs('ok', 20);
    await readAll([...keys, 'was-ok']);
    // A key read lately (read again with GET), and one never seen (read with SET … NX GET),
    // now hold hashes: Redis answers WRONGTYPE to those two commands of the batch only.
    await admin.del(`${prefix}:posts:was-ok`);
    await admin.hset(`${prefix}:posts:was-ok`, 'field', 'v');
    await admin.hset(`${prefix}:posts:never-seen`, 'field', 'v');
    computed.length = 0;
    errors.length = 0;
    await readAll([...keys, 'was-ok', 'never-seen']);
    expect(computed.sort()).toEqual(['never-seen', 'was-ok']);
    expect(errors.map(({ key }) => key).sort()).toEqual([
      `${prefix}:posts:never-seen`,
      `${prefix}:posts:was-ok`,
    ]);
    for (const { operation, error } of errors) {
      expect(operation).toBe('get');
      expect(String(error)).toMatch(/WRONGTYPE/);
    }
    // Nothing was written over the hashes.
    expect(await admin.type(`${prefix}:posts:was-ok`)).toBe('hash');
    expect(await admin.type(`${prefix}:posts:never-seen`)).toBe('hash');
  });
});

describe.each([
  ['RedisStore', (host: string, port: number) => ioredisStore(() => new Redis({ host, port }))],
  [
    'NodeRedisStore',
    (host: string, port: number) =>
      nodeRedisStore(async () => {
        const { createClient } = await import('redis');
        const client = createClient({ socket: { host, port } });
        client.on('error', () => undefined);
        return client.connect();
      }),
  ],
] as const)(
  '%s on a frozen Redis',
  (_name, storeOn: (host: string, port: number) => StoreMaker) => {
    const cleanups = new Cleanups();
    afterEach(() => cleanups.runAll());

    it('bounds every caller of a batch by the timeout: each computes, none throws', async () => {
      const server = await startFaultRedis();
      cleanups.add(() => server.stop());
      const own = await storeOn(server.host, server.port)();
      cleanups.add(() => own.close().catch(() => undefined));
      const { errors, computed, readAll } = postCache(own.store, { timeout: 150 });
      const present = slugs('present', 10);
      await readAll(present);
      const fresh = slugs('fresh', 10);
      computed.length = 0;
      const unpause = await pauseServer(server, cleanups);
      // Plain reads of the keys found, leasing reads of the others: all in one batch, unanswered.
      await readAll([...present, ...fresh]);
      expect(computed.sort()).toEqual([...present, ...fresh].sort());
      const readErrors = errors.filter(({ operation }) => operation === 'get');
      expect(readErrors).toHaveLength(20);
      for (const { error } of readErrors) {
        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect((error as StoreUnavailableError).reason).toBe('timeout');
      }
      await unpause();
    });

    it('bounds a lone leasing read (one script) by the timeout, and leaves no lease once Redis answers', async () => {
      const server = await startFaultRedis();
      cleanups.add(() => server.stop());
      const own = await storeOn(server.host, server.port)();
      cleanups.add(() => own.close().catch(() => undefined));
      const { cache, prefix, errors, computed, getPost } = postCache(own.store, { timeout: 150 });
      await getPost('warm-1');
      await getPost('warm-2');
      const admin = new Redis({ host: server.host, port: server.port });
      admin.on('error', () => undefined);
      cleanups.add(() => admin.disconnect());
      const unpause = await pauseServer(server, cleanups);
      // Alone in its tick: the lease and the index record in one script, which gets no answer.
      expect(await getPost('frozen')).toEqual({ slug: 'frozen', title: 'Post frozen' });
      const reads = errors.filter(({ operation }) => operation === 'get');
      expect(reads.map(({ error }) => (error as StoreUnavailableError).reason)).toEqual([
        'timeout',
      ]);
      await unpause();
      // The script reached Redis late and took the lease; the release sent after it removed it.
      const key = `${prefix}:posts:frozen`;
      await expect.poll(() => admin.get(key), { timeout: 1000 }).toBeNull();
      computed.length = 0;
      await getPost('frozen');
      await cache.settled();
      expect(computed).toEqual(['frozen']);
      expect(await admin.get(key)).toContain('"title":"Post frozen"');
    });
  },
);
