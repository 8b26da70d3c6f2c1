import { describe, expect, it } from 'vitest';
import { type CacheEventMap, createCache, MemoryStore } from '../../src/index.js';

describe('stored data the cache cannot use, or must not trust', () => {
  it('treats an unknown format version as a miss, deletes it and reports it', async () => {
    const store = new MemoryStore();
    const cache = createCache({ store });
    const invalid: CacheEventMap['invalid'][] = [];
    cache.on('invalid', (event) => invalid.push(event));
    store.set('quickpost:k', '\x019j|9999999999999|0|"from the future"', 60_000);
    expect(cache.getOrSet('k', () => 'fresh')).toBe('fresh');
    expect(invalid).toEqual([
      expect.objectContaining({ key: 'quickpost:k', reason: 'unreadable entry' }),
    ]);
    expect(cache.get('k')).toBe('fresh');
  });

  it('cannot pollute prototypes through __proto__ or constructor keys', () => {
    const store = new MemoryStore();
    const cache = createCache({ store });
    const hostile =
      '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"nested":{"__proto__":{"polluted":1}}}';
    store.set('quickpost:k', `\x011j|9999999999999|0|${hostile}`, 60_000);
    const value = cache.get<Record<string, unknown>>('k') as Record<string, unknown>;
    const merged = deepMerge({}, value);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(merged).not.toHaveProperty('polluted');
    expect(Object.keys(value)).toEqual(['nested']);
  });

  it('treats an entry with a corrupt expiry as unreadable, deletes and reports it', () => {
    const store = new MemoryStore();
    const cache = createCache({ store });
    const invalid: CacheEventMap['invalid'][] = [];
    cache.on('invalid', (event) => invalid.push(event));
    store.set('quickpost:k', '\x011j|oops|0|"old"', 60_000);
    const get = cache.cacheable(() => 'fresh', { key: 'k' });
    expect(get()).toBe('fresh');
    expect(invalid).toEqual([expect.objectContaining({ reason: 'unreadable entry' })]);
    expect(cache.get('k')).toBe('fresh');
  });

  it('drops __proto__ written with escapes, and keeps ordinary constructor fields', () => {
    const store = new MemoryStore();
    const cache = createCache({ store });
    store.set(
      'quickpost:a',
      '\x011j|9999999999999|0|{"\\u005f_proto__":{"polluted":1},"x":1}',
      60_000,
    );
    const value = cache.get<Record<string, unknown>>('a') as Record<string, unknown>;
    deepMerge({}, value);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(value).toEqual({ x: 1 });
    cache.set('b', { team: 'a', constructor: { name: 'Ferrari' } });
    expect(cache.get('b')).toEqual({ team: 'a', constructor: { name: 'Ferrari' } });
  });
});

/** A naive deep merge, as applications write them: the kind prototype pollution exploits. */
function deepMerge(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
): Record<string, unknown> {
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (typeof value === 'object' && value !== null) {
      const next = (target[key] ?? {}) as Record<string, unknown>;
      target[key] = deepMerge(next, value as Record<string, unknown>);
    } else {
      target[key] = value;
    }
  }
  return target;
}
