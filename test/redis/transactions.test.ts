/**
 * Invalidation after the commit, on a real Postgres (its own server: test/helpers/postgres.ts;
 * PGlite for the embedded recipe) and real Redis, standalone and Cluster. The race: a writer
 * invalidates inside its transaction, a reader in another session misses before the commit,
 * reads the old row and caches it. Without `deferInvalidations` the old row stays cached; with
 * it, the invalidation runs after the commit and removes it.
 */
import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { eq } from 'drizzle-orm';
import { drizzle as drizzleNodePostgres } from 'drizzle-orm/node-postgres';
import { pgTable, text } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import type { Cluster, Redis } from 'ioredis';
import knex, { type Knex } from 'knex';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cache, createCache, type Store } from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { type RunningPostgres, startPostgres } from '../helpers/postgres.js';
import { clusterClient, standaloneClient } from '../helpers/redis-clients.js';
import { deferred, quietLogger } from '../helpers/stores.js';

const posts = pgTable('posts', { slug: text('slug').primaryKey(), title: text('title').notNull() });

/** Something that runs SQL: a pool, a pool client inside BEGIN/COMMIT. */
type Queryable = Pick<pg.Pool, 'query'>;

let postgres: RunningPostgres;
let pool: pg.Pool;
beforeAll(async () => {
  postgres = await startPostgres();
  pool = new pg.Pool({ connectionString: postgres.url, max: 8 });
  // An idle client whose server goes away (the server stops after the tests) emits `error` on the
  // pool; node-postgres says to listen for it.
  pool.on('error', () => undefined);
  await pool.query('CREATE TABLE IF NOT EXISTS posts (slug text PRIMARY KEY, title text NOT NULL)');
});
afterAll(async () => {
  await pool?.end();
  await postgres?.stop();
});

describe.each([
  ['a standalone Redis', standaloneClient],
  ['a 3-master Redis Cluster', clusterClient],
] as const)('invalidation after the commit, Postgres and %s', (_name, connect) => {
  const clients: (Redis | Cluster)[] = [];
  const caches: Cache<Store>[] = [];
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close({ timeout: 100 })));
    await Promise.all(clients.map((client) => client.quit().catch(() => undefined)));
  });

  /**
   * Two cache instances on one Redis (as two processes): `writer` and `reader`, each with its
   * `getPost` reading Postgres through the pool, and `updatePost` (on the writer) taking the SQL
   * connection to write with, invalidating `posts:{{slug}}:*`, or, `by` tags, the tag
   * `post:{{slug}}` that `getPost`'s entries carry.
   */
  async function setup(by: 'patterns' | 'tags') {
    const prefix = `tx-${randomUUID().slice(0, 8)}`;
    const make = () => {
      const client = connect();
      clients.push(client);
      const cache = createCache<Store>({
        store: new RedisStore({ client }),
        prefix,
        logger: quietLogger,
        timeout: 2000,
      });
      caches.push(cache);
      const getPost = cache.cacheable(
        async (slug: string) =>
          (await pool.query('SELECT title FROM posts WHERE slug = $1', [slug])).rows[0]?.title as
            | string
            | undefined,
        by === 'tags'
          ? { key: 'posts:{{slug}}', context: (slug) => ({ slug }), tags: ['post:{{slug}}'] }
          : { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
      );
      return { cache, getPost };
    };
    const writer = make();
    const reader = make();
    const updatePost = writer.cache.invalidating(
      async (db: Queryable, slug: string, title: string) => {
        await db.query('UPDATE posts SET title = $2 WHERE slug = $1', [slug, title]);
      },
      by === 'tags'
        ? { tags: ['post:{{slug}}'], context: (_db, slug) => ({ slug }) }
        : { patterns: ['posts:{{slug}}:*'], context: (_db, slug) => ({ slug }) },
    );
    const slug = `post-${randomUUID().slice(0, 8)}`;
    await pool.query('INSERT INTO posts (slug, title) VALUES ($1, $2)', [slug, 'old']);
    return { writer, reader, updatePost, slug };
  }

  /**
   * One writer transaction (node-postgres, BEGIN/COMMIT) that invalidates before it commits, with
   * the reader missing, reading and caching in between; the reader's value after the commit.
   */
  async function race(
    scoped: boolean,
    by: 'patterns' | 'tags' = 'patterns',
  ): Promise<string | undefined> {
    const { writer, reader, updatePost, slug } = await setup(by);
    expect(await reader.getPost(slug)).toBe('old');
    const invalidated = deferred<void>();
    const read = deferred<void>();
    const transaction = async () => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await updatePost(client, slug, 'new');
        invalidated.resolve();
        await read.promise;
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    };
    const done = scoped ? writer.cache.deferInvalidations(transaction) : transaction();
    await invalidated.promise;
    // A fill that starts within a few ms of a tag's invalidation is refused by the stamp check's
    // margin (README "Tags"), which would hide the race this control shows: start later.
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Between the invalidation and the commit: the reader misses (without the scope) or hits,
    // and in both cases holds the old row.
    expect(await reader.getPost(slug)).toBe('old');
    read.resolve();
    await done;
    return reader.getPost(slug);
  }

  it('control: without the scope, a reader between invalidation and commit caches the old row', async () => {
    expect(await race(false)).toBe('old');
  });

  it('with deferInvalidations, the reader never keeps the old row after the commit (20 runs)', async () => {
    for (let run = 0; run < 20; run += 1) expect(await race(true)).toBe('new');
  });

  it('control, by tags: without the scope, the reader caches the old row', async () => {
    expect(await race(false, 'tags')).toBe('old');
  });

  it('by tags, with deferInvalidations, the reader never keeps the old row (20 runs)', async () => {
    for (let run = 0; run < 20; run += 1) expect(await race(true, 'tags')).toBe('new');
  });

  it('recipe: node-postgres BEGIN/COMMIT inside the scope; a rollback invalidates nothing', async () => {
    const { writer, reader, updatePost, slug } = await setup('patterns');
    const inTransaction = (title: string, fail: boolean) =>
      writer.cache.deferInvalidations(async () => {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await updatePost(client, slug, title);
          if (fail) throw new Error('rolled back');
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        } finally {
          client.release();
        }
      });
    expect(await reader.getPost(slug)).toBe('old');
    await expect(inTransaction('never', true)).rejects.toThrow('rolled back');
    expect(await reader.cache.get('posts:{{slug}}', { slug })).toBe('old');
    await inTransaction('new', false);
    expect(await reader.cache.get('posts:{{slug}}', { slug })).toBeUndefined();
    expect(await reader.getPost(slug)).toBe('new');
  });

  it('recipe: Drizzle’s db.transaction inside the scope; a rollback invalidates nothing', async () => {
    const { writer, reader, slug } = await setup('patterns');
    const db = drizzleNodePostgres(pool);
    const renamePost = writer.cache.invalidating(
      async (tx: Pick<typeof db, 'update'>, title: string) => {
        await tx.update(posts).set({ title }).where(eq(posts.slug, slug));
      },
      { patterns: ['posts:{{slug}}:*'], context: () => ({ slug }) },
    );
    expect(await reader.getPost(slug)).toBe('old');
    await expect(
      writer.cache.deferInvalidations(() =>
        db.transaction(async (tx) => {
          await renamePost(tx, 'never');
          tx.rollback();
        }),
      ),
    ).rejects.toThrow();
    expect(await reader.cache.get('posts:{{slug}}', { slug })).toBe('old');
    await writer.cache.deferInvalidations(() => db.transaction((tx) => renamePost(tx, 'new')));
    expect(await reader.getPost(slug)).toBe('new');
  });

  it('recipe: a Knex transaction inside the scope; a rollback invalidates nothing', async () => {
    const { writer, reader, slug } = await setup('patterns');
    const db: Knex = knex({ client: 'pg', connection: postgres.url, pool: { min: 0, max: 2 } });
    try {
      const renamePost = writer.cache.invalidating(
        async (trx: Knex.Transaction, title: string) => {
          await trx('posts').where({ slug }).update({ title });
        },
        { patterns: ['posts:{{slug}}:*'], context: () => ({ slug }) },
      );
      expect(await reader.getPost(slug)).toBe('old');
      await expect(
        writer.cache.deferInvalidations(() =>
          db.transaction(async (trx) => {
            await renamePost(trx, 'never');
            throw new Error('rolled back');
          }),
        ),
      ).rejects.toThrow('rolled back');
      expect(await reader.cache.get('posts:{{slug}}', { slug })).toBe('old');
      await writer.cache.deferInvalidations(() => db.transaction((trx) => renamePost(trx, 'new')));
      expect(await reader.getPost(slug)).toBe('new');
    } finally {
      await db.destroy();
    }
  });
});

describe('invalidation after the commit, on PGlite (embedded Postgres) with Drizzle', () => {
  it('runs the invalidation after db.transaction commits, none after a rollback', async () => {
    const client = new PGlite();
    const db = drizzlePglite(client);
    try {
      await client.exec(
        "CREATE TABLE posts (slug text PRIMARY KEY, title text NOT NULL); INSERT INTO posts VALUES ('a', 'old')",
      );
      const cache = createCache({ logger: quietLogger });
      const getPost = cache.cacheable(
        async (slug: string) =>
          (await db.select().from(posts).where(eq(posts.slug, slug)))[0]?.title,
        { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
      );
      const renamePost = cache.invalidating(
        async (tx: Pick<typeof db, 'update'>, slug: string, title: string) => {
          await tx.update(posts).set({ title }).where(eq(posts.slug, slug));
        },
        { patterns: ['posts:{{slug}}:*'], context: (_tx, slug) => ({ slug }) },
      );
      expect(await getPost('a')).toBe('old');
      await expect(
        cache.deferInvalidations(() =>
          db.transaction(async (tx) => {
            await renamePost(tx, 'a', 'never');
            tx.rollback();
          }),
        ),
      ).rejects.toThrow();
      expect(cache.get('posts:{{slug}}', { slug: 'a' })).toBe('old');
      await cache.deferInvalidations(() => db.transaction((tx) => renamePost(tx, 'a', 'new')));
      expect(await getPost('a')).toBe('new');
    } finally {
      await client.close();
    }
  });
});
