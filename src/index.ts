export {
  Cache,
  type ContextArgs,
  createCache,
  type EventMessage,
  type HealthOptions,
  type InvalidateMessage,
  isCache,
  type LoadMessage,
  renderTag,
  type StatsOptions,
  type WriteOptions,
  type WriteOptionsArgs,
} from './cache.js';
export type { Serializer } from './codec/index.js';
export type {
  CacheEventMap,
  CacheEventName,
  CacheListener,
  EventSource,
  InvalidationKind,
} from './core/events.js';
export type { BreakerOptions } from './core/guard.js';
export type { CacheHealth, TierState } from './core/health.js';
export type {
  CacheLogger,
  CacheOptions,
  InvalidationErrors,
  L1Options,
  LeaseOptions,
} from './core/options.js';
export type { TemplateCoverage } from './core/registry.js';
export type { SchemaResult, ValueSchema } from './core/schema.js';
export type { CacheStats, LoadTimes, TemplateStats } from './core/stats.js';
export { channelNames } from './core/telemetry.js';
export type { TierValues } from './core/tier.js';
export {
  Cacheable,
  type CacheableDecoratorContextOption,
  type CacheableDecoratorOptions,
  type CacheMethodDecorator,
  InvalidateCache,
  type InvalidateCacheContextOption,
  type InvalidateCacheOptions,
} from './decorators.js';
export {
  cacheable,
  configureCache,
  type DefaultRequestContext,
  getDefaultCache,
  invalidating,
  type WithCache,
} from './defaults.js';
export {
  CacheError,
  type ContextOrigin,
  ErrorCode,
  InvalidationError,
  InvalidContextValueError,
  InvalidOptionError,
  isCacheError,
  MissingContextValueError,
  ReentrantCallError,
  SerializationError,
  StoreUnavailableError,
  TemplateSyntaxError,
  ValueTooLargeError,
} from './errors.js';
export { createGlobMatcher, matchGlob } from './glob.js';
export { RequestContext, requestContext } from './request-context.js';
export { MemoryStore, type MemoryStoreOptions } from './stores/memory.js';
// RedisStore is in `quickpost-cache/redis` (src/redis.ts), so that this entry never loads ioredis.
export type {
  AtomicStore,
  BatchingStore,
  BatchOperation,
  BySync,
  ChangeListener,
  IndexAnswer,
  IndexedStore,
  LeasingReadStore,
  LoggingStore,
  MaybePromise,
  NotifyingStore,
  Store,
  StoreResult,
  SyncStore,
  TagAnswer,
  TaggingStore,
} from './stores/store.js';
export {
  type AmbientKeys,
  type CheckedTemplate,
  type CompiledTemplate,
  type ContextFor,
  type ContextValue,
  compilePattern,
  compileTemplate,
  encodeKeyValue,
  type IsStaticTemplate,
  type NoAmbient,
  type PlaceholderNames,
  type TemplateContext,
  type TemplateError,
  type TemplateMode,
  type ValidPattern,
  type ValidTemplate,
} from './template/index.js';
export type { Duration, DurationString, DurationUnit } from './util/duration.js';
export type {
  CacheableBaseOptions,
  CacheableContextOption,
  CacheableOptions,
  ContextExtractor,
} from './wrappers/cacheable.js';
export type { InvalidatingContextOption, InvalidatingOptions } from './wrappers/invalidating.js';
export type { WrappedFunction, WrappedResult } from './wrappers/shared.js';
