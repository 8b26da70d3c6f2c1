import { defineConfig } from 'tsup';

// Members marked @internal (used by the wrappers) stay out of the published declarations.
const common = {
  dts: { compilerOptions: { stripInternal: true } },
  sourcemap: true,
  target: 'node20',
  outDir: 'dist',
  // Entries of one format are built together with `splitting`, so the code they share lives in
  // one chunk per format: an InvalidOptionError thrown by RedisStore is an instance of the class
  // `quickpost-cache` exports, and the cache-behaviour suite of `quickpost-cache/testing` runs
  // the very library `quickpost-cache` loads (no second copy).
  splitting: true,
} as const;

// The library (`quickpost-cache`, which never loads a Redis client, OpenTelemetry nor a web
// framework), its Redis stores (`quickpost-cache/redis` on ioredis, `quickpost-cache/node-redis`
// on node-redis), its OpenTelemetry instrumentation (`quickpost-cache/otel`) and the framework
// adapters (`quickpost-cache/express`, …), each of which loads only its own client or framework.
const entries = {
  index: 'src/index.ts',
  redis: 'src/redis.ts',
  'node-redis': 'src/node-redis.ts',
  otel: 'src/otel.ts',
  express: 'src/adapters/express.ts',
  fastify: 'src/adapters/fastify.ts',
  hono: 'src/adapters/hono.ts',
  nestjs: 'src/adapters/nestjs.ts',
};

export default defineConfig([
  // ESM: the entries, the test suites (`quickpost-cache/testing`) and the command line (the
  // package's `bin`, dist/cli.js: its shebang is kept and the file made executable).
  {
    ...common,
    entry: { ...entries, testing: 'src/testing/index.ts', cli: 'src/cli.ts' },
    format: ['esm'],
  },
  // CommonJS: the entries, without the test suites (vitest cannot be loaded with require()) and
  // the command line.
  {
    ...common,
    entry: entries,
    format: ['cjs'],
  },
]);
