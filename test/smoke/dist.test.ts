import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Runs the built package in a separate Node process, resolved by its own name through
// package.json `exports` (Node's package self-reference), exactly as users load it.
const root = fileURLToPath(new URL('../..', import.meta.url));

const scenario = `
  const cache = createCache({ prefix: 'smoke' });
  let loads = 0;
  const getPost = cache.cacheable(async (slug) => { loads += 1; return { slug, at: new Date(0) }; }, {
    key: 'posts:{{slug}}',
    context: (slug) => ({ slug }),
  });
  const square = cache.cacheable((n) => n * n, { key: 'sq:{{n}}', context: (n) => ({ n }) });
  const updatePost = cache.invalidating(async (slug) => slug, {
    patterns: ['posts:{{slug}}:*'],
    context: (slug) => ({ slug }),
  });
  const run = async () => {
    await getPost('a');
    const hit = await getPost('a');
    await updatePost('a');
    await getPost('a');
    return {
      loads,
      hitIsDate: hit.at instanceof Date,
      square: square(4),
      render: compileTemplate('p:{{x}}')({ x: 'a b' }),
      store: cache.store instanceof MemoryStore,
      error: (() => { try { createCache({ ttl: -1 }); } catch (e) { return e instanceof InvalidOptionError && e.code; } })(),
    };
  };
  run().then((result) => console.log(JSON.stringify(result)));
`;

const expected = {
  loads: 2,
  hitIsDate: true,
  square: 16,
  render: 'p:a%20b',
  store: true,
  error: 'E_INVALID_OPTION',
};

function runNode(args: string[]): unknown {
  return JSON.parse(execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }));
}

describe('the built package', () => {
  it('has been built (npm run build)', () => {
    expect(existsSync(`${root}/dist/index.js`)).toBe(true);
    expect(existsSync(`${root}/dist/index.cjs`)).toBe(true);
    expect(existsSync(`${root}/dist/index.d.ts`)).toBe(true);
    expect(existsSync(`${root}/dist/index.d.cts`)).toBe(true);
  });

  it('works through import (ESM)', () => {
    const result = runNode([
      '--input-type=module',
      '-e',
      `import { createCache, compileTemplate, MemoryStore, InvalidOptionError } from 'quickpost-cache';\n${scenario}`,
    ]);
    expect(result).toEqual(expected);
  });

  it('serves RedisStore and the ESM-only testing entry', () => {
    const result = runNode([
      '--input-type=module',
      '-e',
      `import { RedisStore } from 'quickpost-cache/redis';
       import { describeStoreConformance, GLOB_KEYS } from 'quickpost-cache/testing';
       console.log(JSON.stringify([typeof RedisStore, typeof describeStoreConformance, GLOB_KEYS.length > 0]));`,
    ]);
    expect(result).toEqual(['function', 'function', true]);
  });

  it('accepts a cache made by the ESM copy in the CommonJS copy', () => {
    const result = runNode([
      '--input-type=module',
      '-e',
      `import { createRequire } from 'node:module';
       import { createCache } from 'quickpost-cache';
       const { cacheable, isCache } = createRequire(import.meta.url)('quickpost-cache');
       const cache = createCache();
       const twice = cacheable((n) => n * 2, { cache, key: 'twice:{{n}}', context: (n) => ({ n }) });
       console.log(JSON.stringify([isCache(cache), twice(4), cache.get('twice:4')]));`,
    ]);
    expect(result).toEqual([true, 8, 8]);
  });

  it('works through require (CommonJS)', () => {
    const result = runNode([
      '--input-type=commonjs',
      '-e',
      `const { createCache, compileTemplate, MemoryStore, InvalidOptionError } = require('quickpost-cache');\n${scenario}`,
    ]);
    expect(result).toEqual(expected);
  });
});
