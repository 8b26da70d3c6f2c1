/**
 * Each option is documented once, on its type: docs/reference.md is made from those comments,
 * and their `@default`s are the defaults the code applies.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { optionsOf, renderReference } from '../../scripts/reference.js';
import { cacheOptionSpecs } from '../../src/core/options.js';

/** A `@default` written as a JavaScript literal (number, string, boolean, object), else `undefined`. */
function literal(text: string): { value: unknown } | undefined {
  if (!/^([-\d_.]+|'[^']*'|true|false|\{[^}]*\}|console)$/.test(text)) return undefined;
  return { value: new Function(`return (${text.replace(/(\d)_(\d)/g, '$1$2')});`)() };
}

describe('the options reference', () => {
  it('is what `npm run docs` makes from the doc comments in src/', () => {
    const committed = readFileSync(new URL('../../docs/reference.md', import.meta.url), 'utf8');
    expect(committed, 'docs/reference.md is out of date: run `npm run docs`').toBe(
      renderReference(),
    );
  });

  it('gives the defaults createCache applies', () => {
    const documented = new Map(
      [
        ...optionsOf('src/core/options.ts', 'CacheOptions'),
        ...optionsOf('src/core/options.ts', 'LeaseOptions').map((o) => ({
          ...o,
          name: `lease.${o.name}`,
        })),
        ...optionsOf('src/core/guard.ts', 'BreakerOptions').map((o) => ({
          ...o,
          name: `breaker.${o.name}`,
        })),
      ].map((option) => [option.name, option.defaultText]),
    );
    const applied: Record<string, unknown> = {};
    for (const [name, spec] of Object.entries(cacheOptionSpecs)) {
      const fallback = (spec as { default?: unknown }).default;
      applied[name] = fallback;
      if (typeof fallback === 'object' && fallback !== null && fallback !== console) {
        for (const [key, value] of Object.entries(fallback)) applied[`${name}.${key}`] = value;
      }
    }
    let compared = 0;
    for (const [name, text] of documented) {
      const parsed = text === undefined ? undefined : literal(text);
      if (parsed === undefined) continue;
      expect(applied[name], `@default of ${name}`).toEqual(parsed.value);
      compared += 1;
    }
    expect(compared).toBeGreaterThanOrEqual(14);
  });
});
