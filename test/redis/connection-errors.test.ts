/**
 * Issue 10: connections the store opens itself (`RedisStore({ url })`, the in-process tier's
 * tracking connections) had no `error` listener, or one that swallowed everything: ioredis printed
 * "[ioredis] Unhandled error event" on every failed reconnection, or nothing was said at all. Each
 * test stops a server of its own and checks that ioredis printed nothing and that the cache's
 * logger got the error, once for identical errors. The same for NodeRedisStore, where an `error`
 * event nobody listens to would end the process.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { createCache, type Store } from '../../src/index.js';
import { NodeRedisStore } from '../../src/node-redis.js';
import { RedisStore } from '../../src/redis.js';
import { adminClient, Cleanups, clientIds } from '../helpers/faults.js';
import { type FaultRedis, startFaultRedis } from '../helpers/redis-servers.js';
import { recordingLogger } from '../helpers/stores.js';

const cleanups = new Cleanups();
/** ioredis prints its "Unhandled error event" through `console.error`: watched, still printed. */
let consoleError: MockInstance<typeof console.error>;

beforeEach(() => {
  consoleError = vi.spyOn(console, 'error');
});

afterEach(async () => {
  consoleError.mockRestore();
  await cleanups.runAll();
});

/** What ioredis printed as unhandled error events. */
function unhandled(): unknown[][] {
  return consoleError.mock.calls.filter((call) =>
    String(call[0]).includes('[ioredis] Unhandled error event'),
  );
}

/** Resolves once `client` has started `count` reconnection attempts. */
function reconnections(client: Redis, count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const listener = () => {
      seen += 1;
      if (seen < count) return;
      client.off('reconnecting', listener);
      resolve();
    };
    client.on('reconnecting', listener);
  });
}

describe('errors of connections the store opens', () => {
  it('control: a connection without an error listener prints an unhandled error event per attempt', async () => {
    const server = await startFaultRedis();
    cleanups.add(() => server.stop());
    const bare = new Redis({ host: server.host, port: server.port });
    cleanups.add(() => bare.disconnect());
    await bare.ping();
    const attempts = reconnections(bare, 3);
    await server.stop();
    await attempts;
    expect(unhandled().length).toBeGreaterThanOrEqual(2);
  });

  it('go to the cache’s logger for a store made from a URL, identical ones once', async () => {
    const server = await startFaultRedis();
    cleanups.add(() => server.stop());
    const store = new RedisStore<Redis>({ url: `redis://${server.host}:${server.port}` });
    cleanups.add(() => store.client.disconnect());
    const logger = recordingLogger();
    const cache = createCache({ store, logger, timeout: 2000 });
    await cache.set('k', 1);
    const attempts = reconnections(store.client, 4);
    await server.stop();
    await attempts;
    expect(unhandled()).toEqual([]);
    const refused = logger.lines.warn.filter((line) => line.includes('ECONNREFUSED'));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(
      new RegExp(
        `^\\[Cache\\] REDIS: the connection the store opened \\(${server.host}:${server.port}\\) failed: connect ECONNREFUSED .*; ioredis reconnects by itself \\(identical errors are logged once a minute\\)$`,
      ),
    );
  });

  // The test's own client: its errors are the test's to handle (the store never listens to a
  // client it was given).
  it.each<[string, (server: FaultRedis) => Promise<Store>]>([
    [
      'RedisStore',
      async (server) => {
        const client = new Redis({ host: server.host, port: server.port });
        client.on('error', () => undefined);
        cleanups.add(() => client.disconnect());
        return new RedisStore({ client });
      },
    ],
    [
      'NodeRedisStore',
      async (server) => {
        const client = createClient({ socket: { host: server.host, port: server.port } });
        client.on('error', () => undefined);
        await client.connect();
        cleanups.add(() => client.destroy());
        return new NodeRedisStore({ client });
      },
    ],
  ])(
    'go to the cache’s logger for the in-process tier’s tracking connection (%s)',
    async (_store, make) => {
      const server = await startFaultRedis();
      cleanups.add(() => server.stop());
      const logger = recordingLogger();
      const cache = createCache({ store: await make(server), logger, l1: true });
      cleanups.add(() => cache.close({ timeout: 0 }));
      const admin = adminClient(server, cleanups);
      await vi.waitFor(
        async () => expect(await clientIds(admin, 'quickpost-cache:l1')).toHaveLength(1),
        { timeout: 5000 },
      );
      admin.disconnect();
      await server.stop();
      const tracking = () =>
        logger.lines.warn.filter((line) =>
          line.includes("the in-process tier's tracking connection"),
        );
      await vi.waitFor(() => expect(tracking().length).toBeGreaterThan(0), { timeout: 5000 });
      // A new tracking connection is tried every 50–350 ms meanwhile (50 ms more each attempt).
      await sleep(1500);
      expect(unhandled()).toEqual([]);
      expect(tracking().filter((line) => line.includes('ECONNREFUSED'))).toHaveLength(1);
    },
  );

  // node-redis ends the process on an `error` event nobody listens to: the test would crash.
  it('go to the cache’s logger for a NodeRedisStore made from a URL, identical ones once', async () => {
    const server = await startFaultRedis();
    cleanups.add(() => server.stop());
    const store = new NodeRedisStore<ReturnType<typeof createClient>>({
      url: `redis://${server.host}:${server.port}`,
    });
    cleanups.add(() => store.close());
    const logger = recordingLogger();
    const cache = createCache({ store, logger, timeout: 2000 });
    await cache.set('k', 1);
    let attempts = 0;
    store.client.on('reconnecting', () => {
      attempts += 1;
    });
    await server.stop();
    await vi.waitFor(() => expect(attempts).toBeGreaterThanOrEqual(4), { timeout: 10_000 });
    const refused = logger.lines.warn.filter((line) => line.includes('ECONNREFUSED'));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(
      new RegExp(
        `^\\[Cache\\] REDIS: the connection the store opened \\(${server.host}:${server.port}\\) failed: connect ECONNREFUSED .*; node-redis reconnects by itself \\(identical errors are logged once a minute\\)$`,
      ),
    );
  });
});
