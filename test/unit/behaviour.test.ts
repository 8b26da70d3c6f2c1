import { MapStore } from '../../examples/map-store.js';
import { MemoryStore } from '../../src/index.js';
import { ChaosStore, describeCacheBehaviour } from '../../src/testing/index.js';

describeCacheBehaviour({
  name: 'MemoryStore (synchronous, atomic writes)',
  create: () => new MemoryStore(),
  shared: () => {
    const store = new MemoryStore();
    return [store, store];
  },
});

describeCacheBehaviour({
  name: 'MapStore (examples/map-store.ts: asynchronous, no atomic writes)',
  create: () => new MapStore(),
  shared: () => {
    const store = new MapStore();
    return [store, store];
  },
});

// ChaosStore without faults: a MemoryStore answering with promises, atomic writes kept.
describeCacheBehaviour({
  name: 'a MemoryStore behind a ChaosStore (asynchronous, atomic writes)',
  create: () => new ChaosStore(new MemoryStore()),
  shared: () => {
    const store = new MemoryStore();
    return [new ChaosStore(store), new ChaosStore(store)];
  },
});
