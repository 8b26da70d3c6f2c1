import { describe, expect, it } from 'vitest';
import {
  databaseFromEnv,
  PostgresRepository,
  seedSamples,
  start,
} from '../../examples/quickpost/index.js';
import { createCache, MemoryStore } from '../../src/index.js';
import { ChaosStore } from '../../src/testing/index.js';
import { clientOf, describeQuickPostApi } from '../helpers/quickpost-api.js';
import { describeQuickPostTransactions } from '../helpers/quickpost-transactions.js';

describeQuickPostApi('on MemoryStore', (prefix) => createCache({ prefix }));

// The same API when every store call answers with a promise, as Redis does.
describeQuickPostApi('on an asynchronous store', (prefix) =>
  createCache({ prefix, store: new ChaosStore(new MemoryStore()) }),
);

describeQuickPostTransactions(
  'on embedded PGlite and MemoryStore',
  () => databaseFromEnv({}),
  (prefix) => createCache({ prefix }),
);

describe('starting the QuickPost example app', () => {
  it('fails with the listen error when its port is taken', { timeout: 60_000 }, async () => {
    const first = await start({ env: { PORT: '0' } });
    try {
      const { port } = new URL(first.url);
      await expect(start({ env: { PORT: port }, database: first.database })).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
    } finally {
      await first.close();
    }
  });

  it('starts on an empty embedded database: no posts, as before it had one', async () => {
    const app = await start({ env: { PORT: '0' } });
    try {
      expect(app.database.kind).toBe('pglite');
      const list = await clientOf(app.url)('GET', '/posts');
      expect([list.status, list.cache, list.body]).toEqual([200, 'miss', { posts: [] }]);
    } finally {
      await app.close();
    }
  }, 60_000);

  it('writes the samples with SEED=1 into a database without posts, once', async () => {
    const database = await databaseFromEnv({ SEED: '1' });
    try {
      const repository = new PostgresRepository(database);
      const slugs = async () =>
        (await repository.listPosts({ offset: 0, limit: 10 })).map((post) => post.slug);
      expect(await slugs()).toEqual(['after-the-commit', 'caching-lists', 'welcome']);
      expect(await repository.countComments('welcome')).toBe(1);
      expect(await seedSamples(repository)).toBe(false);
      expect(await slugs()).toHaveLength(3);
    } finally {
      await database.close();
    }
  }, 60_000);

  it('fails with the connection error when DATABASE_URL cannot be reached', async () => {
    // Port 1 on loopback: nothing listens there.
    const env = { PORT: '0', DATABASE_URL: 'postgres://quickpost@127.0.0.1:1/quickpost' };
    await expect(start({ env })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('refuses a PORT that is not a port number', async () => {
    await expect(start({ env: { PORT: 'http' } })).rejects.toThrow(/PORT must be a port number/);
  });
});
