/**
 * `cache.health()` on real Redis: ok on a standalone server and a Cluster, the in-process tier's
 * state following its tracking connections, and `down` within the probe's timeout while the
 * server is frozen (`docker pause`), ok again once it is back.
 */
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { Redis as IORedis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Cache, type CacheHealth, createCache, type Store } from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { Cleanups, pauseServer, pollUntil } from '../helpers/faults.js';
import { clusterClient, standaloneClient } from '../helpers/redis-clients.js';
import { startFaultRedis } from '../helpers/redis-servers.js';
import { quietLogger } from '../helpers/stores.js';

describe.each([
  ['a standalone Redis', standaloneClient],
  ['a 3-master Redis Cluster', clusterClient],
] as const)('cache.health() on %s', (_name, connect) => {
  const clients: (Redis | Cluster)[] = [];
  const caches: Cache<Store>[] = [];
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close({ timeout: 100 })));
    await Promise.all(clients.map((client) => client.quit().catch(() => undefined)));
  });

  function make(l1: boolean): Cache<RedisStore> {
    const client = connect();
    clients.push(client);
    const cache = createCache({
      store: new RedisStore({ client }),
      prefix: `health-${randomUUID().slice(0, 8)}`,
      l1,
      logger: quietLogger,
      timeout: 2000,
    });
    caches.push(cache);
    return cache;
  }

  it('is ok: the store answers, nothing is pending, the tier is off', async () => {
    const health = await make(false).health();
    expect(health).toMatchObject({
      status: 'ok',
      ok: true,
      store: { reachable: true },
      breaker: { state: 'closed', failures: 0 },
      invalidations: { pending: 0, retrying: 0 },
      l1: { state: 'off' },
    });
    expect(health.store).not.toHaveProperty('error');
  });

  it('follows the tier: live once tracking is set up, live again after its connection was killed', async () => {
    const cache = make(true);
    const live = async () => (await cache.health()).l1.state === 'live';
    expect(await pollUntil(live, { intervalMs: 10, limitMs: 10_000 })).toBeDefined();
    expect((await cache.health()).status).toBe('ok');
    const admin = connect();
    clients.push(admin);
    await admin.ping();
    const servers = 'nodes' in admin ? admin.nodes('master') : [admin];
    const killedAt = Date.now();
    let killed = 0;
    for (const server of servers) {
      for (const line of String(await server.client('LIST')).split('\n')) {
        const id = line.includes('name=quickpost-cache:l1')
          ? /id=(\d+)/.exec(line)?.[1]
          : undefined;
        if (id !== undefined) killed += Number(await server.client('KILL', 'ID', id));
      }
    }
    expect(killed).toBeGreaterThan(0);
    // The tier went lost and came back: it is live again, since a moment after the kill.
    const back = async () => {
      const { state, since } = (await cache.health()).l1;
      return state === 'live' && since >= killedAt;
    };
    expect(await pollUntil(back, { intervalMs: 10, limitMs: 10_000 })).toBeDefined();
  });
});

describe('cache.health() on a frozen Redis', () => {
  const cleanups = new Cleanups();
  afterEach(() => cleanups.runAll());

  it('is down within the probe’s timeout while the server is paused, and ok once it is back', async () => {
    const server = await startFaultRedis();
    cleanups.add(() => server.stop());
    const client = new IORedis({ host: server.host, port: server.port, maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    cleanups.add(() => client.disconnect());
    const cache = createCache({ store: new RedisStore({ client }), logger: quietLogger });
    expect((await cache.health()).status).toBe('ok');
    const unpause = await pauseServer(server, cleanups);
    const frozen: CacheHealth = await cache.health({ timeout: 300 });
    expect(frozen).toMatchObject({
      status: 'down',
      ok: false,
      store: { reachable: false, error: expect.stringContaining('did not answer within 300 ms') },
    });
    await unpause();
    const ok = async () => (await cache.health({ timeout: 300 })).ok;
    expect(await pollUntil(ok, { intervalMs: 50, limitMs: 10_000 })).toBeDefined();
    expect((await cache.health()).status).toBe('ok');
  });
});
