/**
 * Re-entrant calls on Redis: a cached function that calls itself for the key it is computing
 * would wait for its own lease forever; it must fail fast with `E_REENTRANT_CALL` instead, and
 * leave no lease behind.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createCache, ErrorCode, type Store } from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { Cleanups } from '../helpers/faults.js';
import { standaloneClient } from '../helpers/redis-clients.js';
import { quietLogger } from '../helpers/stores.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

function ownClient(): Redis {
  const client = standaloneClient();
  cleanups.add(() => client.quit());
  return client;
}

interface Node {
  id: number;
  parent: Node | undefined;
}

describe('re-entrant calls on Redis', () => {
  it('a cached async function that calls itself for the same key rejects with E_REENTRANT_CALL at once and leaves no lease', async () => {
    const client = ownClient();
    const prefix = `reentrant-${randomUUID().slice(0, 8)}`;
    const cache = createCache<Store>({
      store: new RedisStore({ client }),
      prefix,
      logger: quietLogger,
    });
    let runs = 0;
    let inner: unknown;
    const getNode = cache.cacheable(
      async (id: number): Promise<Node> => {
        runs += 1;
        // A bug in the user's code: the parent of 1 is 1 itself.
        const parentId = id === 1 ? 1 : id - 1;
        try {
          return { id, parent: id === 0 ? undefined : await getNode(parentId) };
        } catch (error) {
          inner = error;
          throw error;
        }
      },
      { key: 'nodes:{{id}}', context: (id) => ({ id }) },
    );

    const started = performance.now();
    const outcome = await getNode(1).then(
      () => 'resolved',
      (error: unknown) => error,
    );
    const ms = performance.now() - started;
    console.log(
      `[fault] re-entrant call on Redis: rejected after ${ms.toFixed(1)} ms with ${(outcome as { code?: string }).code}; function ran ${runs}x`,
    );
    expect(outcome).toMatchObject({ code: ErrorCode.ReentrantCall });
    expect(inner).toBe(outcome);
    expect(runs).toBe(1);
    // Fails fast: no waiting for its own lease (lease.wait is 5 s).
    expect(ms).toBeLessThan(1000);
    // The outer call's lease was released: the key is empty, and the next call computes again.
    expect(await client.get(`${prefix}:nodes:1`)).toBeNull();
    expect(await getNode(1).catch((error: unknown) => error)).toMatchObject({
      code: ErrorCode.ReentrantCall,
    });
    expect(runs).toBe(2);
  });

  it('a cached function that calls itself for other keys is not re-entrant and caches every level', async () => {
    const client = ownClient();
    const cache = createCache<Store>({
      store: new RedisStore({ client }),
      prefix: `reentrant-${randomUUID().slice(0, 8)}`,
      logger: quietLogger,
    });
    let runs = 0;
    const getNode = cache.cacheable(
      async (id: number): Promise<{ id: number; depth: number }> => {
        runs += 1;
        return { id, depth: id === 0 ? 0 : (await getNode(id - 1)).depth + 1 };
      },
      { key: 'nodes:{{id}}', context: (id) => ({ id }) },
    );
    expect(await getNode(3)).toEqual({ id: 3, depth: 3 });
    expect(runs).toBe(4);
    expect(await getNode(2)).toEqual({ id: 2, depth: 2 });
    expect(runs).toBe(4);
  });
});
