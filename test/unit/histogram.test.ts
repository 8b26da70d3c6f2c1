import { describe, expect, it } from 'vitest';
import { Histogram } from '../../src/util/histogram.js';

/** The exact quantile of sorted values, by the same rank rule (the ⌈q·n⌉-th smallest). */
function exact(sorted: readonly number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] as number;
}

describe('the load-time histogram', () => {
  it('estimates quantiles within 9% across its range (0.0625 ms to about 110 s)', () => {
    // A log-uniform spread over the whole range, in a fixed pseudo-random order.
    let seed = 7;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const values = Array.from({ length: 5000 }, () => 2 ** (-4 + random() * 20.75));
    const histogram = new Histogram();
    for (const value of values) histogram.record(value);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999]) {
      const estimate = histogram.quantile(q) as number;
      expect(Math.abs(estimate / exact(sorted, q) - 1)).toBeLessThanOrEqual(0.0906);
    }
    expect(histogram.count).toBe(5000);
    expect(histogram.max).toBe(sorted.at(-1));
  });

  it('answers the exact value when every recorded value is the same, at any scale', () => {
    for (const value of [0, 0.001, 0.5, 3, 1234.5, 500_000]) {
      const histogram = new Histogram();
      histogram.record(value);
      histogram.record(value);
      expect(histogram.quantile(0.5)).toBe(value);
      expect(histogram.quantile(0.99)).toBe(value);
    }
  });

  it('has no quantiles before a value is recorded', () => {
    const histogram = new Histogram();
    expect(histogram.quantile(0.5)).toBeUndefined();
    expect(histogram.count).toBe(0);
    expect(histogram.max).toBe(0);
  });
});
