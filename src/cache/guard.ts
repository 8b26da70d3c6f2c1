import { StoreUnavailableError } from '../errors.js';
import { isThenable } from '../util/maybe-promise.js';

/** Circuit breaker settings. */
export interface BreakerOptions {
  /**
   * Consecutive failed store calls that open the breaker.
   * @default 5
   */
  failures?: number | undefined;
  /**
   * How long the store is skipped once the breaker is open, in ms; then one call probes it.
   * @default 2000
   */
  cooldown?: number | undefined;
}

/** Deadlines are shared by the calls that start within the same few milliseconds. */
const GRANULARITY_MS = 5;
const TIMED_OUT: unique symbol = Symbol('timed out');

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
  readonly #deadlines = new Map<number, Promise<never>>();
  #failures = 0;
  #openUntil = 0;
  #probing = false;

  constructor(
    timeoutMs: number,
    breaker: BreakerOptions | false,
    onChange: (state: 'open' | 'closed', failures: number, error?: unknown) => void,
  ) {
    this.timeoutMs = timeoutMs;
    this.#threshold = breaker === false ? Number.POSITIVE_INFINITY : (breaker.failures ?? 5);
    this.#cooldownMs = breaker === false ? 0 : (breaker.cooldown ?? 2000);
    this.#onChange = onChange;
  }

  /** Whether the breaker is open (the store is being skipped). */
  get open(): boolean {
    return this.#openUntil > 0;
  }

  /** Runs one store call within the deadline and the breaker's rules. */
  run<T>(call: () => T | Promise<T>): T | Promise<T> {
    if (this.#openUntil > 0) {
      if (Date.now() < this.#openUntil || this.#probing) {
        return Promise.reject(new StoreUnavailableError('breaker-open', this.timeoutMs));
      }
      this.#probing = true;
    }
    let result: T | Promise<T>;
    try {
      result = call();
    } catch (error) {
      this.#failed(error);
      throw error;
    }
    if (!isThenable(result)) {
      this.#succeeded();
      return result;
    }
    return Promise.race([result, this.#deadline()]).then(
      (value) => {
        this.#succeeded();
        return value;
      },
      (error: unknown) => {
        const failure =
          error === TIMED_OUT ? new StoreUnavailableError('timeout', this.timeoutMs) : error;
        this.#failed(failure);
        throw failure;
      },
    );
  }

  #deadline(): Promise<never> {
    const due = Math.ceil((Date.now() + this.timeoutMs) / GRANULARITY_MS) * GRANULARITY_MS;
    let deadline = this.#deadlines.get(due);
    if (deadline === undefined) {
      deadline = new Promise<never>((_, reject) => {
        const timer = setTimeout(() => {
          this.#deadlines.delete(due);
          reject(TIMED_OUT);
        }, due - Date.now());
        timer.unref?.();
      });
      deadline.catch(() => undefined);
      this.#deadlines.set(due, deadline);
    }
    return deadline;
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
