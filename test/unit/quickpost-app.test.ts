import { createCache, MemoryStore } from '../../src/index.js';
import { ChaosStore } from '../../src/testing/index.js';
import { describeQuickPostApi } from '../helpers/quickpost-api.js';

describeQuickPostApi('on MemoryStore', (prefix) => createCache({ prefix }));

// The same API when every store call answers with a promise, as Redis does.
describeQuickPostApi('on an asynchronous store', (prefix) =>
  createCache({ prefix, store: new ChaosStore(new MemoryStore()) }),
);
