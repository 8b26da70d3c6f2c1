import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCache, MemoryStore, ValueTooLargeError } from '../../src/index.js';
import { recordingLogger } from '../helpers/stores.js';

describe('MemoryStore', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('gets, sets and deletes synchronously', () => {
    const store = new MemoryStore();
    expect(store.sync).toBe(true);
    expect(store.get('a')).toBeUndefined();
    expect(store.set('a', 'one', 1000)).toBeUndefined();
    expect(store.get('a')).toBe('one');
    store.set('a', 'two', 1000);
    expect(store.get('a')).toBe('two');
    expect(store.delete('a')).toBe(true);
    expect(store.delete('a')).toBe(false);
    expect(store.get('a')).toBeUndefined();
  });

  it('expires entries after their own TTL', () => {
    const store = new MemoryStore();
    store.set('short', 's', 1000);
    store.set('long', 'l', 5000);
    vi.advanceTimersByTime(999);
    expect(store.get('short')).toBe('s');
    vi.advanceTimersByTime(2);
    expect(store.get('short')).toBeUndefined();
    expect(store.get('long')).toBe('l');
    vi.advanceTimersByTime(4000);
    expect(store.get('long')).toBeUndefined();
  });

  it('does not count expired entries as removed', () => {
    const store = new MemoryStore();
    store.set('p:a', 'x', 1000);
    store.set('p:b', 'x', 5000);
    vi.advanceTimersByTime(2000);
    expect(store.delete('p:a')).toBe(false);
    store.set('p:a', 'x', 1000);
    vi.advanceTimersByTime(2000);
    expect(store.deletePattern('p:*')).toBe(1);
  });

  it('evicts the least recently used entry beyond maxEntries', () => {
    const store = new MemoryStore({ maxEntries: 2 });
    store.set('a', '1', 10_000);
    store.set('b', '2', 10_000);
    store.get('a');
    store.set('c', '3', 10_000);
    expect(store.get('a')).toBe('1');
    expect(store.get('b')).toBeUndefined();
    expect(store.get('c')).toBe('3');
  });

  it('stays within maxBytes', () => {
    const store = new MemoryStore({ maxBytes: 1000 });
    for (let i = 0; i < 50; i += 1) store.set(`key${i}`, 'x'.repeat(40), 10_000);
    expect(store.size).toBeLessThanOrEqual(1000 / ((40 + 5) * 2));
    expect(store.get('key49')).toBe('x'.repeat(40));
  });

  it('deletes by Redis glob and counts what it removed', () => {
    const store = new MemoryStore();
    for (const key of ['posts:a', 'posts:a:comments', 'posts:b', 'posts:ab', 'users:a']) {
      store.set(key, 'v', 10_000);
    }
    expect(store.deletePattern('posts:a:*')).toBe(1);
    expect(store.deletePattern('posts:?')).toBe(2);
    expect(store.deletePattern('nothing:*')).toBe(0);
    expect(store.get('posts:ab')).toBe('v');
    expect(store.get('users:a')).toBe('v');
  });

  it('treats escaped wildcards as literal characters', () => {
    const store = new MemoryStore();
    store.set('posts:*', 'literal star', 10_000);
    store.set('posts:x', 'other', 10_000);
    expect(store.deletePattern('posts:\\*')).toBe(1);
    expect(store.get('posts:x')).toBe('other');
  });

  it('clears everything', () => {
    const store = new MemoryStore();
    store.set('a', '1', 10_000);
    store.clear();
    expect(store.size).toBe(0);
  });
});

describe('MemoryStore refusing a value larger than maxBytes', () => {
  it('throws ValueTooLargeError from every write, and keeps what it held', () => {
    const store = new MemoryStore({ maxBytes: 100 });
    const big = 'x'.repeat(200);
    expect(() => store.set('k', big, 10_000)).toThrow(
      expect.objectContaining({ code: 'E_VALUE_TOO_LARGE', key: 'k', size: 402, limit: 100 }),
    );
    expect(() => store.setIfAbsent('k', big, 10_000)).toThrow(ValueTooLargeError);
    store.set('k', 'small', 10_000);
    expect(() => store.compareAndSet('k', 'small', big, 10_000)).toThrow(ValueTooLargeError);
    expect(store.get('k')).toBe('small');
  });

  it('makes a manual set throw, and a wrapper report the fill it could not store', () => {
    const logger = recordingLogger();
    const cache = createCache({ store: new MemoryStore({ maxBytes: 1000 }), logger });
    expect(() => cache.set('big', 'x'.repeat(1000))).toThrow(ValueTooLargeError);
    const errors: unknown[] = [];
    cache.on('error', ({ error }) => errors.push(error));
    const load = cache.cacheable(() => 'y'.repeat(1000), { key: 'big' });
    expect(load()).toBe('y'.repeat(1000));
    expect(errors).toEqual([expect.any(ValueTooLargeError)]);
    expect(logger.lines.warn).toEqual([expect.stringContaining('set quickpost:big failed')]);
  });
});

describe('two prefixes on one store', () => {
  it('never reach each other’s keys, whatever the pattern', () => {
    const store = new MemoryStore();
    const blog = createCache({ store, prefix: 'blog' });
    const admin = createCache({ store, prefix: 'blog-admin' });
    admin.set('users:1', 'secret');
    blog.set('posts:1', 'post');
    expect(blog.deletePattern('*')).toBe(1);
    expect(admin.get('users:1')).toBe('secret');
  });
});
