/**
 * `cache.health()`: what a readiness probe wants to know about a cache, gathered from its parts,
 * and one bounded read of the store.
 */
import type { Store } from '../stores/store.js';
import type { StoreGuard } from './guard.js';
import type { Invalidator } from './invalidation.js';

/** The state of the in-process tier (`l1`). */
export type TierState =
  /** The cache has no in-process tier. */
  | 'off'
  /** Waiting for the store's change notifications to start; the tier is not used yet. */
  | 'starting'
  /** In use (kept coherent by change notifications, or by its short `ttl` on other stores). */
  | 'live'
  /** Change notifications were lost: the tier was emptied and is not used until they flow again. */
  | 'lost'
  /** The store's change notifications could not be started: the tier stays unused. */
  | 'failed';

/** A cache's health, from `cache.health()`. */
export interface CacheHealth {
  /**
   * `'down'`: the store did not answer the probe. `'degraded'`: it answered, but the breaker is
   * open, an invalidation is being retried, or the in-process tier is not in use. `'ok'`: none of
   * these.
   */
  readonly status: 'ok' | 'degraded' | 'down';
  /** Whether the store answered: `status` is not `'down'`. */
  readonly ok: boolean;
  /** The probe: one read of a key no wrapper uses, within the probe's timeout, outside the breaker. */
  readonly store: {
    /** Whether the read succeeded within the timeout. */
    readonly reachable: boolean;
    /** How long it took (or how long was waited), ms. */
    readonly latencyMs: number;
    /** Why it failed, when it did. */
    readonly error?: string;
  };
  /** The circuit breaker. */
  readonly breaker: {
    /** `'off'` with `breaker: false` and on synchronous stores. */
    readonly state: 'off' | 'open' | 'closed';
    /** Store calls that failed in a row. */
    readonly failures: number;
  };
  /** Invalidations not yet confirmed by the store. */
  readonly invalidations: {
    /** Patterns and tags awaiting the store's confirmation (including deletes under way). */
    readonly pending: number;
    /** Of those, the ones whose delete failed at least once and is being retried. */
    readonly retrying: number;
    /** How long the oldest unconfirmed request has waited, ms; `undefined` when none. */
    readonly oldestMs: number | undefined;
  };
  /** The in-process tier. */
  readonly l1: {
    readonly state: TierState;
    /** When it entered that state, epoch ms. */
    readonly since: number;
  };
}

/** What the health check reads. */
export interface HealthParts {
  readonly store: Store;
  readonly guard: StoreGuard;
  readonly invalidator: Invalidator;
  /** The key the probe reads. */
  readonly probeKey: string;
  readonly l1: { readonly state: TierState; readonly since: number };
}

/** Gathers the health of a cache, probing its store for at most `timeoutMs`. */
export async function checkHealth(parts: HealthParts, timeoutMs: number): Promise<CacheHealth> {
  const { guard, invalidator, store } = parts;
  const started = performance.now();
  let error: string | undefined;
  try {
    await guard.bound(() => store.get(parts.probeKey), timeoutMs);
  } catch (failure) {
    error = failure instanceof Error ? failure.message : String(failure);
  }
  const latencyMs = performance.now() - started;
  const { pending, retrying, oldestAt } = invalidator.pendingSummary();
  const breaker = { state: guard.state, failures: guard.failures };
  const l1 = { state: parts.l1.state, since: parts.l1.since };
  const reachable = error === undefined;
  const status = !reachable
    ? 'down'
    : breaker.state === 'open' || retrying > 0 || (l1.state !== 'off' && l1.state !== 'live')
      ? 'degraded'
      : 'ok';
  return {
    status,
    ok: reachable,
    store: error === undefined ? { reachable, latencyMs } : { reachable, latencyMs, error },
    breaker,
    invalidations: {
      pending,
      retrying,
      oldestMs: oldestAt === undefined ? undefined : Math.max(0, Date.now() - oldestAt),
    },
    l1,
  };
}
