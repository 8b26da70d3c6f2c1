/**
 * Joining in-process callers: while one caller computes a key, the others that miss it share
 * that computation (single-flight), under the rule that keeps invalidation exact.
 *
 * The rule: a caller may take a shared result only if the store operation that vouched for it
 * was sent after the caller arrived. That operation (the GET that read it, the compare-and-set
 * that stored it, the compare-and-delete that found its lease in place) saw everything the store
 * had applied before it, every invalidation that had returned by then included. A result vouched
 * for before a caller arrived may predate an invalidation that returned before the caller came.
 * A function that started after the caller arrived vouches for it too: it read the data later
 * than the caller's own call would have.
 *
 * On a store that applies a fill before what it is handed next (`BatchingStore`), a computation
 * answers once its fill is sent, vouching as its function's start does: the caller that started
 * it and those that joined before the function started take the value then. It stops taking
 * joiners then too: a caller arriving later reads the store, after the fill. One that joined
 * after the function started is not vouched for by the start: it reads the store as well.
 */

/** The result of one computation, and from when on it vouches for callers. */
export interface Outcome {
  readonly value: unknown;
  /**
   * The tick at which the store operation vouching for `value` was sent, or at which the
   * function computing it started; callers that arrived before it may take the value. {@link ALWAYS} is for
   * stores without leases, which promise only in-process coherence.
   */
  readonly confirmedAt: number;
}

/** Vouches for every caller that joined (in-process coherence only: stores without leases). */
export const ALWAYS = Number.POSITIVE_INFINITY;

let clock = 0;

/**
 * The process-wide logical clock: callers take a tick when they arrive, store operations that
 * can vouch for a shared result take one just before they are sent. Strictly increasing, so
 * "sent after the caller arrived" is a comparison of two numbers.
 */
export function tick(): number {
  clock += 1;
  return clock;
}

/** Whether `outcome` may be handed to a caller that arrived at tick `arrived`. */
export function vouchesFor(outcome: Outcome, arrived: number): boolean {
  return outcome.confirmedAt > arrived;
}

/** A computation in progress for one key. */
export interface Flight {
  /**
   * The computation's outcome, or what it answered before its end (`answer`), whichever comes
   * first: what the caller that started it gets, and what callers that join it wait for.
   */
  readonly answered: Promise<Outcome>;
  /** Set by an invalidation in this process: the result must not be stored. */
  overtaken: boolean;
  /** How many callers joined it besides the one that started it. */
  joiners: number;
  /** Whether its value may carry tags (then any tag invalidation overtakes it). */
  readonly tagged: boolean;
  /**
   * Answers before the computation ends (its value is sent to the store): the caller that started
   * it, and callers that joined it if the outcome given vouches for them.
   */
  readonly answer: (outcome: Outcome) => void;
}

/** The computations in progress in this cache instance, one per key. */
export class Flights {
  readonly #flights = new Map<string, Flight>();

  /** The computation of `key` in progress, if any. */
  get(key: string): Flight | undefined {
    return this.#flights.get(key);
  }

  /**
   * Starts the computation of `key` (`compute` runs after the current synchronous code, so the
   * flight is registered first); it leaves the table when it settles, or earlier by `close`.
   * Answers what the caller that starts it gets: the outcome, or what the computation answered
   * earlier (`answer`).
   */
  start(
    key: string,
    compute: (flight: Flight) => Promise<Outcome>,
    tagged: boolean,
  ): Promise<Outcome> {
    const flight = { overtaken: false, joiners: 0, tagged } as {
      -readonly [K in keyof Flight]: Flight[K];
    };
    flight.answered = new Promise<Outcome>((resolve, reject) => {
      flight.answer = resolve;
      Promise.resolve()
        .then(() => compute(flight))
        .finally(() => this.close(key, flight))
        .then(resolve, reject);
    });
    this.#flights.set(key, flight);
    return flight.answered;
  }

  /**
   * Marks the computations of matching keys as overtaken by an invalidation: they store nothing,
   * and callers arriving from now on start afresh instead of joining them.
   */
  abandon(matches: (key: string, flight: Flight) => boolean): void {
    for (const [key, flight] of this.#flights) {
      if (matches(key, flight)) {
        flight.overtaken = true;
        this.#flights.delete(key);
      }
    }
  }

  /** Callers arriving from now on do not join `flight` (its value is on its way to the store). */
  close(key: string, flight: Flight): void {
    if (this.#flights.get(key) === flight) this.#flights.delete(key);
  }

  /** How many computations are in progress. */
  get size(): number {
    return this.#flights.size;
  }
}
