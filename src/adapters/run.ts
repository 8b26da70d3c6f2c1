import type { RequestContext } from '../request-context.js';
import { isThenable } from '../util/maybe-promise.js';

/**
 * Runs `next` inside `requestContext` with the values `values()` gives, at once when they are
 * plain, once they resolve when they are a promise; an error thrown or rejected by `values` goes
 * to `fail` instead (the framework's error handling), and `next` does not run.
 */
export function runWithValues<T extends object>(
  requestContext: RequestContext<T>,
  values: () => T | PromiseLike<T>,
  next: () => void,
  fail: (error: unknown) => void,
): void {
  let given: T | PromiseLike<T>;
  try {
    given = values();
  } catch (error) {
    fail(error);
    return;
  }
  if (isThenable(given)) {
    given.then((resolved) => requestContext.run(resolved, next), fail);
    return;
  }
  requestContext.run(given, next);
}
