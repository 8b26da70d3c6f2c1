import objectHash from 'object-hash';
import { describe, expect, it } from 'vitest';
import { compileTemplate, encodeKeyValue } from '../../src/index.js';
import { LONG_VALUE_PREFIX, MAX_VALUE_LENGTH } from '../../src/template/index.js';

const KEY_TEXT = /^[A-Za-z0-9_.%~-]*$/;

describe('encodeKeyValue', () => {
  it.each([
    ['my-post_1.2', 'my-post_1.2'],
    ['', ''],
    ['a b', 'a%20b'],
    ['x:y', 'x%3Ay'],
    ['*', '%2A'],
    ['h?llo', 'h%3Fllo'],
    ['[a-z]', '%5Ba-z%5D'],
    ['a\\b', 'a%5Cb'],
    ['{tag}', '%7Btag%7D'],
    ["it's (fun)!~", 'it%27s%20%28fun%29%21%7E'],
    ['100%', '100%25'],
    ['é', '%C3%A9'],
    ['🙂', '%F0%9F%99%82'],
    ['\u0000\n', '%00%0A'],
  ])('encodes the string %j as %j', (value, expected) => {
    expect(encodeKeyValue(value)).toBe(expected);
  });

  it('renders numbers, booleans and bigints as their text', () => {
    expect(encodeKeyValue(42)).toBe('42');
    expect(encodeKeyValue(-1.5)).toBe('-1.5');
    expect(encodeKeyValue(1e21)).toBe('1e%2B21');
    expect(encodeKeyValue(true)).toBe('true');
    expect(encodeKeyValue(12345678901234567890n)).toBe('12345678901234567890');
    expect(encodeKeyValue(7)).toBe(encodeKeyValue('7'));
  });

  it('hashes objects independently of key order, and different content differently', () => {
    const a = encodeKeyValue({ tag: 'redis', page: 1, sort: ['date', 'title'] });
    const b = encodeKeyValue({ sort: ['date', 'title'], page: 1, tag: 'redis' });
    expect(a).toBe(b);
    expect(a).toBe(`~${objectHash({ tag: 'redis', page: 1, sort: ['date', 'title'] })}`);
    expect(encodeKeyValue({ tag: 'redis', page: 2, sort: ['date', 'title'] })).not.toBe(a);
    expect(encodeKeyValue({ tag: 'redis', page: 1, sort: ['title', 'date'] })).not.toBe(a);
    expect(encodeKeyValue([1, 2])).not.toBe(encodeKeyValue([2, 1]));
  });

  it('hashes long values behind a readable prefix', () => {
    const long = 'a'.repeat(10_000);
    const encoded = encodeKeyValue(long) as string;
    expect(encoded.length).toBeLessThanOrEqual(LONG_VALUE_PREFIX + 41);
    expect(encoded.startsWith('a'.repeat(LONG_VALUE_PREFIX))).toBe(true);
    expect(encodeKeyValue(`${long}b`)).not.toBe(encoded);
    expect(encodeKeyValue('a'.repeat(MAX_VALUE_LENGTH))).toBe('a'.repeat(MAX_VALUE_LENGTH));
  });

  it('never cuts a long value inside a %XX escape', () => {
    const encoded = encodeKeyValue(
      `${'a'.repeat(LONG_VALUE_PREFIX - 2)}${'é'.repeat(100)}`,
    ) as string;
    const prefix = encoded.slice(0, encoded.indexOf('~'));
    expect(prefix).toMatch(/^(?:[A-Za-z0-9_.-]|%[0-9A-F]{2})*$/);
  });

  it('keeps unpaired surrogates apart', () => {
    const a = encodeKeyValue('x\ud800');
    const b = encodeKeyValue('x\udc00');
    expect(a).toBe('x%uD800');
    expect(b).toBe('x%uDC00');
    expect(a).not.toBe(encodeKeyValue('x\ufffd'));
  });

  it('returns undefined for values without key text', () => {
    expect(encodeKeyValue(null)).toBeUndefined();
    expect(encodeKeyValue(undefined)).toBeUndefined();
    expect(encodeKeyValue(() => 1)).toBeUndefined();
    expect(encodeKeyValue(Symbol('x'))).toBeUndefined();
  });

  it('only ever produces safe key text, and different strings give different text', () => {
    const samples = new Set([
      ...Array.from({ length: 0x250 }, (_, code) => String.fromCharCode(code)),
      'a:b',
      'a%3Ab',
      'a~b',
      '~',
      '%',
      '%25',
      ' ',
      '  ',
      '\u2028',
      'a'.repeat(MAX_VALUE_LENGTH + 1),
      `${'a'.repeat(MAX_VALUE_LENGTH)}~`,
    ]);
    const seen = new Map<string, string>();
    for (const sample of samples) {
      const encoded = encodeKeyValue(sample) as string;
      expect(encoded, JSON.stringify(sample)).toMatch(KEY_TEXT);
      expect(seen.get(encoded), `collision for ${JSON.stringify(sample)}`).toBeUndefined();
      seen.set(encoded, sample);
    }
  });
});

describe('rendered keys', () => {
  it('cannot be confused by separators inside values', () => {
    const render = compileTemplate('posts:{{a}}:{{b}}');
    expect(render({ a: 'x:y', b: 'z' })).not.toBe(render({ a: 'x', b: 'y:z' }));
    const post = compileTemplate('posts:{{slug}}');
    const comments = compileTemplate('posts:{{slug}}:comments');
    expect(post({ slug: 'x:comments' })).not.toBe(comments({ slug: 'x' }));
  });

  it('gives objects whose content is equal the same key', () => {
    const render = compileTemplate('posts:list:{{filters}}');
    expect(render({ filters: { tag: 'a', page: 1 } })).toBe(
      render({ filters: { page: 1, tag: 'a' } }),
    );
    expect(render({ filters: { tag: 'a' } })).not.toContain('[object Object]');
  });
});
