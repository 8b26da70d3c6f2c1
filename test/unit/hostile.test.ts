import { randomUUID } from 'node:crypto';
import { describe } from 'vitest';
import { type Cache, createCache, type Store } from '../../src/index.js';
import { hostileValueTests } from '../helpers/hostile.js';
import { AsyncMemoryStore } from '../helpers/stores.js';

describe('hostile key values on MemoryStore', () => {
  hostileValueTests(() => createCache({ prefix: `h-${randomUUID().slice(0, 8)}` }) as Cache<Store>);
});

describe('hostile key values on an asynchronous store', () => {
  hostileValueTests(() => createCache({ store: new AsyncMemoryStore() }));
});
