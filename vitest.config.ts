import ts from 'typescript';
import { defineConfig, type Plugin } from 'vitest/config';

/**
 * Test files with decorators are compiled by TypeScript itself, as a user's code is: Node 20
 * cannot run decorators, and Vite's own transform (oxc) does not lower TypeScript 5 standard
 * decorators. `*.legacy.ts` and `*.legacy.test.ts` files get the options of tsconfig.legacy.json
 * (`experimentalDecorators` and `emitDecoratorMetadata`, as NestJS projects compile), and
 * `decorators.test.ts` files TypeScript's standard decorators.
 */
function typescriptDecorators(): Plugin {
  const legacy = ts.getParsedCommandLineOfConfigFile('tsconfig.legacy.json', undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  })?.options;
  return {
    name: 'typescript-decorators',
    enforce: 'pre',
    transform(code, id) {
      const isLegacy = /\.legacy(\.test)?\.ts$/.test(id);
      if (!isLegacy && !/(^|[/.])decorators\.test\.ts$/.test(id)) return undefined;
      const output = ts.transpileModule(code, {
        fileName: id,
        compilerOptions: {
          target: ts.ScriptTarget.ES2022,
          module: ts.ModuleKind.ESNext,
          sourceMap: true,
          experimentalDecorators: isLegacy && legacy?.experimentalDecorators === true,
          emitDecoratorMetadata: isLegacy && legacy?.emitDecoratorMetadata === true,
        },
      });
      return { code: output.outputText, map: output.sourceMapText ?? null };
    },
  };
}

export default defineConfig({
  test: {
    // The JSON report lets .ci/run print a one-line summary after the run.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results.json' },
    projects: [
      {
        plugins: [typescriptDecorators()],
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/smoke/**/*.test.ts'],
          typecheck: {
            enabled: true,
            include: ['test/types/**/*.test-d.ts'],
            // Compiled with legacy decorators by `npm run typecheck` (tsconfig.legacy.json).
            exclude: ['test/types/**/*.legacy.test-d.ts'],
            tsconfig: './tsconfig.json',
          },
        },
      },
      {
        plugins: [typescriptDecorators()],
        test: {
          name: 'redis',
          include: ['test/redis/**/*.test.ts'],
          // Starts the Redis containers once for every Redis test file (test/redis/global-setup.ts).
          globalSetup: ['test/redis/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
