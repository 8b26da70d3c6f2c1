/**
 * The layout shows the architecture, and imports go one way: entries → the public `Cache` →
 * wrappers → the cache's machinery (src/core) → stores → the template compiler and the codec →
 * errors and utilities; the test suites and the command line (its entry, src/cli.ts, on top) are
 * built on all of it. A module imports only from its own layer or below.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../../src', import.meta.url));

/** Layers from the bottom up; a path matches the first rule whose prefix it starts with. */
const LAYERS: [prefix: string, layer: number][] = [
  ['errors.ts', 0],
  ['glob.ts', 0],
  ['util/', 0],
  ['template/', 1],
  ['request-context.ts', 1],
  ['codec/', 1],
  ['stores/', 2],
  ['core/', 3],
  ['wrappers/', 4],
  ['cache.ts', 5],
  ['defaults.ts', 6],
  ['decorators.ts', 7],
  ['index.ts', 8],
  ['redis.ts', 8],
  ['node-redis.ts', 8],
  ['otel.ts', 8],
  ['adapters/', 8],
  ['testing/', 9],
  ['cli/', 9],
  ['cli.ts', 10],
];

function layerOf(path: string): number {
  const rule = LAYERS.find(([prefix]) => path.startsWith(prefix));
  if (rule === undefined) throw new Error(`no layer for src/${path}: add it to LAYERS`);
  return rule[1];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The src/ modules `file` imports (relative imports only). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/from '(\.[^']+)'/g)].map((match) =>
    relative(src, resolve(dirname(file), (match[1] as string).replace(/\.js$/, '.ts'))),
  );
}

describe('the source layout', () => {
  it('has imports that only go down the layers', () => {
    const upward: string[] = [];
    for (const file of filesUnder(src)) {
      const from = relative(src, file);
      for (const to of importsOf(file)) {
        if (layerOf(to) > layerOf(from)) upward.push(`${from} → ${to}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('keeps the template compiler free of everything but its own files and the errors', () => {
    const outside = filesUnder(join(src, 'template'))
      .flatMap((file) => importsOf(file))
      .filter((to) => !to.startsWith('template/') && to !== 'errors.ts');
    expect(outside).toEqual([]);
  });
});
