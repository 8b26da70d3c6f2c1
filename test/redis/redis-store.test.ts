import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it, vi } from 'vitest';
import { createCache } from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { clusterClient, standaloneClient } from '../helpers/redis-clients.js';

describe('RedisStore', () => {
  // Which clients it accepts, and the keyPrefix refusal, need no server: test/unit/redis-store.test.ts.

  it('opens and closes its own connection from a URL, but never closes a client it was given', async () => {
    const { host, port } = inject('redis').standalone;
    const owned = new RedisStore({ url: `redis://${host}:${port}` });
    await owned.set(`owned:${randomUUID()}`, 'v', 1000);
    await owned.close();
    await vi.waitFor(() => expect(owned.client.status).toBe('end'));
    const client = standaloneClient();
    const borrowed = new RedisStore({ client });
    await borrowed.close();
    expect(await client.ping()).toBe('PONG');
    await client.quit();
  });

  it.each([
    ['a standalone Redis', standaloneClient],
    ['a 3-master Redis Cluster', clusterClient],
  ])('gives a cached entry a Redis expiry (PTTL) of its ttl on %s', async (_name, connect) => {
    const client = connect();
    const prefix = `it-${randomUUID().slice(0, 8)}`;
    const cache = createCache({ store: new RedisStore({ client }), prefix, timeout: 2000 });
    const getPost = cache.cacheable(async (slug: string) => ({ slug }), {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
      ttl: 60,
    });
    await getPost('my-post');
    const ttl = await client.pttl(`${prefix}:posts:my-post`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    await client.unlink(`${prefix}:posts:my-post`);
    await client.quit();
  });

  it.each([
    ['a standalone Redis', standaloneClient],
    ['a 3-master Redis Cluster', clusterClient],
  ])('deletes 100,000 keys by pattern on %s, leaving the others', async (_name, connect) => {
    const client = connect();
    const store = new RedisStore({ client });
    const ns = `bulk:${randomUUID()}:`;
    const total = 100_000;
    for (let start = 0; start < total; start += 5000) {
      await Promise.all(
        Array.from({ length: 5000 }, (_, i) =>
          client.set(`${ns}posts:${start + i}`, 'v', 'PX', 120_000),
        ),
      );
    }
    await client.set(`${ns}users:1`, 'v', 'PX', 120_000);
    expect(await store.deletePattern(`${ns}posts:*`)).toBe(total);
    expect(await store.deletePattern(`${ns}posts:*`)).toBe(0);
    expect(await client.get(`${ns}users:1`)).toBe('v');
    await client.unlink(`${ns}users:1`);
    await client.quit();
  });
});

describe('RedisStore.getOrLease', () => {
  it('leases with one SET … NX GET, and on a server that rejects it (Redis before 7) with GET then SET NX', async () => {
    const client = standaloneClient();
    const prefix = `it-${randomUUID().slice(0, 8)}`;
    const sent: string[][] = [];
    // Redis 6.2 answers `SET … NX … GET` with this error; this Redis is 7, so the client is
    // wrapped to answer as 6.2 would. Every other command reaches the real server.
    let old = false;
    const answering = new Proxy(client, {
      get(target, property, receiver) {
        const member = Reflect.get(target, property, receiver);
        if (typeof member !== 'function') return member;
        return (...args: unknown[]) => {
          sent.push([String(property), ...args.map(String)]);
          if (old && property === 'set' && args.includes('NX') && args.includes('GET')) {
            return Promise.reject(new Error('ERR syntax error'));
          }
          return member.apply(target, args);
        };
      },
    });
    const store = new RedisStore({ client: answering, index: false });
    expect(await store.getOrLease(`${prefix}:a`, 'lease', 60_000)).toBeNull();
    expect(sent).toEqual([['set', `${prefix}:a`, 'lease', 'PX', '60000', 'NX', 'GET']]);
    expect(await client.get(`${prefix}:a`)).toBe('lease');

    old = true;
    sent.length = 0;
    expect(await store.getOrLease(`${prefix}:b`, 'lease', 60_000)).toBeNull();
    expect(await store.getOrLease(`${prefix}:b`, 'other', 60_000)).toBe('lease');
    expect(sent.map(([command, ...args]) => [command, args.at(-1)])).toEqual([
      ['set', 'GET'],
      ['get', `${prefix}:b`],
      ['set', 'NX'],
      ['get', `${prefix}:b`],
    ]);
    expect(await client.pttl(`${prefix}:b`)).toBeGreaterThan(50_000);
    await client.unlink(`${prefix}:a`, `${prefix}:b`);
    await client.quit();
  });
});
