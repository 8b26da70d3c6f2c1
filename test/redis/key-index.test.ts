/**
 * The Redis stores' key index on a real Redis, standalone and Cluster: pattern invalidations answered
 * from the index (one sorted set per level, `<prefix>|index|<rest of the level>`) instead of a walk
 * of the keyspace; the index's keys, TTLs and pruning; the stale-fill race the index must close,
 * forced step by step with ChaosStore; and when the index is not kept (Redis may evict keys, or
 * the ACL user may not read the eviction policy). Where the client library matters (which
 * commands are sent, how the eviction policy is read), NodeRedisStore is tested beside RedisStore.
 * Figures are printed in `[index]` lines.
 */
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type Cache,
  type CacheEventMap,
  type CacheEventName,
  createCache,
  type Store,
} from '../../src/index.js';
import { type NodeRedisClient, NodeRedisStore } from '../../src/node-redis.js';
import { RedisStore } from '../../src/redis.js';
import { ChaosStore } from '../../src/testing/index.js';
import {
  clusterClient,
  nodeRedisClient,
  nodeRedisCluster,
  standaloneClient,
} from '../helpers/redis-clients.js';
import { type FaultRedis, startFaultRedis } from '../helpers/redis-servers.js';
import { ioredisStore, nodeRedisStore, type StoreMaker } from '../helpers/redis-stores.js';
import { recordingLogger } from '../helpers/stores.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` holds, polling (at most `ms`). */
async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/**
 * Every command a client sends, by name, recorded on the connection that sends it: the client
 * itself, or for a Cluster each node connection (present and future), since a Cluster routes
 * every command, SCAN on a master included, through one of them. A SCAN another test file sends
 * to the shared servers is not counted, unlike in `INFO commandstats`. An ioredis client or a
 * node-redis one.
 */
function recordCommands(client: object): string[] {
  if (client instanceof Redis || client instanceof Cluster) return recordIoredisCommands(client);
  return recordNodeRedisCommands(client as NodeRedisClient);
}

function recordIoredisCommands(client: Redis | Cluster): string[] {
  const names: string[] = [];
  const wrap = (connection: Redis) => {
    const send = connection.sendCommand.bind(connection);
    connection.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
      names.push(command.name.toLowerCase());
      return (send as (...args: unknown[]) => unknown)(command, ...rest);
    }) as Redis['sendCommand'];
  };
  if (client instanceof Cluster) {
    for (const node of client.nodes('all')) wrap(node);
    client.on('+node', wrap);
  } else {
    wrap(client);
  }
  return names;
}

/** The same for node-redis: a Cluster's node clients are those its `nodeClient` gives. */
function recordNodeRedisCommands(client: NodeRedisClient): string[] {
  const names: string[] = [];
  const seen = new WeakSet<object>();
  // `argsAt`: where the command's words are among `sendCommand`'s arguments.
  const wrap = (target: object, argsAt: number) => {
    if (seen.has(target)) return;
    seen.add(target);
    const sender = target as { sendCommand: (...args: unknown[]) => Promise<unknown> };
    const send = sender.sendCommand.bind(target);
    sender.sendCommand = (...args) => {
      names.push(String((args[argsAt] as string[])[0]).toLowerCase());
      return send(...args);
    };
  };
  if ('nodeClient' in client) {
    wrap(client, 2);
    const nodeClient = client.nodeClient.bind(client);
    client.nodeClient = async (node) => {
      const made = await nodeClient(node);
      wrap(made, 0);
      return made;
    };
  } else {
    wrap(client, 0);
  }
  return names;
}

/** `cmdstat_scan` calls of one server (INFO commandstats). */
async function scanCalls(admin: Redis): Promise<number> {
  const info = await admin.info('commandstats');
  return Number(/cmdstat_scan:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

/** Events of one kind, collected. */
function collect<E extends CacheEventName>(cache: Cache<Store>, event: E): CacheEventMap[E][] {
  const seen: CacheEventMap[E][] = [];
  cache.on(event, (payload) => {
    seen.push(payload);
  });
  return seen;
}

describe.each([
  ['a standalone Redis', standaloneClient, nodeRedisClient],
  ['a 3-master Redis Cluster', clusterClient, nodeRedisCluster],
] as const)('the key index on %s', (_name, connect, connectNodeRedis) => {
  const clients: (Redis | Cluster)[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
    await Promise.all(closers.map((close) => close()));
  });
  /** A client of its own, as a separate process would have; quit after the suite. */
  const client = () => {
    const made = connect();
    clients.push(made);
    return made;
  };

  it.each<[string, () => StoreMaker]>([
    ['RedisStore', () => ioredisStore(connect)],
    ['NodeRedisStore', () => nodeRedisStore(connectNodeRedis)],
  ])(
    'answers a pattern invalidation from the index (%s): no scan event, no SCAN sent, the right keys gone',
    async (_store, maker) => {
      const prefix = `ki-${randomUUID().slice(0, 8)}`;
      const made = await maker()();
      closers.push(made.close);
      const sent = recordCommands(made.client);
      const store = new ChaosStore(made.store);
      const cache = createCache({ store, prefix, timeout: 2000 });
      const scans = collect(cache, 'scan');
      const invalidated = collect(cache, 'invalidate');
      const db = new Map([
        ['a', 'a1'],
        ['b', 'b1'],
      ]);
      const getBody = cache.cacheable(async (slug: string) => db.get(slug), {
        key: 'posts:{{slug}}:body',
        context: (slug) => ({ slug }),
      });
      const getComments = cache.cacheable(async (slug: string) => `${db.get(slug)} comments`, {
        key: 'posts:{{slug}}:comments',
        context: (slug) => ({ slug }),
      });
      const update = cache.invalidating(
        async (slug: string, row: string) => {
          db.set(slug, row);
        },
        { patterns: ['posts:{{slug}}:*'], context: (slug) => ({ slug }) },
      );
      for (const slug of ['a', 'b']) {
        await getBody(slug);
        await getComments(slug);
      }
      const raw = client();
      const keys = ['a', 'b'].flatMap((s) => [
        `${prefix}:posts:${s}:body`,
        `${prefix}:posts:${s}:comments`,
      ]);
      expect((await Promise.all(keys.map((k) => raw.exists(k)))).every((n) => n === 1)).toBe(true);
      const before = sent.length;

      await update('a', 'a2');

      expect(scans).toEqual([]);
      expect(store.calls.deletePattern).toBe(0);
      expect(store.calls.deleteTracked).toBe(1);
      expect(sent.slice(before)).not.toContain('scan');
      expect(sent.slice(before)).toContain('zscan');
      expect(invalidated.map(({ pattern, count }) => ({ pattern, count }))).toEqual([
        { pattern: `${prefix}:posts:a:*`, count: 2 },
      ]);
      expect(await Promise.all(keys.map((k) => raw.exists(k)))).toEqual([0, 0, 1, 1]);
      expect(await getBody('a')).toBe('a2');
      expect(await getComments('a')).toBe('a2 comments');
      expect(await getBody('b')).toBe('b1');
      expect(sent).not.toContain('scan');
    },
  );

  it('keeps one sorted set per level under <prefix>|index|…, each member and the set with a TTL', async () => {
    const prefix = `ki-${randomUUID().slice(0, 8)}`;
    const redis = client();
    const cache = createCache({
      store: new RedisStore({ client: redis }),
      prefix,
      timeout: 2000,
      lease: { ttl: 100, wait: 100 },
    });
    const getBody = cache.cacheable(async (slug: string) => `body ${slug}`, {
      key: 'posts:{{slug}}:body',
      context: (slug) => ({ slug }),
      ttl: 0.3,
    });
    expect(await getBody('a')).toBe('body a');
    // trackTtlMs (src/cache/read/call.ts): max(lease.wait, lease.ttl, 10 s) + lease.ttl + ttl +
    // staleTtl = 10,000 + 100 + 300 + 0 ms. The 10 s floor (MIN_EXTENSION_MS) dominates.
    const trackTtl = 10_400;
    const levels = [
      { index: `${prefix}|index|posts:`, member: 'a:body' },
      { index: `${prefix}|index|posts:a:`, member: 'body' },
    ];
    const [seconds, micros] = await redis.time();
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    for (const { index, member } of levels) {
      expect(await redis.type(index)).toBe('zset');
      expect(await redis.zrange(index, '0', '-1')).toEqual([member]);
      const pttl = await redis.pttl(index);
      const until = Number(await redis.zscore(index, member)) - now;
      console.log(
        `[index] ${index}: member ${JSON.stringify(member)} kept ${until} ms more, set PTTL ${pttl} ms (tracked for ${trackTtl} ms)`,
      );
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(trackTtl);
      expect(until).toBeGreaterThan(0);
      expect(until).toBeLessThanOrEqual(trackTtl);
    }
    // The entry itself lives 0.3 s; the index outlives it, as it must (a lease may be extended).
    await sleep(500);
    expect(await redis.exists(`${prefix}:posts:a:body`)).toBe(0);
    expect(await redis.zscore(levels[0]?.index ?? '', 'a:body')).not.toBeNull();
  });

  it('prunes members whose time is up at the next track, and lets an index expire with its last member', async () => {
    const prefix = `ki-${randomUUID().slice(0, 8)}`;
    const redis = client();
    const store = new RedisStore({ client: redis });
    const index = `${prefix}|index|prune:`;
    await store.track(`${prefix}:prune:short:x`, 200);
    await store.track(`${prefix}:prune:long:y`, 60_000);
    // Tracked again for less time: GT keeps the later expiry.
    await store.track(`${prefix}:prune:long:y`, 200);
    expect(await redis.zrange(index, '0', '-1')).toEqual(['short:x', 'long:y']);
    await sleep(400);
    // Nothing prunes between tracks: the member whose time is up is still there…
    expect(await redis.zscore(index, 'short:x')).not.toBeNull();
    // …until the next track of the level.
    await store.track(`${prefix}:prune:other:z`, 60_000);
    expect((await redis.zrange(index, '0', '-1')).sort()).toEqual(['long:y', 'other:z']);
    // A level whose only member's time is up is gone with it.
    expect(await redis.exists(`${prefix}|index|prune:short:`)).toBe(0);
    expect(await redis.exists(`${prefix}|index|prune:long:`)).toBe(1);
    expect(await redis.pttl(`${prefix}|index|prune:long:`)).toBeGreaterThan(50_000);
  });

  describe('the stale-fill race, forced step by step', () => {
    /**
     * A reader whose store calls can be held (ChaosStore around its own RedisStore), and a writer
     * (another instance, its own connection) that commits and invalidates by the index.
     */
    function setup() {
      const prefix = `ki-${randomUUID().slice(0, 8)}`;
      const reader = new ChaosStore(new RedisStore({ client: client() }));
      const writer = new RedisStore({ client: client() });
      const raw = client();
      // A generous timeout: held calls are released well within it.
      const r = createCache({ store: reader, prefix, timeout: 5000 });
      const w = createCache({ store: writer, prefix, timeout: 5000 });
      const db = { row: 'v1' };
      const fnReads: string[] = [];
      const options = {
        key: 'posts:{{slug}}:body',
        context: (slug: string) => ({ slug }),
      } as const;
      const readR = r.cacheable(async (_slug: string) => {
        fnReads.push(db.row);
        return db.row;
      }, options);
      const readW = w.cacheable(async (_slug: string) => db.row, options);
      const update = w.invalidating(
        async (_slug: string, row: string) => {
          db.row = row;
        },
        { patterns: ['posts:{{slug}}:*'], context: (slug) => ({ slug }) },
      );
      const key = `${prefix}:posts:a:body`;
      const tracked = async () => (await raw.zscore(`${prefix}|index|posts:a:`, 'body')) !== null;
      const leased = async () => (await raw.get(key))?.startsWith('\u0002') === true;
      return {
        reader,
        raw,
        key,
        readR,
        readW,
        update,
        fnReads,
        tracked,
        leased,
        scans: collect(w, 'scan'),
        invalidated: collect(w, 'invalidate'),
        /** After the update returned: every read, on either instance, gives the new row. */
        async neverStale() {
          for (let i = 0; i < 5; i += 1) {
            expect(await readR('a')).toBe('v2');
            expect(await readW('a')).toBe('v2');
            expect(await r.get('posts:a:body')).toBe('v2');
          }
        },
      };
    }

    it("takes the lease after an invalidation that found only the reader's track: its function reads the new row", async () => {
      const s = setup();
      // Only the track reaches Redis; the lease request waits.
      const held = s.reader.hold('setIfAbsent', { phase: 'request' });
      const reading = s.readR('a');
      await held.reached;
      await until(s.tracked);
      expect(await s.leased()).toBe(false);

      await s.update('a', 'v2');
      expect(s.scans).toEqual([]);
      expect(s.invalidated).toEqual([expect.objectContaining({ count: 0, attempts: 1 })]);
      expect(s.fnReads).toEqual([]);

      held.release();
      expect(await reading).toBe('v2');
      expect(s.fnReads).toEqual(['v2']);
      await s.neverStale();
    });

    it("deletes the reader's lease when the track is in Redis but its reply is held, and nothing stale is stored", async () => {
      const s = setup();
      const held = s.reader.hold('track', { phase: 'reply' });
      const reading = s.readR('a');
      await held.reached;
      await until(s.leased);
      expect(await s.tracked()).toBe(true);

      await s.update('a', 'v2');
      expect(s.scans).toEqual([]);
      // The index knew the key: the lease was found and deleted.
      expect(s.invalidated).toEqual([expect.objectContaining({ count: 1, attempts: 1 })]);
      expect(await s.raw.exists(s.key)).toBe(0);
      // The function does not run while the track is unconfirmed.
      expect(s.fnReads).toEqual([]);

      held.release();
      const value = await reading;
      expect(s.fnReads.every((row) => row === 'v2')).toBe(true);
      expect(value).toBe('v2');
      const stored = await s.raw.get(s.key);
      expect(stored === null || !stored.includes('v1')).toBe(true);
      await s.neverStale();
    });

    it('runs the function only after the track is confirmed: a lease the index missed still gets the new row', async () => {
      const s = setup();
      // The lease reaches Redis; the track does not, yet.
      const held = s.reader.hold('track', { phase: 'request' });
      const reading = s.readR('a');
      await held.reached;
      await until(s.leased);
      expect(await s.tracked()).toBe(false);
      await sleep(50);
      expect(s.fnReads).toEqual([]);

      await s.update('a', 'v2');
      expect(s.scans).toEqual([]);
      // The index did not know the key yet: the lease survived the invalidation…
      expect(s.invalidated).toEqual([expect.objectContaining({ count: 0, attempts: 1 })]);
      expect(await s.leased()).toBe(true);

      held.release();
      // …but the function ran after it, so the value it stores is the new one.
      expect(await reading).toBe('v2');
      expect(s.fnReads).toEqual(['v2']);
      await s.neverStale();
    });
  });
});

describe('the key index on a Redis of its own, started with --maxmemory 100mb --maxmemory-policy allkeys-lru', () => {
  let server: FaultRedis;
  let admin: Redis;
  const clients: Redis[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  const connect = (options: { username?: string; password?: string } = {}) => {
    const made = new Redis({ host: server.host, port: server.port, ...options });
    clients.push(made);
    return made;
  };

  beforeAll(async () => {
    server = await startFaultRedis(['--maxmemory', '100mb', '--maxmemory-policy', 'allkeys-lru']);
    admin = new Redis({ host: server.host, port: server.port });
  });
  afterAll(async () => {
    await Promise.all(clients.map((made) => made.quit().catch(() => made.disconnect())));
    await Promise.all(closers.map((close) => close()));
    await admin?.quit().catch(() => admin.disconnect());
    await server?.stop();
  });
  beforeEach(async () => {
    await admin.config('SET', 'maxmemory', '100mb');
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
  });

  /** A cache on its own connection, with what it logs and reports, filled with two posts. */
  async function filled(store: Store) {
    const prefix = `ki-${randomUUID().slice(0, 8)}`;
    const logger = recordingLogger();
    const cache = createCache({ store, prefix, logger, timeout: 2000 });
    const scans = collect(cache, 'scan');
    const db = new Map([
      ['a', 'a1'],
      ['b', 'b1'],
    ]);
    const getBody = cache.cacheable(async (slug: string) => db.get(slug), {
      key: 'posts:{{slug}}:body',
      context: (slug) => ({ slug }),
    });
    const update = cache.invalidating(
      async (slug: string, row: string) => {
        db.set(slug, row);
      },
      { patterns: ['posts:{{slug}}:*'], context: (slug) => ({ slug }) },
    );
    expect(await getBody('a')).toBe('a1');
    expect(await getBody('b')).toBe('b1');
    const indexKeys = async () => (await admin.keys(`${prefix}|index|*`)).length;
    return { prefix, logger, scans, getBody, update, indexKeys };
  }

  /** A node-redis client of the server, speaking `resp`; closed after the suite. */
  const connectNodeRedis = async (resp: 2 | 3) => {
    const made = createClient({ socket: { host: server.host, port: server.port }, RESP: resp });
    made.on('error', () => undefined);
    closers.push(() => made.close());
    return made.connect();
  };

  // The eviction policy comes from CONFIG GET, a flat array in RESP2 and a map in RESP3.
  it.each<[string, () => Promise<Store>]>([
    ['RedisStore', async () => new RedisStore({ client: connect() })],
    [
      'NodeRedisStore, RESP2',
      async () => new NodeRedisStore({ client: await connectNodeRedis(2) }),
    ],
    [
      'NodeRedisStore, RESP3',
      async () => new NodeRedisStore({ client: await connectNodeRedis(3) }),
    ],
  ])(
    "with index 'auto', scans when Redis may evict keys, says why in a scan event, and logs NO KEY INDEX once (%s)",
    async (_store, make) => {
      const c = await filled(await make());
      expect(await c.indexKeys()).toBe(0);
      const scansBefore = await scanCalls(admin);
      await c.update('a', 'a2');
      await c.update('b', 'b2');
      await c.update('a', 'a3');
      expect(await scanCalls(admin)).toBeGreaterThan(scansBefore);
      expect(c.scans).toHaveLength(3);
      for (const scan of c.scans) {
        expect(scan.reason).toMatch(/may evict keys.*maxmemory 104857600.*allkeys-lru/);
      }
      console.log(`[index] not kept: ${c.scans[0]?.reason}`);
      expect(c.logger.lines.warn.filter((line) => line.includes('NO KEY INDEX'))).toEqual([
        expect.stringContaining('[Cache] NO KEY INDEX: Redis may evict keys'),
      ]);
      expect(await c.getBody('a')).toBe('a3');
      expect(await c.getBody('b')).toBe('b2');
      expect(await c.indexKeys()).toBe(0);
    },
  );

  it('with index: true, answers from the index even though Redis may evict keys', async () => {
    const c = await filled(new RedisStore({ client: connect(), index: true }));
    expect(await c.indexKeys()).toBe(3);
    const scansBefore = await scanCalls(admin);
    await c.update('a', 'a2');
    expect(await scanCalls(admin)).toBe(scansBefore);
    expect(c.scans).toEqual([]);
    expect(c.logger.lines.warn).toEqual([]);
    expect(await c.getBody('a')).toBe('a2');
    expect(await c.getBody('b')).toBe('b1');
  });

  it.each([
    ['maxmemory 0 (no limit, the default)', 'maxmemory', '0'],
    ['maxmemory-policy noeviction', 'maxmemory-policy', 'noeviction'],
  ])(
    "with index 'auto' and %s, answers from the index: no SCAN ran (INFO commandstats)",
    async (_what, name, value) => {
      await admin.config('SET', name, value);
      const c = await filled(new RedisStore({ client: connect() }));
      expect(await c.indexKeys()).toBe(3);
      const scansBefore = await scanCalls(admin);
      await c.update('a', 'a2');
      expect(await scanCalls(admin)).toBe(scansBefore);
      expect(c.scans).toEqual([]);
      expect(c.logger.lines.warn).toEqual([]);
      expect(await c.getBody('a')).toBe('a2');
      expect(await c.getBody('b')).toBe('b1');
    },
  );

  it("with index 'auto' and a user whose ACL forbids CONFIG, scans and names the missing permission", async () => {
    const user = `cache-${randomUUID().slice(0, 8)}`;
    await admin.call('ACL', 'SETUSER', user, 'on', '>secret', '~*', '&*', '+@all', '-config');
    const c = await filled(
      new RedisStore({ client: connect({ username: user, password: 'secret' }) }),
    );
    expect(await c.indexKeys()).toBe(0);
    await c.update('a', 'a2');
    await c.update('b', 'b2');
    expect(c.scans).toHaveLength(2);
    expect(c.scans[0]?.reason).toMatch(/NOPERM/);
    expect(c.scans[0]?.reason).toMatch(/config/i);
    expect(c.scans[0]?.reason).toContain('index: true');
    console.log(`[index] not kept: ${c.scans[0]?.reason}`);
    expect(c.logger.lines.warn.filter((line) => line.includes('NO KEY INDEX'))).toHaveLength(1);
    expect(await c.getBody('a')).toBe('a2');
    expect(await c.getBody('b')).toBe('b2');
  });

  it('costs this much memory for 10,000 tracked keys at 2 and 3 levels', async () => {
    await admin.config('SET', 'maxmemory', '0');
    const store = new RedisStore({ client: connect() });
    const n = 10_000;
    const shapes = [
      ['posts:{i}:body (2 levels)', (p: string, i: number) => `${p}:posts:${i}:body`],
      [
        'users:{u}:posts:{i} (3 levels)',
        (p: string, i: number) => `${p}:users:${i % 100}:posts:${i}`,
      ],
    ] as const;
    for (const [shape, keyOf] of shapes) {
      const prefix = `mem-${randomUUID().slice(0, 8)}`;
      await admin.call('MEMORY', 'PURGE').catch(() => undefined);
      const before = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
      for (let start = 0; start < n; start += 500) {
        await Promise.all(
          Array.from({ length: 500 }, (_, i) => store.track(keyOf(prefix, start + i), 600_000)),
        );
      }
      const after = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
      const indexKeys = await admin.keys(`${prefix}|index|*`);
      const pipeline = admin.pipeline();
      for (const index of indexKeys) pipeline.call('MEMORY', 'USAGE', index, 'SAMPLES', '0');
      for (const index of indexKeys) pipeline.zcard(index);
      const replies = ((await pipeline.exec()) ?? []).map(([, reply]) => Number(reply));
      const usage = replies.slice(0, indexKeys.length).reduce((sum, bytes) => sum + bytes, 0);
      const members = replies.slice(indexKeys.length).reduce((sum, count) => sum + count, 0);
      const largest = Math.max(...replies.slice(indexKeys.length));
      console.log(
        `[index] ${n} keys ${shape}: ${indexKeys.length} index sets, ${members} members (${members / n} per entry, largest set ${largest}), MEMORY USAGE ${(usage / 1024 / 1024).toFixed(2)} MiB = ${Math.round(usage / n)} bytes per entry; used_memory +${((after - before) / 1024 / 1024).toFixed(2)} MiB = ${Math.round((after - before) / n)} bytes per entry`,
      );
      expect(members).toBe(n * (shape.includes('3 levels') ? 3 : 2));
      await admin.unlink(...indexKeys);
    }
  });
});
