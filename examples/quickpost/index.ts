/** The QuickPost example app, for tests and for embedding: build it, or start it. */
export { type AppOptions, createApp } from './app.js';
export { type Database, embeddedDatabase, type Query, serverDatabase } from './database.js';
export {
  createSchema,
  type Post,
  PostgresRepository,
  type Profile,
  type Repository,
} from './repository.js';
export { seedSamples } from './seed.js';
export {
  cacheFromEnv,
  databaseFromEnv,
  type EnvCache,
  type QuickPostEnv,
  type RunningApp,
  type StartOptions,
  start,
} from './server.js';
export { createQuickPost, PAGE_SIZE, type QuickPost } from './service.js';
