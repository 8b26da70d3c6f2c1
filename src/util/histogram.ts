/**
 * A fixed-size histogram of durations with log-spaced buckets, for load-time percentiles.
 *
 * Why buckets rather than a sample (reservoir) or a sketch (t-digest, HDR histogram, both
 * libraries larger than this file): recording is one `Math.log2` and one increment, memory is
 * fixed (84 counters per template), nothing is allocated per value, and the error is bounded
 * whatever the distribution: four buckets per doubling put every value in a bucket whose bounds
 * differ by 19%, so a percentile estimated at the bucket's geometric middle is within 9% of the
 * true one (a reservoir's error depends on its sample and grows at p99). The exact minimum and
 * maximum clamp the estimate (a single load reports its own duration).
 */

/** Buckets per doubling of the duration. */
const PER_DOUBLING = 4;
/** The first bucket ends at 2^LOWEST ms (62.5 µs) and holds every shorter duration. */
const LOWEST = -4;
/**
 * Bucket `i` ends at 2^(LOWEST + i / PER_DOUBLING) ms; the last one ends near 110 s and also holds
 * every longer duration.
 */
const BUCKETS = 84;

/** Durations in ms, counted in log-spaced buckets. */
export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = 0;

  /** How many durations were recorded. */
  get count(): number {
    return this.#count;
  }

  /** The longest duration recorded, ms (0 when none). */
  get max(): number {
    return this.#max;
  }

  /** Records one duration, in ms. */
  record(ms: number): void {
    const value = Math.max(ms, 0);
    // The first bucket that ends at or above the value.
    const index = value === 0 ? 0 : Math.ceil((Math.log2(value) - LOWEST) * PER_DOUBLING);
    const bucket = Math.min(Math.max(index, 0), BUCKETS - 1);
    this.#counts[bucket] = (this.#counts[bucket] as number) + 1;
    this.#count += 1;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
  }

  /**
   * The duration (ms) that a fraction `q` (0 < q ≤ 1) of the recorded ones do not exceed,
   * estimated within 9%; `undefined` when nothing was recorded.
   */
  quantile(q: number): number | undefined {
    if (this.#count === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    let index = 0;
    for (; index < BUCKETS - 1; index += 1) {
      seen += this.#counts[index] as number;
      if (seen >= rank) break;
    }
    // The geometric middle of the bucket, whose bounds are a quarter doubling apart.
    const middle = 2 ** (LOWEST + (index - 0.5) / PER_DOUBLING);
    return Math.min(this.#max, Math.max(this.#min, middle));
  }
}
