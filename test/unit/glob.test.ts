/**
 * Conformance of `createGlobMatcher` / `matchGlob` with Redis's glob matching (`stringmatchlen`
 * in util.c, used by KEYS and SCAN MATCH), against matches recorded from Redis 7.0.15 (see
 * src/testing/glob-table.ts). test/redis/glob.test.ts checks the same table against a live Redis.
 */
import { describe, expect, it } from 'vitest';
import { createGlobMatcher, matchGlob } from '../../src/glob.js';
import { GLOB_MATCHES as expected, GLOB_KEYS as keys } from '../../src/testing/glob-table.js';

describe('glob matching agrees with Redis 7.0.15 SCAN MATCH', () => {
  it('uses distinct keys and only expects keys from the list', () => {
    expect(new Set(keys).size).toBe(keys.length);
    for (const matched of Object.values(expected)) {
      for (const key of matched) expect(keys).toContain(key);
    }
  });

  it.each(Object.keys(expected))('pattern %j matches what Redis matched', (pattern) => {
    expect(keys.filter((key) => matchGlob(pattern, key))).toEqual(expected[pattern]);
  });

  it('gives up on a pathological pattern instead of backtracking forever', () => {
    expect(matchGlob('a*a*a*a*a*a*a*b', 'a'.repeat(5000))).toBe(false);
  });

  it('gives the same answers when one compiled matcher is reused over many keys', () => {
    const alphabet = ['a', 'b', ':', '*', '?', '[', ']', '\\', '-', 'é'];
    const generated = [''];
    for (let length = 1; length <= 3; length += 1) {
      for (const prefix of generated.filter((key) => [...key].length === length - 1)) {
        for (const char of alphabet) generated.push(prefix + char);
      }
    }
    const manyKeys = [...keys, ...generated, ...keys];
    for (const pattern of Object.keys(expected)) {
      const matcher = createGlobMatcher(pattern);
      const reused = manyKeys.map((key) => matcher(key));
      expect(reused).toEqual(manyKeys.map((key) => matchGlob(pattern, key)));
      expect(keys.filter((key) => matcher(key))).toEqual(expected[pattern]);
    }
  });

  // Redis caps '*' recursion: a '*' nested more than 1000 levels deep never matches
  // ("Protection against abusive patterns" in stringmatchlen_impl). Also recorded from 7.0.15.
  it.each([
    {
      name: '(*a){1000} vs a{1000}',
      pattern: '*a'.repeat(1000),
      key: 'a'.repeat(1000),
      redis: true,
    },
    {
      name: '(*a){1001} vs a{1001}',
      pattern: '*a'.repeat(1001),
      key: 'a'.repeat(1001),
      redis: false,
    },
    {
      name: '(*a){1000}* vs a{1001}',
      pattern: `${'*a'.repeat(1000)}*`,
      key: 'a'.repeat(1001),
      redis: true,
    },
    {
      name: '(*a){1001}* vs a{1002}',
      pattern: `${'*a'.repeat(1001)}*`,
      key: 'a'.repeat(1002),
      redis: false,
    },
    {
      name: '(?*){1001} vs a{1001}',
      pattern: '?*'.repeat(1001),
      key: 'a'.repeat(1001),
      redis: true,
    },
    {
      name: '(*?){1001} vs a{1001}',
      pattern: '*?'.repeat(1001),
      key: 'a'.repeat(1001),
      redis: false,
    },
    {
      name: '(*a){20000} vs a{20000}',
      pattern: '*a'.repeat(20000),
      key: 'a'.repeat(20000),
      redis: false,
    },
  ])('caps * nesting like Redis: $name', ({ pattern, key, redis }) => {
    expect(matchGlob(pattern, key)).toBe(redis);
  });
});
