import { MapStore } from '../../examples/map-store.js';
import { MemoryStore } from '../../src/index.js';
import { describeStoreConformance } from '../../src/testing/index.js';
import { BatchingMemoryStore } from '../helpers/stores.js';

describeStoreConformance({
  name: 'MemoryStore',
  create: () => new MemoryStore({ maxEntries: 100_000 }),
});

describeStoreConformance({
  name: 'MapStore (examples/map-store.ts)',
  create: () => new MapStore(),
});

describeStoreConformance({
  name: 'BatchingMemoryStore (test/helpers/stores.ts: every capability, batches included)',
  create: () => new BatchingMemoryStore(),
});
