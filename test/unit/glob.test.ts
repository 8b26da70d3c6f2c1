/**
 * Conformance of `createGlobMatcher` / `matchGlob` with Redis's glob matching (`stringmatchlen`
 * in util.c, used by KEYS and SCAN MATCH).
 *
 * Every expectation below was recorded from a real Redis 7.0.15 with
 * `SCAN 0 MATCH <pattern> COUNT 10000` (looped until cursor 0) over a fresh database holding
 * exactly `keys`; `KEYS <pattern>` gave the same answers. Issue 3's conformance suite re-checks
 * them against a live Redis.
 */
import { describe, expect, it } from 'vitest';
import { createGlobMatcher, matchGlob } from '../../src/glob.js';

/** Every key was SET in the database; patterns are matched against all of them. */
// biome-ignore format: packed so the key list reads at a glance
const keys: readonly string[] = [
  '', 'a', 'b', 'c', 'z', 'A', '-', ']', '[', '^', '_', '`', '*', '?', '\\', 'ab', 'aab', 'aXb',
  'a*b', 'a?b', 'abc', 'ba', 'a:b', 'a\\', 'aaaaab', 'aaaa', 'a\u0000b', '\u0000', 'café', 'cafe',
  'é', '😀', 'x😀y', 'quickpost:posts:', 'quickpost:posts:my-slug', 'quickpost:posts:my-slug:',
  'quickpost:posts:my-slug:comments', 'quickpost:posts:a%2Ab', 'quickpost:posts:a*b',
  'quickpost:posts:a%2Abc', 'quickpost:users:my-slug:1', 'quickpost:post',
];

/** For each pattern, the keys (in `keys` order) Redis 7.0.15 returned from SCAN MATCH. */
// biome-ignore format: one pattern per line, so the table reads as a table
const expected: Record<string, readonly string[]> = {
  '*': ['', 'a', 'b', 'c', 'z', 'A', '-', ']', '[', '^', '_', '`', '*', '?', '\\', 'ab', 'aab',
    'aXb', 'a*b', 'a?b', 'abc', 'ba', 'a:b', 'a\\', 'aaaaab', 'aaaa', 'a\u0000b', '\u0000', 'café',
    'cafe', 'é', '😀', 'x😀y', 'quickpost:posts:', 'quickpost:posts:my-slug',
    'quickpost:posts:my-slug:', 'quickpost:posts:my-slug:comments', 'quickpost:posts:a%2Ab',
    'quickpost:posts:a*b', 'quickpost:posts:a%2Abc', 'quickpost:users:my-slug:1', 'quickpost:post'],
  '**': ['a', 'b', 'c', 'z', 'A', '-', ']', '[', '^', '_', '`', '*', '?', '\\', 'ab', 'aab', 'aXb',
    'a*b', 'a?b', 'abc', 'ba', 'a:b', 'a\\', 'aaaaab', 'aaaa', 'a\u0000b', '\u0000', 'café', 'cafe',
    'é', '😀', 'x😀y', 'quickpost:posts:', 'quickpost:posts:my-slug', 'quickpost:posts:my-slug:',
    'quickpost:posts:my-slug:comments', 'quickpost:posts:a%2Ab', 'quickpost:posts:a*b',
    'quickpost:posts:a%2Abc', 'quickpost:users:my-slug:1', 'quickpost:post'],
  '?': ['a', 'b', 'c', 'z', 'A', '-', ']', '[', '^', '_', '`', '*', '?', '\\', '\u0000'],
  '??': ['ab', 'ba', 'a\\', 'é'],
  '????': ['aaaa', 'cafe', '😀'],
  'a*': ['a', 'ab', 'aab', 'aXb', 'a*b', 'a?b', 'abc', 'a:b', 'a\\', 'aaaaab', 'aaaa', 'a\u0000b'],
  'a**': ['a', 'ab', 'aab', 'aXb', 'a*b', 'a?b', 'abc', 'a:b', 'a\\', 'aaaaab', 'aaaa', 'a\u0000b'],
  '*b': ['b', 'ab', 'aab', 'aXb', 'a*b', 'a?b', 'a:b', 'aaaaab', 'a\u0000b',
    'quickpost:posts:a%2Ab', 'quickpost:posts:a*b'],
  'a*b': ['ab', 'aab', 'aXb', 'a*b', 'a?b', 'a:b', 'aaaaab', 'a\u0000b'],
  'a?b': ['aab', 'aXb', 'a*b', 'a?b', 'a:b', 'a\u0000b'],
  '*?': ['a', 'b', 'c', 'z', 'A', '-', ']', '[', '^', '_', '`', '*', '?', '\\', 'ab', 'aab', 'aXb',
    'a*b', 'a?b', 'abc', 'ba', 'a:b', 'a\\', 'aaaaab', 'aaaa', 'a\u0000b', '\u0000', 'café', 'cafe',
    'é', '😀', 'x😀y', 'quickpost:posts:', 'quickpost:posts:my-slug', 'quickpost:posts:my-slug:',
    'quickpost:posts:my-slug:comments', 'quickpost:posts:a%2Ab', 'quickpost:posts:a*b',
    'quickpost:posts:a%2Abc', 'quickpost:users:my-slug:1', 'quickpost:post'],
  'a*a*a*b': ['aaaaab'],
  '[abc]': ['a', 'b', 'c'],
  '[^a]': ['b', 'c', 'z', 'A', '-', ']', '[', '^', '_', '`', '*', '?', '\\', '\u0000'],
  '[a-z]': ['a', 'b', 'c', 'z'],
  '[z-a]': ['a', 'b', 'c', 'z'],
  '[^a-z]': ['A', '-', ']', '[', '^', '_', '`', '*', '?', '\\', '\u0000'],
  '[-a]': ['a', '-'],
  '[a-]': ['a', ']', '^', '_', '`'],
  '[]': [],
  '[^]': ['a', 'b', 'c', 'z', 'A', '-', ']', '[', '^', '_', '`', '*', '?', '\\', '\u0000'],
  '[]a]': [],
  '\\*': ['*'],
  '\\?': ['?'],
  '\\[': ['['],
  '\\a': ['a'],
  'a\\*b': ['a*b'],
  'a\\?b': ['a?b'],
  '[\\]]': [']'],
  '[a\\-z]': ['a', 'z', '-'],
  '[\\-]': ['-'],
  '[abc': ['a', 'b', 'c'],
  '[^abc': ['z', 'A', '-', ']', '[', '^', '_', '`', '*', '?', '\\', '\u0000'],
  '[\\': ['\\'],
  'a\\': ['a\\'],
  '\\': ['\\'],
  'quickpost:posts:*': ['quickpost:posts:', 'quickpost:posts:my-slug', 'quickpost:posts:my-slug:',
    'quickpost:posts:my-slug:comments', 'quickpost:posts:a%2Ab', 'quickpost:posts:a*b',
    'quickpost:posts:a%2Abc'],
  'quickpost:posts:my-slug:*': ['quickpost:posts:my-slug:', 'quickpost:posts:my-slug:comments'],
  'quickpost:*:my-slug:*': ['quickpost:posts:my-slug:', 'quickpost:posts:my-slug:comments',
    'quickpost:users:my-slug:1'],
  'quickpost:posts:a%2Ab': ['quickpost:posts:a%2Ab'],
  'quickpost:posts:a%2A*': ['quickpost:posts:a%2Ab', 'quickpost:posts:a%2Abc'],
  '*:*': ['a:b', 'quickpost:posts:', 'quickpost:posts:my-slug', 'quickpost:posts:my-slug:',
    'quickpost:posts:my-slug:comments', 'quickpost:posts:a%2Ab', 'quickpost:posts:a*b',
    'quickpost:posts:a%2Abc', 'quickpost:users:my-slug:1', 'quickpost:post'],
  'caf?': ['cafe'],
  'caf??': ['café'],
  'caf[é]': [],
  '[é]': [],
  '[é]?': ['é'],
  '[a-é]': ['a', 'A', '-', ']', '[', '^', '_', '`', '*', '?', '\\', '\u0000'],
  'x?y': [],
  'x????y': ['x😀y'],
  'x*y': ['x😀y'],
  '[😀]*': ['😀'],
  'a\u0000*': ['a\u0000b'],
  '*\u0000*': ['a\u0000b', '\u0000'],
  '?\u0000?': ['a\u0000b'],
};

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
