/** True for promises and other thenables. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Applies `next` now if `value` is plain, after it settles if it is a promise. */
export function chain<A, B>(
  value: A | PromiseLike<A>,
  next: (value: A) => B | PromiseLike<B>,
): B | PromiseLike<B> {
  return isThenable(value) ? value.then(next) : next(value);
}

/** Runs `run`; a throw or a rejection is passed to `recover`, whose result takes its place. */
export function attempt<T>(
  run: () => T | PromiseLike<T>,
  recover: (error: unknown) => T,
): T | PromiseLike<T> {
  try {
    const result = run();
    return isThenable(result) ? result.then(undefined, recover) : result;
  } catch (error) {
    return recover(error);
  }
}

/** True for functions declared `async` (their result is always a promise). */
export function isAsyncFunction(fn: unknown): boolean {
  return Object.prototype.toString.call(fn) === '[object AsyncFunction]';
}

/** What {@link within} saw: the promise's value, or that it had not settled in time. */
export type Within<T> = { readonly settled: true; readonly value: T } | { readonly settled: false };

/** Waits for `promise` at most `ms`; a rejection rejects. The promise goes on either way. */
export function within<T>(promise: PromiseLike<T>, ms: number): Promise<Within<T>> {
  return new Promise<Within<T>>((resolve, reject) => {
    const timer = setTimeout(() => resolve({ settled: false }), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve({ settled: true, value });
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
