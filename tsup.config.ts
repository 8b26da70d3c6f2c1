import { defineConfig } from 'tsup';

// Members marked @internal (used by the wrappers) stay out of the published declarations.
const common = {
  dts: { compilerOptions: { stripInternal: true } },
  sourcemap: true,
  target: 'node20',
  outDir: 'dist',
} as const;

export default defineConfig([
  // The library: ESM and CommonJS.
  { ...common, entry: { index: 'src/index.ts' }, format: ['esm', 'cjs'] },
  // The Store conformance suite: ESM only, because vitest cannot be loaded with require().
  { ...common, entry: { testing: 'src/testing/index.ts' }, format: ['esm'] },
]);
