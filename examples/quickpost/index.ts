/** The QuickPost example app, for tests and for embedding: build it, or start it. */
export { type AppOptions, createApp } from './app.js';
export {
  MemoryRepository,
  type Post,
  type Profile,
  type Repository,
} from './repository.js';
export {
  cacheFromEnv,
  type EnvCache,
  type QuickPostEnv,
  type RunningApp,
  type StartOptions,
  start,
} from './server.js';
export { createQuickPost, PAGE_SIZE, type QuickPost } from './service.js';
