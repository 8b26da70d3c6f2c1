export { type CacheBehaviourOptions, describeCacheBehaviour } from './behaviour.js';
export {
  type ChaosFilter,
  type ChaosMethod,
  ChaosStore,
  type HeldCall,
  type HoldOptions,
} from './chaos.js';
export { type CacheClock, useCacheClock } from './clock.js';
export { describeStoreConformance, type StoreConformanceOptions } from './conformance.js';
export { GLOB_KEYS, GLOB_MATCHES } from './glob-table.js';
export { PassThroughStore } from './pass-through.js';
export {
  type CacheRecorder,
  type RecordedEvent,
  type RecordedKind,
  recordCache,
} from './recorder.js';
