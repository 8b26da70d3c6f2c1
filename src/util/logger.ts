/**
 * The loggers the cache writes to. Loggers disagree on where an error goes: console and winston
 * take the message first and details after (`logger.warn(message, error)`; winston appends an
 * Error's message to the line and keeps its stack), while pino takes an object first
 * (`logger.warn(error, message)`) and treats further arguments as printf values, so an error
 * given after the message is dropped. {@link toLog} calls each in its own shape.
 */

/**
 * Where log lines go: `console`, a pino or winston logger, or anything with these methods (each
 * called with its logger as `this`). Failures are written with the error after the message
 * (console, winston), or before it for pino (`logger.warn(error, message)`), recognised by its
 * `bindings()` method.
 */
export interface CacheLogger {
  /** Debug lines (with `debug: true`). */
  debug(message: string, ...details: unknown[]): void;
  /** Never called; allowed so that a logger object with it fits. */
  info?(message: string, ...details: unknown[]): void;
  /** Failures the cache carried on after (a store error, a pending invalidation). */
  warn(message: string, ...details: unknown[]): void;
  /** Failures that need attention (leases refused, invalidations left at close). */
  error(message: string, ...details: unknown[]): void;
}

/** How the cache writes lines: a message, and at most one error (or other detail) with it. */
export interface Log {
  debug(message: string): void;
  warn(message: string, detail?: unknown): void;
  error(message: string, detail?: unknown): void;
}

/** A logger that takes its object (an error) first: pino and its child loggers. */
function takesObjectFirst(logger: CacheLogger): boolean {
  const candidate = logger as { bindings?: unknown; levels?: { values?: unknown } };
  return (
    typeof candidate.bindings === 'function' &&
    typeof candidate.levels === 'object' &&
    typeof candidate.levels?.values === 'object'
  );
}

type ObjectFirst = (object: object, message: string) => void;

/** Writes through `logger` in the call shape it understands. */
export function toLog(logger: CacheLogger): Log {
  if (takesObjectFirst(logger)) {
    const write =
      (level: 'warn' | 'error') =>
      (message: string, detail?: unknown): void => {
        if (detail === undefined) {
          logger[level](message);
          return;
        }
        // pino files an Error under its `errorKey` (`err`) with its serializer; anything else
        // goes under `err` as it is.
        const object = detail instanceof Error ? detail : { err: detail };
        (logger[level] as unknown as ObjectFirst).call(logger, object, message);
      };
    return {
      debug: (message) => logger.debug(message),
      warn: write('warn'),
      error: write('error'),
    };
  }
  const write =
    (level: 'warn' | 'error') =>
    (message: string, detail?: unknown): void => {
      if (detail === undefined) logger[level](message);
      else logger[level](message, detail);
    };
  return { debug: (message) => logger.debug(message), warn: write('warn'), error: write('error') };
}

/**
 * Lets the first of identical lines through, then at most one per `windowMs`, counting those it
 * holds back: a server that stays down fails every reconnection attempt with the same error, and
 * one line a minute says so as well as hundreds.
 */
export class RepeatFilter {
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #seen = new Map<string, { until: number; held: number }>();

  constructor(windowMs: number, now: () => number = Date.now) {
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /**
   * Whether a line about `key` may go out now: `undefined` if not (it is counted), else how many
   * identical lines were held back since the last one that went out.
   */
  pass(key: string): number | undefined {
    const now = this.#now();
    const seen = this.#seen.get(key);
    if (seen !== undefined && now < seen.until) {
      seen.held += 1;
      return undefined;
    }
    // Distinct errors are few (one per failure kind and address); the bound only guards memory.
    if (this.#seen.size >= 100) this.#seen.clear();
    this.#seen.set(key, { until: now + this.#windowMs, held: 0 });
    return seen?.held ?? 0;
  }
}
