import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore, matchGlob } from '../../src/index.js';
import { GLOB_KEYS, GLOB_MATCHES } from '../../src/testing/index.js';
import { clusterClient, standaloneClient } from '../helpers/redis-clients.js';

/** Every key SCAN MATCH returns from one server, following the cursor to the end. */
async function scanAll(node: Redis, pattern: string): Promise<string[]> {
  const found = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 10_000);
    cursor = next;
    for (const key of keys) found.add(key);
  } while (cursor !== '0');
  return [...found];
}

describe('glob matching against a live Redis', () => {
  let redis: Redis;
  let cluster: Cluster;

  beforeAll(async () => {
    redis = standaloneClient();
    // A database of its own, so that the table's bare patterns (`*`, `?`) see only its keys.
    await redis.select(15);
    await redis.flushdb();
    await Promise.all(GLOB_KEYS.map((key) => redis.set(key, 'v')));
    cluster = clusterClient();
  });
  afterAll(async () => {
    await redis.flushdb();
    await redis.quit();
    await cluster.quit();
  });

  it.each(Object.keys(GLOB_MATCHES))('Redis still matches %j as recorded', async (pattern) => {
    const live = await scanAll(redis, pattern);
    expect(GLOB_KEYS.filter((key) => live.includes(key))).toEqual(GLOB_MATCHES[pattern]);
    expect(GLOB_KEYS.filter((key) => matchGlob(pattern, key))).toEqual(GLOB_MATCHES[pattern]);
  });

  it('MemoryStore deletes exactly what SCAN finds on every node of a Cluster', async () => {
    const ns = `glob:${randomUUID()}:`;
    const keys = GLOB_KEYS.map((key) => ns + key);
    for (const pattern of Object.keys(GLOB_MATCHES)) {
      await Promise.all(keys.map((key) => cluster.set(key, 'v', 'PX', 60_000)));
      const scanned = (
        await Promise.all(cluster.nodes('master').map((node) => scanAll(node, ns + pattern)))
      ).flat();
      const memory = new MemoryStore();
      for (const key of keys) memory.set(key, 'v', 60_000);
      memory.deletePattern(ns + pattern);
      const deletedByMemory = keys.filter((key) => memory.get(key) === undefined);
      expect(deletedByMemory, pattern).toEqual(keys.filter((key) => scanned.includes(key)));
    }
    await Promise.all(keys.map((key) => cluster.unlink(key)));
  });
});
