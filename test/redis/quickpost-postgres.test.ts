/**
 * The QuickPost example app with its data on a Postgres server (`DATABASE_URL`; the server from
 * test/helpers/postgres.ts, in a schema of its own): the HTTP contract, the writes' transactions
 * (rollback, invalidation after the COMMIT) with a standalone Redis, and two app processes' worth
 * of instances started from their environment on one Postgres and one Redis.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { databaseFromEnv, type RunningApp, start } from '../../examples/quickpost/index.js';
import { type Cache, createCache } from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { isolatedSchema, type RunningPostgres, startPostgres } from '../helpers/postgres.js';
import { clientOf, describeQuickPostApi } from '../helpers/quickpost-api.js';
import { describeQuickPostTransactions } from '../helpers/quickpost-transactions.js';
import { standaloneClient } from '../helpers/redis-clients.js';

let postgres: RunningPostgres;
let schema: Awaited<ReturnType<typeof isolatedSchema>>;
beforeAll(async () => {
  postgres = await startPostgres();
  schema = await isolatedSchema(postgres.url);
});
afterAll(async () => {
  await schema?.drop();
  await postgres?.stop();
});

/** Closes the cache, then the Redis connection it was given. */
async function closeRedisCache(cache: Cache): Promise<void> {
  await cache.close();
  await (cache.store as RedisStore).client.quit();
}

describeQuickPostApi(
  'on a Postgres server (DATABASE_URL) and MemoryStore',
  (prefix) => createCache({ prefix }),
  undefined,
  () => ({ DATABASE_URL: schema.url }),
);

describeQuickPostTransactions(
  'on a Postgres server and a standalone Redis',
  () => databaseFromEnv({ DATABASE_URL: schema.url }),
  (prefix) => createCache({ prefix, store: new RedisStore({ client: standaloneClient() }) }),
  closeRedisCache,
);

describe('the QuickPost example app on DATABASE_URL and REDIS_URL, as two processes', () => {
  const running: RunningApp[] = [];
  afterEach(async () => {
    for (const app of running.splice(0)) await app.close();
  });

  it('keeps its data on the server, and one instance’s writes invalidate what the other cached', async () => {
    const { host, port } = inject('redis').standalone;
    // Database 2 of the test Redis: the apps' fixed prefix `quickpost` meets no other file's keys.
    const env = { DATABASE_URL: schema.url, REDIS_URL: `redis://${host}:${port}/2`, PORT: '0' };
    for (let i = 0; i < 2; i += 1) running.push(await start({ env }));
    for (const app of running) {
      expect([app.backend, app.database.kind]).toEqual(['redis', 'postgres']);
    }
    const [a, b] = running.map((app) => clientOf(app.url)) as [
      ReturnType<typeof clientOf>,
      ReturnType<typeof clientOf>,
    ];
    const slug = `two-${randomUUID().slice(0, 8)}`;
    expect(
      (await a('POST', '/posts', { json: { slug, title: 'Shared', tags: ['x'] } })).status,
    ).toBe(201);
    expect((await b('GET', `/posts/${slug}`)).cache).toBe('miss');
    expect((await a('GET', `/posts/${slug}`)).cache).toBe('hit');
    await b('PUT', `/posts/${slug}`, { json: { title: 'Edited on B' } });
    const seen = await a('GET', `/posts/${slug}`);
    expect([seen.cache, seen.body.title]).toEqual(['miss', 'Edited on B']);
    await a('POST', `/posts/${slug}/comments`, { json: { text: 'from A' } });
    const counted = await b('GET', `/posts/${slug}`);
    expect([counted.cache, counted.body.commentCount]).toEqual(['miss', 1]);

    // The rows are on the server, where another client reads them.
    const client = new pg.Client({ connectionString: schema.url });
    await client.connect();
    try {
      const { rows } = await client.query(
        'SELECT p.title, count(c.id)::int AS comments FROM posts p LEFT JOIN comments c ON c.post_id = p.id WHERE p.slug = $1 GROUP BY p.title',
        [slug],
      );
      expect(rows).toEqual([{ title: 'Edited on B', comments: 1 }]);
    } finally {
      await client.end();
    }
  });
});
