/**
 * A pattern delete on a brand-new Cluster client. Reported: "`deletePattern` scans
 * `client.nodes('master')`, which right after `new Cluster()` holds only the seeds (or nothing,
 * for hostname seeds): 42 of 60 and 60 of 60 entries were left and the invalidation reported
 * success, even with `invalidationErrors: 'throw'`." Required: a fresh client, before slot
 * discovery and with one seed (a hostname or an IP), reaches every master; or the invalidation
 * reports failure and is retried. The keys are written by another client, so the fresh one has
 * learnt nothing from writing them, and they are not in the key index (the SCAN path).
 */
import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CacheEventMap, createCache, InvalidationError } from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { clusterClient } from '../helpers/redis-clients.js';
import { freePort } from '../helpers/redis-servers.js';
import { recordingLogger } from '../helpers/stores.js';

const KEYS = 60;

describe('a pattern delete on a brand-new Cluster client', () => {
  let writer: Cluster;
  /** Which master serves each slot range, to say where the keys landed. */
  let masterOfSlot: (slot: number) => string;
  const fresh: Cluster[] = [];

  beforeAll(async () => {
    writer = clusterClient();
    await writer.set(`warm-up-${randomUUID()}`, '1', 'PX', 1000);
    const ranges = await writer.cluster('SLOTS');
    masterOfSlot = (slot) => {
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      const master = range?.[2];
      return master === undefined ? '?' : `${master[0]}:${master[1]}`;
    };
  });
  afterEach(async () => {
    await Promise.all(
      fresh.splice(0).map((client) => client.quit().catch(() => client.disconnect())),
    );
  });
  afterAll(async () => {
    await writer.quit();
  });

  /** A new Cluster client with one seed, the first node, by `host`; nothing sent through it yet. */
  function freshClient(host: 'localhost' | '127.0.0.1'): Cluster {
    const { nodes, natMap } = inject('redis').cluster;
    const seed = { host, port: nodes[0]?.port ?? 0 };
    const client = new Cluster([seed], natMap === undefined ? {} : { natMap });
    fresh.push(client);
    return client;
  }

  /** 60 keys under a new prefix, written by another client; asserts they span every master. */
  async function written(): Promise<{ prefix: string; keys: string[] }> {
    const prefix = `fresh-${randomUUID().slice(0, 8)}`;
    const keys = Array.from({ length: KEYS }, (_, i) => `${prefix}:k:${i}`);
    await Promise.all(keys.map((key) => writer.set(key, 'v', 'PX', 60_000)));
    const perMaster = new Map<string, number>();
    for (const key of keys) {
      const master = masterOfSlot(Number(await writer.call('CLUSTER', 'KEYSLOT', key)));
      perMaster.set(master, (perMaster.get(master) ?? 0) + 1);
    }
    expect(perMaster.size).toBe(3);
    console.log(
      `[index] ${KEYS} keys over the masters: ${[...perMaster.values()].sort((a, b) => a - b).join(' + ')}`,
    );
    return { prefix, keys };
  }

  const left = async (keys: string[]) =>
    (await Promise.all(keys.map((key) => writer.exists(key)))).reduce((sum, n) => sum + n, 0);

  describe.each([
    ['one hostname seed (localhost)', 'localhost'],
    ['one IP seed (127.0.0.1)', '127.0.0.1'],
  ] as const)('with %s', (_what, host) => {
    it('RedisStore.deletePattern, called at once, removes and counts all 60 keys', async () => {
      const { prefix, keys } = await written();
      const client = freshClient(host);
      expect(client.status).not.toBe('ready');
      // What the reported code scanned: the masters the client knows at the call.
      const known = client.nodes('master').length;
      console.log(`[index] ${host} seed: the fresh client knows ${known} of 3 masters at the call`);
      expect(known).toBeLessThan(3);
      const store = new RedisStore({ client, index: false });
      expect(await store.deletePattern(`${prefix}:k:*`)).toBe(KEYS);
      expect(await left(keys)).toBe(0);
    });

    it("a cache's invalidation (index: false, invalidationErrors: 'throw'), called at once, removes all 60 keys", async () => {
      const { prefix, keys } = await written();
      const client = freshClient(host);
      expect(client.status).not.toBe('ready');
      const cache = createCache({
        store: new RedisStore({ client, index: false }),
        prefix,
        invalidationErrors: 'throw',
        logger: recordingLogger(),
      });
      const confirmed: CacheEventMap['invalidate'][] = [];
      cache.on('invalidate', (event) => confirmed.push(event));
      const update = cache.invalidating(async () => 'saved', { patterns: ['k:*'] });
      expect(await update()).toBe('saved');
      expect(confirmed.map(({ pattern, count }) => ({ pattern, count }))).toEqual([
        { pattern: `${prefix}:k:*`, count: KEYS },
      ]);
      expect(await left(keys)).toBe(0);
    });

    it("the cache's manual deletePattern, called at once, answers 60", async () => {
      const { prefix, keys } = await written();
      const client = freshClient(host);
      const cache = createCache({
        store: new RedisStore({ client, index: false }),
        prefix,
        logger: recordingLogger(),
      });
      expect(await cache.deletePattern('k:*')).toBe(KEYS);
      expect(await left(keys)).toBe(0);
    });
  });

  it.each([
    ['index: false', false],
    ["index: 'auto' (the default)", 'auto'],
  ] as const)(
    'never reports success through a client whose only seed has nothing listening (%s): it fails, stays pending and is retried',
    async (_what, index) => {
      const client = new Cluster([{ host: '127.0.0.1', port: await freePort() }]);
      client.on('error', () => undefined);
      fresh.push(client);
      const logger = recordingLogger();
      const cache = createCache({
        store: new RedisStore({ client, index }),
        prefix: `dead-${randomUUID().slice(0, 8)}`,
        invalidationErrors: 'throw',
        invalidationTimeout: 300,
        logger,
      });
      const events: string[] = [];
      const pending: CacheEventMap['invalidationPending'][] = [];
      cache.on('invalidationPending', (event) => {
        events.push('invalidationPending');
        pending.push(event);
      });
      cache.on('invalidationRetry', () => events.push('invalidationRetry'));
      cache.on('invalidate', () => events.push('invalidate'));
      const update = cache.invalidating(async () => 'saved', { patterns: ['k:*'] });

      const error = await update().then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(InvalidationError);
      expect((error as InvalidationError).result).toBe('saved');
      expect(pending).toHaveLength(1);
      console.log(`[index] dead seed: invalidationPending with ${String(pending[0]?.error)}`);
      await expect(cache.deletePattern('k:*')).rejects.toThrow();
      // Retried in the background, never confirmed.
      const deadline = Date.now() + 3000;
      while (!events.includes('invalidationRetry') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(events).toContain('invalidationRetry');
      expect(events).not.toContain('invalidate');
      console.log(
        `[index] dead seed: ${events.filter((e) => e === 'invalidationRetry').length} retries; the client holds ${client.listenerCount('ready')} 'ready' and ${client.listenerCount('end')} 'end' listeners`,
      );
      await cache.close();
      expect(logger.lines.error).toEqual([expect.stringContaining('unconfirmed')]);
    },
  );

  // One wait per client, shared by every caller (it once added two listeners per call and
  // never removed them while the Cluster stayed unreachable).
  it('does not pile up listeners on a Cluster client that is not ready, however many invalidations wait for it', async () => {
    const client = new Cluster([{ host: '127.0.0.1', port: await freePort() }]);
    client.on('error', () => undefined);
    fresh.push(client);
    const cache = createCache({
      store: new RedisStore({ client, index: false }),
      prefix: `dead-${randomUUID().slice(0, 8)}`,
      invalidationTimeout: 100,
      logger: recordingLogger(),
    });
    const attempts = Array.from({ length: 12 }, (_, i) =>
      cache.deletePattern(`k${i}:*`).catch(() => undefined),
    );
    await Promise.all(attempts);
    console.log(
      `[index] dead seed, 12 invalidations: the client holds ${client.listenerCount('ready')} 'ready' and ${client.listenerCount('end')} 'end' listeners`,
    );
    await cache.close();
    expect(client.listenerCount('ready')).toBeLessThanOrEqual(2);
  });
});
