import { describe, expect, it } from 'vitest';
import { PresentKeys } from '../../src/core/read/present.js';

describe('PresentKeys', () => {
  it('remembers a key until it is forgotten', () => {
    const present = new PresentKeys(4);
    expect(present.empty).toBe(true);
    present.set('a', 10);
    expect(present.until('a')).toBe(10);
    expect(present.empty).toBe(false);
    present.delete('a');
    expect(present.until('a')).toBeUndefined();
    expect(present.empty).toBe(true);
  });

  it('keeps at least half of its capacity, never more than all of it', () => {
    const present = new PresentKeys(100);
    for (let i = 0; i < 1000; i += 1) present.set(`k${i}`, i);
    const kept = Array.from({ length: 1000 }, (_, i) => present.until(`k${i}`)).filter(
      (until) => until !== undefined,
    );
    expect(kept.length).toBeGreaterThanOrEqual(50);
    expect(kept.length).toBeLessThanOrEqual(100);
    // The newest keys are the ones kept.
    for (let i = 950; i < 1000; i += 1) expect(present.until(`k${i}`)).toBe(i);
    expect(present.until('k0')).toBeUndefined();
  });

  it('answers the latest time set for a key that moved to the old generation', () => {
    const present = new PresentKeys(4);
    present.set('a', 1);
    present.set('b', 2);
    present.set('c', 3); // the young generation (2 keys) was full: a and b are now old
    present.set('a', 4);
    expect(present.until('a')).toBe(4);
    present.delete('a');
    expect(present.until('a')).toBeUndefined();
  });

  it('forgets the keys a matcher accepts, in both generations', () => {
    const present = new PresentKeys(4);
    present.set('posts:1', 1);
    present.set('users:1', 1);
    present.set('posts:2', 1);
    present.deleteMatching((key) => key.startsWith('posts:'));
    expect(present.until('posts:1')).toBeUndefined();
    expect(present.until('posts:2')).toBeUndefined();
    expect(present.until('users:1')).toBe(1);
  });
});
