import { defineConfig } from 'tsup';

// Members marked @internal (used by the wrappers) stay out of the published declarations.
const common = {
  dts: { compilerOptions: { stripInternal: true } },
  sourcemap: true,
  target: 'node20',
  outDir: 'dist',
} as const;

export default defineConfig([
  // The library (`quickpost-cache`, which never loads ioredis) and its Redis store
  // (`quickpost-cache/redis`), in ESM and CommonJS. Built together with `splitting`, so the code
  // both use (the error classes) lives in one shared chunk per format: an InvalidOptionError
  // thrown by RedisStore is an instance of the class `quickpost-cache` exports.
  {
    ...common,
    entry: { index: 'src/index.ts', redis: 'src/redis.ts' },
    format: ['esm', 'cjs'],
    splitting: true,
  },
  // The Store conformance suite: ESM only, because vitest cannot be loaded with require().
  { ...common, entry: { testing: 'src/testing/index.ts' }, format: ['esm'] },
]);
