import { describe, expect, it } from 'vitest';
import {
  decodeEntry,
  encodeEntry,
  LEASE_MARK,
  readEntryHeader,
  type Serializer,
  UNREADABLE,
} from '../../src/codec/index.js';

const meta = { expiresAt: 1_700_000_000_000, computeMs: 12 };
const roundTrip = (value: unknown, serializer?: Serializer) =>
  decodeEntry(encodeEntry(value, meta, serializer), serializer);

describe('stored entries', () => {
  it('read back their header and payload, for tools that show entries', () => {
    const upper: Serializer = { serialize: (v) => String(v).toUpperCase(), deserialize: (t) => t };
    expect(readEntryHeader(encodeEntry({ a: 1 }, meta))).toEqual({
      version: 1,
      encoding: 'json',
      expiresAt: meta.expiresAt,
      computeMs: meta.computeMs,
      payload: '{"a":1}',
    });
    expect(readEntryHeader(encodeEntry(new Date(0), meta))?.encoding).toBe('tagged');
    expect(readEntryHeader(encodeEntry('x|y', meta, upper))).toMatchObject({
      encoding: 'custom',
      payload: 'X|Y',
    });
    for (const other of [
      `${LEASE_MARK}token`,
      '{"a":1}',
      '\x012j|1|2|{}',
      '\x011x|1|2|{}',
      '\x011j|1',
    ]) {
      expect(readEntryHeader(other), JSON.stringify(other)).toBeUndefined();
    }
  });

  it('store plain JSON values as readable JSON behind a small header', () => {
    const text = encodeEntry({ title: 'Hello', tags: ['a'] }, meta);
    expect(text).toBe('\x011j|1700000000000|12|{"title":"Hello","tags":["a"]}');
  });

  it.each([
    ['a string', 'hello'],
    ['a number', 42.5],
    ['null', null],
    ['a boolean', false],
    ['an array', [1, 'two', null, { three: 3 }]],
    ['a nested object', { a: { b: { c: [true] } } }],
  ])('round-trip %s', (_what, value) => {
    expect(roundTrip(value)).toEqual(value);
  });

  it('round-trip Date, BigInt, Map, Set, undefined and non-finite numbers', () => {
    const value = {
      at: new Date('2024-05-01T10:00:00.000Z'),
      invalid: new Date(Number.NaN),
      big: 12345678901234567890n,
      byId: new Map<unknown, unknown>([
        [1, { name: 'a' }],
        ['k', new Set([1, 2])],
      ]),
      tags: new Set(['x', 'y']),
      missing: undefined,
      list: [undefined, 1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
    };
    const back = roundTrip(value) as typeof value;
    expect(back).toStrictEqual(value);
    expect(back.at).toBeInstanceOf(Date);
    expect(Object.hasOwn(back, 'missing')).toBe(true);
    expect(back.byId.get('k')).toBeInstanceOf(Set);
  });

  it('round-trip top-level undefined, Date and bigint', () => {
    expect(roundTrip(undefined)).toBeUndefined();
    expect(roundTrip(new Date(5))).toEqual(new Date(5));
    expect(roundTrip(7n)).toBe(7n);
  });

  it('only use the tagged form when a value needs it', () => {
    expect(encodeEntry({ a: 1 }, meta).charAt(2)).toBe('j');
    expect(encodeEntry({ a: new Date(0) }, meta).charAt(2)).toBe('t');
  });

  it('keep user objects that look like tags intact', () => {
    const value = { $qc: 'D', v: 'not a date', when: new Date(0) };
    expect(roundTrip(value)).toStrictEqual(value);
    expect(roundTrip({ $qc: 'D', v: 'plain' })).toStrictEqual({ $qc: 'D', v: 'plain' });
  });

  it('serialize objects with toJSON through it', () => {
    const money = { toJSON: () => '12.50 EUR' };
    expect(roundTrip({ price: money })).toEqual({ price: '12.50 EUR' });
    expect(roundTrip({ price: money, at: new Date(0) })).toEqual({
      price: '12.50 EUR',
      at: new Date(0),
    });
  });

  it('look inside what toJSON returns', () => {
    const wrapper = { toJSON: () => ({ at: new Date(0), big: 1n }) };
    expect(roundTrip({ x: wrapper })).toStrictEqual({ x: { at: new Date(0), big: 1n } });
    expect(roundTrip({ toJSON: () => 5n })).toBe(5n);
  });

  it('refuse circular structures and values with no serialized form', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => encodeEntry(cyclic, meta)).toThrow(TypeError);
    expect(() => encodeEntry(() => 1, meta)).toThrow(TypeError);
  });

  it('use a custom serializer when one is given', () => {
    const upper: Serializer = {
      serialize: (value) => `U:${String(value).toUpperCase()}`,
      deserialize: (text) => text.slice(2).toLowerCase(),
    };
    const text = encodeEntry('hello', meta, upper);
    expect(text).toBe('\x011c|1700000000000|12|U:HELLO');
    expect(decodeEntry(text, upper)).toBe('hello');
    expect(decodeEntry(text)).toBe(UNREADABLE);
    expect(decodeEntry(encodeEntry({ a: 1 }, meta), upper)).toEqual({ a: 1 });
  });

  it.each([
    ['plain JSON written by someone else', '{"a":1}'],
    ['a lease marker', '\x02lease-token'],
    ['an unknown format version', '\x012j|1|1|{"a":1}'],
    ['an unknown kind', '\x011x|1|1|{"a":1}'],
    ['a truncated header', '\x011j|1'],
    ['corrupt JSON', '\x011j|1|1|{"a":'],
    ['an unknown tag', '\x011t|1|1|{"$qc":"Z"}'],
    ['an empty string', ''],
  ])('read %s as unreadable', (_what, text) => {
    expect(decodeEntry(text)).toBe(UNREADABLE);
  });

  it('drop __proto__ keys from stored JSON, so they never reach a prototype', () => {
    const hostile = '{"__proto__":{"polluted":true},"nested":{"__proto__":{"polluted":true}}}';
    for (const kind of ['j', 't']) {
      const value = decodeEntry(`\x011${kind}|1|1|${hostile}`) as Record<string, unknown>;
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect(Object.getPrototypeOf(value.nested)).toBe(Object.prototype);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
    const tagged = decodeEntry(
      '\x011t|1|1|{"__proto__":{"$qc":"D","v":"2024-01-01T00:00:00.000Z"}}',
    ) as Record<string, unknown>;
    expect(Object.getPrototypeOf(tagged)).toBe(Object.prototype);
    expect(Object.keys(tagged)).toEqual([]);
  });

  it.each([
    [
      'a constructor wrapped in a tag',
      '{"constructor":{"$qc":"O","v":{"prototype":{"polluted":true},"$qc":1}}}',
    ],
    [
      'a nested constructor wrapped in a tag',
      '{"a":[{"b":{"constructor":{"$qc":"O","v":{"prototype":{"polluted":true},"$qc":1}}}}]}',
    ],
    [
      'a __proto__ inside a wrapped object',
      '{"$qc":"O","v":{"__proto__":{"polluted":true},"$qc":1}}',
    ],
    [
      'a constructor inside a Map value',
      '{"$qc":"M","v":[["k",{"constructor":{"$qc":"O","v":{"prototype":{},"$qc":1}}}]]}',
    ],
  ])('leave no path to a prototype in %s', (_what, payload) => {
    const value = decodeEntry(`\x011t|1|1|${payload}`);
    const paths: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (node instanceof Map) {
        for (const [key, child] of node) walk(child, `${path}.get(${String(key)})`);
        return;
      }
      if (typeof node !== 'object' || node === null) return;
      for (const key of Object.keys(node)) {
        const child = (node as Record<string, unknown>)[key];
        if (
          key === '__proto__' ||
          (key === 'constructor' &&
            typeof child === 'object' &&
            child !== null &&
            'prototype' in child)
        ) {
          paths.push(`${path}.${key}`);
        }
        walk(child, `${path}.${key}`);
      }
    };
    walk(value, '$');
    expect(paths).toEqual([]);
  });
});
