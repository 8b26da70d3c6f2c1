/**
 * The `x-cache` header: `hit` when every cached read a request made was a hit, `miss` otherwise,
 * also when it made none (a write, or a request refused before any read). Built on the cache's
 * events: each request runs in an AsyncLocalStorage scope holding its counts, and the listeners
 * add to the counts of the request whose code emitted the event.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { NextFunction, Request, Response } from 'express';
import type { Cache } from '../../src/index.js';

/** The cached reads of one request. */
interface Reads {
  /** Calls of `cacheable` wrappers. */
  lookups: number;
  /** Of those, answered from the cache (a fresh or a stale value). */
  hits: number;
  /** Found nothing usable (a call that joined another's computation is neither). */
  misses: number;
}

/** Tracks each request's cached reads on `cache`, for its `x-cache` header. */
export function cacheStatus(cache: Pick<Cache, 'on'>) {
  const requests = new AsyncLocalStorage<Reads>();
  const count = (field: keyof Reads) => () => {
    const reads = requests.getStore();
    if (reads !== undefined) reads[field] += 1;
  };
  cache.on('lookup', count('lookups'));
  cache.on('hit', count('hits'));
  cache.on('stale', count('hits'));
  cache.on('miss', count('misses'));

  return {
    /** Middleware: runs the rest of the request in a scope of its own. */
    track(_req: Request, res: Response, next: NextFunction): void {
      const reads: Reads = { lookups: 0, hits: 0, misses: 0 };
      res.locals.cacheReads = reads;
      requests.run(reads, next);
    },
    /** The `x-cache` value of the request `res` answers. */
    of(res: Response): 'hit' | 'miss' {
      const reads = res.locals.cacheReads as Reads | undefined;
      return reads !== undefined &&
        reads.lookups > 0 &&
        reads.misses === 0 &&
        reads.hits >= reads.lookups
        ? 'hit'
        : 'miss';
    },
  };
}
