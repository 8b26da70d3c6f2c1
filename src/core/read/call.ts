import type { Serializer } from '../../codec/index.js';
import type { AtomicStore, BatchingStore, Store, TaggingStore } from '../../stores/store.js';
import type { Emitter, EventSource } from '../events.js';
import type { StoreGuard } from '../guard.js';
import type { ValueSchema } from '../schema.js';
import type { Telemetry } from '../telemetry.js';
import type { Tier } from '../tier.js';

/** How one read-through behaves; built once per wrapper, never per call. */
export interface ReadPlan {
  /** Who the events are about. */
  readonly source: EventSource;
  /** Logical time to live, ms. */
  readonly ttlMs: number;
  /** How long after `ttlMs` a stale value may still be served while it is refreshed, ms. */
  readonly staleMs: number;
  /** Fraction of `ttlMs` by which each entry's TTL is shortened at random (0 = none). */
  readonly jitter: number;
  /** XFetch's β for probabilistic early refresh (0 = off). */
  readonly beta: number;
  /** Checks values read back; `undefined` takes them as they are. */
  readonly schema: ValueSchema | undefined;
  /** Decides per computed value whether to store it; `undefined` stores every value. */
  readonly shouldCache: ((value: never) => boolean) | undefined;
  /** Whether values go through the in-process tier. */
  readonly l1: boolean;
  /** Runs the function of a miss: timed and traced for whoever listens. */
  readonly telemetry: Telemetry;
  /**
   * The full tags of a value computed from `args` (rendered from the context, and from the value
   * itself); `undefined` when the wrapper has no tags.
   */
  readonly tags: ((args: readonly unknown[], value: unknown) => readonly string[]) | undefined;
}

/** A function the cache calls on a miss. */
export type Fn = (...args: never[]) => unknown;

/** One call of a read-through: what to read, what to run on a miss, and when the caller came. */
export interface ReadCall {
  /** The full key (prefix included). */
  readonly key: string;
  readonly plan: ReadPlan;
  readonly fn: Fn;
  readonly thisArg: unknown;
  readonly args: readonly unknown[];
  /** The caller's arrival on the process's logical clock (see `tick` in flights.ts). */
  readonly arrived: number;
  /**
   * When the caller stops waiting for other callers' computations (epoch ms), set at its first
   * miss: however often it reads again, it waits `lease.wait` in all, then computes alone.
   */
  waitUntil?: number;
}

/**
 * The keys whose functions are running right now, on the synchronous stack. (An
 * AsyncLocalStorage would follow them across awaits too, but on Node 20 it switches on promise
 * hooks for the whole process, which costs every promise of the application about a third of a
 * microsecond: a call made after an await is bounded by `lease.wait` instead, see `#join`.)
 */
const computing = new Set<string>();

/**
 * Runs the call's function with its `this` and arguments (a load, seen by the plan's telemetry),
 * remembering while it runs synchronously that this key is being computed (see
 * {@link isComputing}).
 */
export function runFunction(call: ReadCall): unknown {
  const { source, telemetry } = call.plan;
  const invoke = () => Reflect.apply(call.fn, call.thisArg, call.args);
  if (computing.has(call.key)) return telemetry.load(source, call.key, invoke);
  computing.add(call.key);
  try {
    return telemetry.load(source, call.key, invoke);
  } finally {
    computing.delete(call.key);
  }
}

/**
 * Whether the current code runs inside the function computing `key`, before that function's
 * first await: a re-entrant call, which would wait for itself.
 */
export function isComputing(key: string): boolean {
  return computing.has(key);
}

/** What the read-through parts need from the cache. */
export interface ReadServices {
  readonly store: Store;
  /** The store's atomic capability, when it has one and leases are enabled. */
  readonly atomic: (Store & AtomicStore) | undefined;
  readonly guard: StoreGuard;
  readonly events: Emitter;
  readonly serializer: Serializer | undefined;
  /** How long a lease lives unless its holder extends it, ms. */
  readonly leaseTtlMs: number;
  /** How long a caller waits for another process's computation before computing itself, ms. */
  readonly leaseWaitMs: number;
  /** Reports a failure the cache carries on after. */
  report(operation: string, key: string, error: unknown, source: EventSource): void;
  /** Reports, once, that the store refused the atomic writes: the cache goes on without leases. */
  leasesRefused(error: unknown): void;
  /** The in-process tier, when the cache has one. */
  readonly tier: Tier | undefined;
  /**
   * Records `key` in the store's key index for at least `ttlMs`, within `timeout`; nothing when
   * the store has no index. Nothing may be written under `key` unless this succeeded.
   */
  track(key: string, ttlMs: number): Maybe<unknown>;
  /** Whether the store keeps a key index (`track` then records keys). */
  readonly indexed: boolean;
  /** The store's batches, when it has them: the reads of one tick go out together. */
  readonly batching: (Store & BatchingStore) | undefined;
  /** The store's tags, when it has them (wrappers with tags exist only then). */
  readonly tagging: (Store & TaggingStore) | undefined;
  /**
   * Whether an invalidation of `key` (or, for an entry that may carry tags, of any tag) awaits the
   * store's confirmation: then the key is not read from the store, and nothing is stored for it.
   */
  bypass(key: string, tagged: boolean): boolean;
}

/** A value, or a promise of it. */
export type Maybe<T> = T | PromiseLike<T>;

/**
 * A lease is extended while its function runs for at least this long (or `lease.wait`, or
 * `lease.ttl`, if longer): long enough for slow functions to store their value, short enough
 * that a hung function does not hold its key for good.
 */
export const MIN_EXTENSION_MS = 10_000;

/**
 * How long the index must know a key computed under `plan`: longer than its lease can be
 * extended, plus the entry's own life (TTL and stale grace).
 */
export function trackTtlMs(services: ReadServices, plan: ReadPlan): number {
  const { leaseTtlMs, leaseWaitMs } = services;
  return (
    Math.max(leaseWaitMs, leaseTtlMs, MIN_EXTENSION_MS) + leaseTtlMs + plan.ttlMs + plan.staleMs
  );
}
