export { type CacheBehaviourOptions, describeCacheBehaviour } from './behaviour.js';
export {
  type ChaosFilter,
  type ChaosMethod,
  ChaosStore,
  type HeldCall,
  type HoldOptions,
} from './chaos.js';
export { describeStoreConformance, type StoreConformanceOptions } from './conformance.js';
export { GLOB_KEYS, GLOB_MATCHES } from './glob-table.js';
