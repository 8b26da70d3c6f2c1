import { StoreUnavailableError } from '../errors.js';
import type { MaybePromise, Store } from '../stores/store.js';
import type { Duration } from '../util/duration.js';
import { isThenable } from '../util/maybe-promise.js';

/** Circuit breaker settings. */
export interface BreakerOptions {
  /**
   * Consecutive failed store calls that open the breaker.
   * @default 5
   */
  failures?: number | undefined;
  /**
   * How long the store is skipped once the breaker is open (a number of milliseconds, or a
   * duration such as `'2s'`); then one call probes it.
   * @default 2000
   */
  cooldown?: Duration | undefined;
}

/** Breaker settings as the guard uses them: numbers, the cool-down in milliseconds. */
export interface BreakerSettings {
  readonly failures: number;
  readonly cooldownMs: number;
}

/** Deadlines are shared by the calls that start within the same few milliseconds. */
const GRANULARITY_MS = 5;

/** Rejects a bounded call that is not settled yet. */
type Reject = (error: unknown) => void;

/**
 * Bounds every asynchronous store call by a deadline and counts failures for a circuit breaker.
 *
 * - Deadline: a call that has not settled after `timeoutMs` is abandoned with
 *   `StoreUnavailableError('timeout')` (it may still complete later; every write the cache makes
 *   is safe to apply late). Calls starting in the same 5 ms share one timer, so a hit does not
 *   pay for a timer of its own.
 * - Breaker: after `failures` consecutive failures, calls are refused at once for `cooldown` ms
 *   (`StoreUnavailableError('breaker-open')`); then one call probes the store and a success
 *   closes the breaker.
 *
 * Synchronous stores are called directly: they cannot hang on a network.
 */
export class StoreGuard {
  readonly timeoutMs: number;
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #onChange: (state: 'open' | 'closed', failures: number, error?: unknown) => void;
  readonly #deadlines = new Map<number, Set<Reject>>();
  #failures = 0;
  #openUntil = 0;
  #probing = false;

  constructor(
    timeoutMs: number,
    breaker: BreakerSettings | false,
    onChange: (state: 'open' | 'closed', failures: number, error?: unknown) => void,
  ) {
    this.timeoutMs = timeoutMs;
    this.#threshold = breaker === false ? Number.POSITIVE_INFINITY : breaker.failures;
    this.#cooldownMs = breaker === false ? 0 : breaker.cooldownMs;
    this.#onChange = onChange;
  }

  /** Whether the breaker is open (the store is being skipped). */
  get open(): boolean {
    return this.#openUntil > 0;
  }

  /** The breaker's state: `'off'` when there is none, else whether it is open. */
  get state(): 'off' | 'open' | 'closed' {
    if (this.#threshold === Number.POSITIVE_INFINITY) return 'off';
    return this.open ? 'open' : 'closed';
  }

  /** Store calls that failed in a row, up to now. */
  get failures(): number {
    return this.#failures;
  }

  /** Runs one store call within the deadline (`timeoutMs`, or another) and the breaker's rules. */
  run<T>(call: () => T | Promise<T>, timeoutMs = this.timeoutMs): T | Promise<T> {
    const refused = this.#refusal();
    if (refused !== undefined) return refused;
    let result: T | Promise<T>;
    try {
      result = call();
    } catch (error) {
      this.#failed(error);
      throw error;
    }
    return this.#bound(result, timeoutMs, true);
  }

  /**
   * Runs one call within the deadline, outside the breaker: never refused, never counted. For
   * clean-ups that must be tried even while the breaker is open (removing a lease nobody holds).
   */
  bound<T>(call: () => T | Promise<T>, timeoutMs = this.timeoutMs): T | Promise<T> {
    return this.#bound(call(), timeoutMs, false);
  }

  /**
   * Runs one call that starts `count` store operations at once (a batch), each of its answers
   * bounded by the deadline and counted by the breaker as a call of its own. While the breaker
   * is open every one is refused; if the call throws, every one rejects with its error.
   */
  runEach<T>(call: () => readonly (T | Promise<T>)[], count: number): (T | Promise<T>)[] {
    const refused = this.#refusal();
    if (refused !== undefined) return new Array<Promise<never>>(count).fill(refused);
    let answers: readonly (T | Promise<T>)[];
    try {
      answers = call();
    } catch (error) {
      this.#failed(error);
      return new Array<Promise<never>>(count).fill(Promise.reject(error));
    }
    return answers.map((answer) => this.#bound(answer, this.timeoutMs, true));
  }

  /** `store.get(key)` within the deadline: `run` without a closure, for the hit path. */
  get(store: Store, key: string): string | null | undefined | Promise<string | null | undefined> {
    const refused = this.#refusal();
    if (refused !== undefined) return refused;
    let result: MaybePromise<string | null | undefined>;
    try {
      result = store.get(key);
    } catch (error) {
      this.#failed(error);
      throw error;
    }
    return this.#bound(result, this.timeoutMs, true);
  }

  /** A rejection while the breaker is open and it is not this call's turn to probe. */
  #refusal(): Promise<never> | undefined {
    if (this.#openUntil === 0) return undefined;
    if (Date.now() < this.#openUntil || this.#probing) {
      return Promise.reject(new StoreUnavailableError('breaker-open', this.timeoutMs));
    }
    this.#probing = true;
    return undefined;
  }

  /**
   * The call's result, settled by the call or by its deadline, whichever comes first. (A custom
   * promise rather than Promise.race: racing against a shared deadline promise piles a reaction
   * onto it per call, several times slower.)
   */
  #bound<T>(result: T | Promise<T>, timeoutMs: number, counted: boolean): T | Promise<T> {
    if (!isThenable(result)) {
      if (counted) this.#succeeded();
      return result;
    }
    return new Promise<T>((resolve, reject) => {
      // Membership in the deadline's set is the "not settled yet" flag: whoever removes the
      // call from it (the store's answer or the timer) settles it.
      const due = this.#deadline(timeoutMs, counted);
      due.add(reject);
      result.then(
        (value) => {
          if (!due.delete(reject)) return;
          if (counted) this.#succeeded();
          resolve(value);
        },
        (error: unknown) => {
          if (!due.delete(reject)) return;
          if (counted) this.#failed(error);
          reject(error);
        },
      );
    });
  }

  /**
   * The calls due at the same 5 ms tick share one timer, which fails those still unsettled.
   * Settled calls leave the set at once, so nothing outlives its call (a call kept until its
   * deadline would survive into the old generation and cost the garbage collector dearly).
   * Calls outside the breaker get timers of their own (keyed by the negated tick).
   */
  #deadline(timeoutMs: number, counted: boolean): Set<Reject> {
    // The monotonic clock: a wall-clock jump must not move deadlines.
    const due = Math.ceil((performance.now() + timeoutMs) / GRANULARITY_MS) * GRANULARITY_MS;
    const slot = counted ? due : -due;
    let calls = this.#deadlines.get(slot);
    if (calls === undefined) {
      const unsettled = new Set<Reject>();
      calls = unsettled;
      this.#deadlines.set(slot, unsettled);
      const timer = setTimeout(() => {
        this.#deadlines.delete(slot);
        for (const reject of unsettled) {
          const error = new StoreUnavailableError('timeout', timeoutMs);
          if (counted) this.#failed(error);
          reject(error);
        }
        unsettled.clear();
      }, due - performance.now());
      timer.unref?.();
    }
    return calls;
  }

  #succeeded(): void {
    this.#failures = 0;
    this.#probing = false;
    if (this.#openUntil > 0) {
      this.#openUntil = 0;
      this.#onChange('closed', 0);
    }
  }

  #failed(error: unknown): void {
    this.#failures += 1;
    const wasOpen = this.#openUntil > 0;
    this.#probing = false;
    if (this.#failures >= this.#threshold) {
      this.#openUntil = Date.now() + this.#cooldownMs;
      if (!wasOpen) this.#onChange('open', this.#failures, error);
    }
  }
}
