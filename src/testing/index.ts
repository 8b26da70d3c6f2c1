export { describeStoreConformance, type StoreConformanceOptions } from './conformance.js';
export { GLOB_KEYS, GLOB_MATCHES } from './glob-table.js';
