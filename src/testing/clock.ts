import { vi } from 'vitest';

/** The clock of a test, set by {@link useCacheClock}. */
export interface CacheClock {
  /** Moves the clock forward by `seconds` (fractions allowed), the unit of `ttl` and `staleTtl`. */
  advanceSeconds(seconds: number): void;
  /** Sets the clock to `time` (a Date or epoch milliseconds). */
  set(time: Date | number): void;
  /** Gives the test the real clock back (`vi.useRealTimers()`). */
  restore(): void;
}

/**
 * Fakes the clock of a test with vitest, so that TTLs run out without waiting: only `Date` is
 * faked, so timers (store timeouts, lease polling, your own code's) keep running in real time.
 * The cache reads the time through `Date.now()`: on `MemoryStore` (and the in-process tier) an
 * entry expires when this clock passes its TTL. A store with a clock of its own, such as Redis,
 * is not moved by it.
 *
 * @example
 * const clock = useCacheClock();
 * await getPost('hello');        // MISS
 * clock.advanceSeconds(601);     // past `ttl: 600`
 * await getPost('hello');        // MISS again
 * clock.restore();
 */
export function useCacheClock(start: Date | number = Date.now()): CacheClock {
  vi.useFakeTimers({ toFake: ['Date'], now: start });
  return {
    advanceSeconds: (seconds) => {
      vi.setSystemTime(Date.now() + seconds * 1000);
    },
    set: (time) => {
      vi.setSystemTime(time);
    },
    restore: () => {
      vi.useRealTimers();
    },
  };
}
