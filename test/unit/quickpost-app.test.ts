import { describe, expect, it } from 'vitest';
import { databaseFromEnv, start } from '../../examples/quickpost/index.js';
import { createCache, MemoryStore } from '../../src/index.js';
import { ChaosStore } from '../../src/testing/index.js';
import { describeQuickPostApi } from '../helpers/quickpost-api.js';
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
  it('fails with the listen error when its port is taken', async () => {
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

  it('refuses a PORT that is not a port number', async () => {
    await expect(start({ env: { PORT: 'http' } })).rejects.toThrow(/PORT must be a port number/);
  });
});
