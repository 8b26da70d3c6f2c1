/**
 * What is NodeRedisStore's own on a real Redis: the connection it opens. The rest is tested on
 * both Redis stores: conformance.test.ts, behaviour.test.ts, l1.test.ts, concurrency.test.ts,
 * key-index.test.ts (the index; the eviction policy read in RESP2 and RESP3), clients.test.ts
 * (node-redis 5, RESP2, a Buffer type mapping).
 */
import { randomUUID } from 'node:crypto';
import type { createClient } from 'redis';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import { NodeRedisStore } from '../../src/node-redis.js';
import { nodeRedisClient } from '../helpers/redis-clients.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Clients made by the tests, closed after the file. */
const clients: { close(): Promise<unknown> }[] = [];
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
});

/** A client of its own, closed after the file. */
async function own<T extends { close(): Promise<unknown> }>(made: Promise<T>): Promise<T> {
  const client = await made;
  clients.push(client);
  return client;
}

describe('NodeRedisStore', () => {
  it('opens its own connection from a URL (tracking included) and closes it, but never closes a client it was given', async () => {
    const { host, port } = inject('redis').standalone;
    const owned = new NodeRedisStore<ReturnType<typeof createClient>>({
      url: `redis://${host}:${port}`,
    });
    // Sent before the connection is ready: they wait in node-redis's offline queue.
    const key = `owned:${randomUUID()}`;
    await owned.set(key, 'v', 1000);
    expect(await owned.get(key)).toBe('v');
    // Its tracking connection is a duplicate of it (options from the URL): it reports changes.
    const changed: (string | null)[] = [];
    let ready = () => {};
    const tracking = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const stop = await owned.watch(key, {
      changed: (keys) => changed.push(...(keys ?? [null])),
      lost: () => undefined,
      ready: () => ready(),
    });
    await tracking;
    await owned.delete(key);
    await vi.waitFor(() => expect(changed).toEqual([key]));
    await stop();
    await owned.close();
    expect(owned.client.isOpen).toBe(false);
    const client = await own(nodeRedisClient());
    const borrowed = new NodeRedisStore({ client });
    await borrowed.close();
    expect(await client.ping()).toBe('PONG');
  });

  it('closes a connection it opened that never became ready (Redis unreachable)', async () => {
    const owned = new NodeRedisStore<ReturnType<typeof createClient>>({
      url: 'redis://127.0.0.1:1',
    });
    await sleep(50);
    expect(owned.client.isReady).toBe(false);
    await owned.close();
    expect(owned.client.isOpen).toBe(false);
  });
});
