import { randomBytes } from 'node:crypto';
import {
  decodeEntry,
  encodeEntry,
  entryComputeMs,
  entryExpiresAt,
  isEntry,
  isLease,
  LEASE_MARK,
  type Serializer,
  UNREADABLE,
  withExpiresAt,
} from '../codec/index.js';
import { InvalidOptionError, SerializationError } from '../errors.js';
import { createGlobMatcher } from '../glob.js';
import type { AtomicStore, Store } from '../stores/store.js';
import { attempt, isThenable } from '../util/maybe-promise.js';
import type { Emitter, EventSource } from './events.js';
import type { StoreGuard } from './guard.js';
import type { ValueSchema } from './schema.js';

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
  readonly schema: ValueSchema | undefined;
  readonly shouldCache: ((value: never) => boolean) | undefined;
}

/** What the cache reader needs from the cache. */
export interface ReaderContext {
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
}

/**
 * The result of one computation, and from when on it is known not to predate an invalidation.
 *
 * `confirmedAt` is the tick (see {@link tick}) at which the store operation that vouches for the
 * value was sent: the GET that read it, the compare-and-set that stored it, or the
 * compare-and-delete that found its lease still in place. Anything the store applied before that
 * operation, every invalidation that had returned by then included, was already applied when it
 * vouched. So a caller may take the value only if it arrived before that tick: an invalidation
 * that returned before the caller arrived cannot have been missed. `UNCONFIRMED` vouches for no
 * caller; `ALWAYS` is for stores without leases, which promise only in-process coherence (no
 * invalidation in this process overtook the computation).
 */
interface Outcome {
  readonly value: unknown;
  readonly confirmedAt: number;
}

const UNCONFIRMED = Number.NEGATIVE_INFINITY;
const ALWAYS = Number.POSITIVE_INFINITY;

/**
 * How many times a caller that joined computations whose results did not vouch for it reads
 * again before it runs the function itself (storing nothing).
 */
const JOIN_ROUNDS = 2;

let clock = 0;
/**
 * A process-wide logical clock: callers take a tick when they arrive, store operations that can
 * vouch for a shared result take one just before they are sent. Strictly increasing, so "sent
 * after the caller arrived" is a comparison of two numbers.
 */
function tick(): number {
  clock += 1;
  return clock;
}

/** A computation in progress for one key, shared by the callers that missed meanwhile. */
interface Flight {
  promise: Promise<Outcome>;
  /** Set by an invalidation in this process: the result must not be stored. */
  stale: boolean;
  /** How many callers joined it (besides the one that started it). */
  joiners: number;
}

/** A background refresh of a stale (or soon stale) entry. */
interface Refresh {
  stale: boolean;
}

/** A read found nothing usable. */
export const MISS: unique symbol = Symbol('miss');
/** Compute without a lease and store nothing (the read failed, or the function ran unleased). */
const COMPUTE_ONLY: unique symbol = Symbol('compute only');
/**
 * How a computation starts: from what the read saw (absent, a lease, an expired entry), with a
 * lease already taken, or compute-only.
 */
type Start = string | undefined | typeof COMPUTE_ONLY | { readonly marker: string };

/** A new lease marker: the lease mark and a random token. */
function newLease(): string {
  return LEASE_MARK + randomBytes(12).toString('base64url');
}
type Fn = (...args: never[]) => unknown;
type Maybe<T> = T | PromiseLike<T>;

const noop = () => undefined;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Read-through: hits, misses, single-flight per key in this process, leases across processes,
 * stale-while-revalidate and early refresh.
 *
 * With an atomic store (MemoryStore, RedisStore), a miss writes a lease marker into the key itself
 * (`SET key <\x02token> NX PX`) before the function runs, and the value replaces the marker only
 * if the marker is still there (compare-and-set). Other processes that find the marker wait for
 * the value instead of computing. An invalidation that runs meanwhile deletes the marker like any
 * matching key, so the late fill finds no marker and stores nothing: a value computed before an
 * invalidation can never be written after it.
 */
export class Reader {
  readonly #ctx: ReaderContext;
  readonly #flights = new Map<string, Flight>();
  readonly #refreshes = new Map<string, Refresh>();

  constructor(context: ReaderContext) {
    this.#ctx = context;
  }

  /**
   * Read-through on any store, answering with a promise. Written as a `.then` chain rather than an
   * async function: a hit costs one bounded store read, one decode and one promise reaction.
   */
  readAsync(
    key: string,
    plan: ReadPlan,
    fn: Fn,
    thisArg: unknown,
    args: readonly unknown[],
    context: unknown,
  ): Promise<unknown> {
    const { events } = this.#ctx;
    if (context !== undefined && events.has('lookup')) {
      events.emit('lookup', { source: plan.source, key, context });
    }
    const arrived = tick();
    return this.#flights.has(key)
      ? this.#join(key, plan, fn, thisArg, args, 0, arrived)
      : this.#readOnce(key, plan, fn, thisArg, args, 0, arrived);
  }

  /** One store read and what follows from it. */
  #readOnce(
    key: string,
    plan: ReadPlan,
    fn: Fn,
    thisArg: unknown,
    args: readonly unknown[],
    round: number,
    arrived: number,
  ): Promise<unknown> {
    let got: ReturnType<StoreGuard['get']>;
    try {
      got = this.#ctx.guard.get(this.#ctx.store, key);
    } catch (error) {
      got = Promise.reject(error);
    }
    return Promise.resolve(got).then(
      (raw) =>
        this.#afterRead(
          key,
          typeof raw === 'string' ? raw : undefined,
          plan,
          fn,
          thisArg,
          args,
          round,
          arrived,
        ),
      (error: unknown) => {
        this.#ctx.report('get', key, error, plan.source);
        // A store that failed to answer gets no lease request and no fill: the caller waits for
        // at most one store timeout plus the function.
        return this.#miss(key, COMPUTE_ONLY, plan, fn, thisArg, args, round, arrived);
      },
    );
  }

  #afterRead(
    key: string,
    raw: string | undefined,
    plan: ReadPlan,
    fn: Fn,
    thisArg: unknown,
    args: readonly unknown[],
    round: number,
    arrived: number,
  ): unknown {
    if (raw === undefined)
      return this.#miss(key, undefined, plan, fn, thisArg, args, round, arrived);
    if (!isEntry(raw)) {
      const seen = isLease(raw) ? raw : this.#foreign(key, raw, plan.source);
      return this.#miss(key, seen, plan, fn, thisArg, args, round, arrived);
    }
    const value = this.#use(key, raw, plan, fn, thisArg, args);
    if (isThenable(value)) {
      return value.then((decoded) =>
        decoded === MISS ? this.#miss(key, raw, plan, fn, thisArg, args, round, arrived) : decoded,
      );
    }
    return value === MISS ? this.#miss(key, raw, plan, fn, thisArg, args, round, arrived) : value;
  }

  /** Nothing usable was read: join a computation that started meanwhile, or start one. */
  #miss(
    key: string,
    seen: Start,
    plan: ReadPlan,
    fn: Fn,
    thisArg: unknown,
    args: readonly unknown[],
    round: number,
    arrived: number,
  ): Promise<unknown> {
    if (this.#flights.has(key)) return this.#join(key, plan, fn, thisArg, args, round, arrived);
    const { events } = this.#ctx;
    if (events.has('miss')) events.emit('miss', { source: plan.source, key });
    return this.#start(key, seen, plan, fn, thisArg, args).then((outcome) => outcome.value);
  }

  /**
   * Waits for the computation in flight and takes its value only if the store operation that
   * vouched for it was sent after this caller arrived (see {@link Outcome}); otherwise an
   * invalidation that returned before the caller arrived may not be reflected in it, so the
   * caller reads again. After {@link JOIN_ROUNDS} such rounds, so that a storm of invalidations
   * cannot keep it waiting, it runs the function itself and stores nothing.
   */
  async #join(
    key: string,
    plan: ReadPlan,
    fn: Fn,
    thisArg: unknown,
    args: readonly unknown[],
    round: number,
    arrived: number,
  ): Promise<unknown> {
    const flight = this.#flights.get(key) as Flight;
    flight.joiners += 1;
    const outcome = await flight.promise;
    if (outcome.confirmedAt > arrived) return outcome.value;
    if (round >= JOIN_ROUNDS) return Reflect.apply(fn, thisArg, args);
    return this.#flights.has(key)
      ? this.#join(key, plan, fn, thisArg, args, round + 1, arrived)
      : this.#readOnce(key, plan, fn, thisArg, args, round + 1, arrived);
  }

  /**
   * Read-through of a synchronous function on a synchronous store: synchronous, unless the
   * function turns out to return a promise.
   */
  readSync(
    key: string,
    plan: ReadPlan,
    fn: Fn,
    thisArg: unknown,
    args: readonly unknown[],
    context: unknown,
    join = false,
  ): unknown {
    const { atomic, events } = this.#ctx;
    if (context !== undefined && events.has('lookup')) {
      events.emit('lookup', { source: plan.source, key, context });
    }
    // Only `getOrSet` joins: a wrapper of a synchronous function must stay synchronous.
    if (join && this.#flights.has(key)) {
      return this.#join(key, plan, fn, thisArg, args, 0, tick());
    }
    let raw = this.#readNow(key, plan.source);
    if (raw !== undefined && !isEntry(raw) && !isLease(raw))
      raw = this.#foreign(key, raw, plan.source);
    if (raw !== undefined && isEntry(raw)) {
      const value = this.#use(key, raw, plan, fn, thisArg, args);
      if (isThenable(value)) {
        throw new InvalidOptionError(
          'schema',
          '`schema` must validate synchronously when a synchronous function is cached on a synchronous store',
        );
      }
      if (value !== MISS) return value;
      // Deleted as unusable, or expired: see what the key holds now.
      raw = this.#readNow(key, plan.source);
    }
    if (events.has('miss')) events.emit('miss', { source: plan.source, key });
    // On a synchronous atomic store the lease is taken synchronously, before the function runs,
    // so the fill below is as safe as an asynchronous one. (A lease held by an asynchronous
    // computation elsewhere is left alone: a synchronous caller cannot wait for it.)
    let marker: string | undefined;
    if (atomic !== undefined && (raw === undefined || !isLease(raw))) {
      const candidate = newLease();
      try {
        const taken =
          raw === undefined
            ? atomic.setIfAbsent(key, candidate, this.#ctx.leaseTtlMs)
            : atomic.compareAndSet(key, raw, candidate, this.#ctx.leaseTtlMs);
        if (taken === true) marker = candidate;
      } catch (error) {
        this.#ctx.report('lease', key, error, plan.source);
      }
    }
    const started = performance.now();
    let value: unknown;
    try {
      value = Reflect.apply(fn, thisArg, args);
    } catch (error) {
      if (marker !== undefined) this.#dropLease(key, marker);
      throw error;
    }
    if (isThenable(value)) {
      // The function is async after all: it becomes a computation others can join, stored under
      // the lease if one was taken, else not stored (it ran unprotected).
      const start = marker === undefined ? COMPUTE_ONLY : { marker };
      return this.#start(key, start, plan, () => value, undefined, []).then((o) => o.value);
    }
    const text = this.#encode(key, value, plan, started);
    if (marker !== undefined && atomic !== undefined) {
      let filled = false;
      try {
        filled =
          text !== undefined &&
          atomic.compareAndSet(key, marker, text, this.#storeTtl(plan)) === true;
      } catch (error) {
        this.#ctx.report('set', key, error, plan.source);
      }
      if (!filled) this.#dropLease(key, marker);
      if (text !== undefined) this.#reportFill(key, plan, filled);
    } else if (text !== undefined && atomic === undefined) {
      this.#write(key, text, plan);
    }
    return value;
  }

  /** A synchronous store's text for a key; `undefined` when absent or failing (reported). */
  #readNow(key: string, source: EventSource): string | undefined {
    try {
      const got = this.#ctx.store.get(key);
      return typeof got === 'string' ? got : undefined;
    } catch (error) {
      this.#ctx.report('get', key, error, source);
      return undefined;
    }
  }

  /**
   * Marks computations and refreshes of keys matching `pattern` as overtaken by an invalidation:
   * they store nothing, and callers arriving from now on do not join them.
   */
  abandon(pattern: string): void {
    if (this.#flights.size === 0 && this.#refreshes.size === 0) return;
    const matches = createGlobMatcher(pattern);
    for (const [key, flight] of this.#flights) {
      if (matches(key)) {
        flight.stale = true;
        this.#flights.delete(key);
      }
    }
    for (const [key, refresh] of this.#refreshes) {
      if (matches(key)) refresh.stale = true;
    }
  }

  /** Decodes an entry; an unreadable one, or one failing the schema, is deleted and reported. */
  decode(key: string, raw: string, schema: ValueSchema | undefined, source: EventSource): unknown {
    const value = decodeEntry(raw, this.#ctx.serializer);
    if (value === UNREADABLE) return this.#discard(key, raw, 'unreadable entry', source);
    if (schema === undefined) return value;
    const checked = schema['~standard'].validate(value);
    const settle = (result: Awaited<typeof checked>) =>
      result.issues === undefined
        ? result.value
        : this.#discard(key, raw, `schema: ${result.issues[0]?.message ?? 'invalid'}`, source);
    return isThenable(checked) ? checked.then(settle) : settle(checked);
  }

  /**
   * What an entry read from the store is worth: its value (fresh, or stale within `staleMs`,
   * then refreshed in the background), or MISS. A fresh value may start an early refresh.
   */
  #use(
    key: string,
    raw: string,
    plan: ReadPlan,
    fn: Fn,
    thisArg: unknown,
    args: readonly unknown[],
  ): Maybe<unknown> {
    const expiresAt = entryExpiresAt(raw);
    if (!Number.isFinite(expiresAt))
      return this.#discard(key, raw, 'unreadable entry', plan.source);
    const now = Date.now();
    if (now >= expiresAt + plan.staleMs) return MISS;
    const value = this.decode(key, raw, plan.schema, plan.source);
    if (isThenable(value)) {
      return value.then((decoded) =>
        this.#accept(key, raw, decoded, expiresAt, now, plan, fn, thisArg, args),
      );
    }
    return this.#accept(key, raw, value, expiresAt, now, plan, fn, thisArg, args);
  }

  /** A decoded value's fate: a hit (maybe refreshed early), stale (refreshed), or MISS. */
  #accept(
    key: string,
    raw: string,
    decoded: unknown,
    expiresAt: number,
    now: number,
    plan: ReadPlan,
    fn: Fn,
    thisArg: unknown,
    args: readonly unknown[],
  ): unknown {
    if (decoded === MISS) return MISS;
    const { events } = this.#ctx;
    if (now >= expiresAt) {
      if (events.has('stale')) events.emit('stale', { source: plan.source, key });
      this.#refresh(key, raw, plan, fn, thisArg, args, 'stale');
    } else {
      if (events.has('hit')) events.emit('hit', { source: plan.source, key });
      // XFetch: recompute early with a probability that grows as expiry nears, scaled by how
      // long the value takes to compute, so hot keys do not all expire at once.
      if (
        plan.beta > 0 &&
        now - entryComputeMs(raw) * plan.beta * Math.log(Math.random()) >= expiresAt
      ) {
        this.#refresh(key, raw, plan, fn, thisArg, args, 'early');
      }
    }
    return decoded;
  }

  #start(
    key: string,
    seen: Start,
    plan: ReadPlan,
    fn: Fn,
    thisArg: unknown,
    args: readonly unknown[],
  ): Promise<Outcome> {
    const flight: Flight = {
      promise: Promise.resolve({ value: undefined, confirmedAt: UNCONFIRMED }),
      stale: false,
      joiners: 0,
    };
    flight.promise = this.#compute(key, seen, plan, fn, thisArg, args, flight);
    this.#flights.set(key, flight);
    return flight.promise;
  }

  async #compute(
    key: string,
    seen: Start,
    plan: ReadPlan,
    fn: Fn,
    thisArg: unknown,
    args: readonly unknown[],
    flight: Flight,
  ): Promise<Outcome> {
    // Let the caller register the flight before anything else happens.
    await undefined;
    try {
      if (seen === COMPUTE_ONLY) return await this.#computeOnly(fn, thisArg, args, flight);
      if (typeof seen === 'object') {
        return await this.#computeLeased(key, seen.marker, plan, fn, thisArg, args, flight);
      }
      const { atomic, events, leaseWaitMs } = this.#ctx;
      if (atomic === undefined)
        return await this.#computeAndSet(key, plan, fn, thisArg, args, flight);
      const waitUntil = Date.now() + leaseWaitMs;
      // `seen` has been judged by the caller already; text read again here is judged anew.
      let current = seen;
      let reread = false;
      let readAt = UNCONFIRMED;
      let delay = 2;
      let waiting = false;
      for (;;) {
        if (current !== undefined && isLease(current)) {
          if (Date.now() >= waitUntil) return await this.#computeOnly(fn, thisArg, args, flight);
          if (!waiting && events.has('wait')) events.emit('wait', { source: plan.source, key });
          waiting = true;
          await sleep(delay);
          delay = Math.min(delay * 2, 25);
          readAt = tick();
          current = await this.#get(key, plan.source);
          reread = true;
          continue;
        }
        if (reread && current !== undefined && isEntry(current)) {
          let value = this.#use(key, current, plan, fn, thisArg, args);
          if (isThenable(value)) value = await value;
          if (value !== MISS) return { value, confirmedAt: readAt };
        }
        const marker = newLease();
        let acquired: boolean;
        try {
          const expected = current;
          acquired = await this.#ctx.guard.run(() =>
            expected === undefined
              ? atomic.setIfAbsent(key, marker, this.#ctx.leaseTtlMs)
              : atomic.compareAndSet(key, expected, marker, this.#ctx.leaseTtlMs),
          );
        } catch (error) {
          this.#ctx.report('lease', key, error, plan.source);
          // A request that timed out may still reach the store (a socket buffer, the client's
          // offline queue) and leave a lease nobody holds.
          this.#dropLease(key, marker);
          return await this.#computeOnly(fn, thisArg, args, flight);
        }
        if (acquired)
          return await this.#computeLeased(key, marker, plan, fn, thisArg, args, flight);
        readAt = tick();
        current = await this.#get(key, plan.source);
        reread = true;
      }
    } finally {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    }
  }

  /** Computes holding the lease `marker`, then replaces the marker with the value if it is still there. */
  async #computeLeased(
    key: string,
    marker: string,
    plan: ReadPlan,
    fn: Fn,
    thisArg: unknown,
    args: readonly unknown[],
    flight: Flight,
  ): Promise<Outcome> {
    const { atomic, guard, leaseTtlMs, leaseWaitMs } = this.#ctx as ReaderContext & {
      atomic: AtomicStore;
    };
    // A long computation keeps its lease, extended by token every half lease, but not beyond
    // the time others wait for it (`lease.wait`): a hung function must not hold a key forever.
    const extendUntil = Date.now() + Math.max(leaseWaitMs, leaseTtlMs);
    const extender = setInterval(() => {
      if (Date.now() > extendUntil) {
        clearInterval(extender);
        return;
      }
      attempt(() => guard.run(() => atomic.compareAndSet(key, marker, marker, leaseTtlMs)), noop);
    }, leaseTtlMs / 2);
    extender.unref?.();
    const started = performance.now();
    let value: unknown;
    try {
      value = await Reflect.apply(fn, thisArg, args);
    } catch (error) {
      clearInterval(extender);
      this.#dropLease(key, marker);
      throw error;
    }
    clearInterval(extender);
    const text = this.#encodeUnlessOvertaken(key, value, plan, started, flight);
    if (text === undefined) {
      if (flight.stale || flight.joiners === 0) {
        this.#dropLease(key, marker);
        return { value, confirmedAt: UNCONFIRMED };
      }
      // Not stored (`shouldCache` declined, or the value cannot be encoded), yet callers joined:
      // the value may be shared only if no invalidation removed the lease meanwhile, which the
      // lease's own removal tells.
      const sentAt = tick();
      const kept = await this.#dropLeaseAndTell(key, marker);
      return { value, confirmedAt: kept && !flight.stale ? sentAt : UNCONFIRMED };
    }
    let filled = false;
    const sentAt = tick();
    try {
      filled = await guard.run(() => atomic.compareAndSet(key, marker, text, this.#storeTtl(plan)));
    } catch (error) {
      this.#ctx.report('set', key, error, plan.source);
      // The fill may still land late; if it does not, the lease must not outlive it.
      this.#dropLease(key, marker);
      return { value, confirmedAt: UNCONFIRMED };
    }
    this.#reportFill(key, plan, filled);
    return { value, confirmedAt: filled ? sentAt : UNCONFIRMED };
  }

  /**
   * Removes this caller's lease if it is still there, best effort and bypassing the breaker: a
   * lease nobody holds would make every caller of the key wait `lease.wait`. Sent on the same
   * connection as the earlier requests, it also runs after any of them that land late.
   */
  #dropLease(key: string, marker: string): void {
    this.#dropLeaseAndTell(key, marker);
  }

  /**
   * {@link #dropLease}, answering whether the lease was still there (`false` also when the store
   * failed or took longer than `timeout`).
   */
  #dropLeaseAndTell(key: string, marker: string): Maybe<boolean> {
    const atomic = this.#ctx.atomic;
    if (atomic === undefined) return false;
    return attempt(
      () => this.#ctx.guard.bound(() => atomic.compareAndDelete(key, marker)),
      () => false,
    );
  }

  /**
   * Computes without storing (the store is failing, or another process's lease outlived the
   * wait). With leases, the value is never "confirmed": nothing checked it against invalidations
   * made by other processes, so callers that joined read again.
   */
  async #computeOnly(
    fn: Fn,
    thisArg: unknown,
    args: readonly unknown[],
    flight: Flight,
  ): Promise<Outcome> {
    const value = await Reflect.apply(fn, thisArg, args);
    return {
      value,
      confirmedAt: this.#ctx.atomic === undefined && !flight.stale ? ALWAYS : UNCONFIRMED,
    };
  }

  /** Without an atomic store: compute, then store unless an invalidation in this process overtook it. */
  async #computeAndSet(
    key: string,
    plan: ReadPlan,
    fn: Fn,
    thisArg: unknown,
    args: readonly unknown[],
    flight: Flight,
  ): Promise<Outcome> {
    const started = performance.now();
    const value = await Reflect.apply(fn, thisArg, args);
    const text = this.#encodeUnlessOvertaken(key, value, plan, started, flight);
    if (text !== undefined) await this.#write(key, text, plan);
    return { value, confirmedAt: flight.stale ? UNCONFIRMED : ALWAYS };
  }

  /**
   * Recomputes a stale (or soon stale) entry in the background, once in this process. With an
   * atomic store, the refresher first claims the entry by rewriting it with a later logical expiry
   * (compare-and-set against what it read), so other processes keep serving it instead of
   * refreshing too; the new value then replaces the claimed entry only if it is still there, so
   * an invalidation meanwhile wins. A failing refresh leaves the stale value in place and is
   * reported.
   */
  #refresh(
    key: string,
    raw: string,
    plan: ReadPlan,
    fn: Fn,
    thisArg: unknown,
    args: readonly unknown[],
    reason: 'stale' | 'early',
  ): void {
    if (this.#refreshes.has(key) || this.#flights.has(key)) return;
    const job: Refresh = { stale: false };
    this.#refreshes.set(key, job);
    const { atomic, events, guard, leaseTtlMs, store } = this.#ctx;
    if (events.has('refresh')) events.emit('refresh', { source: plan.source, key, reason });
    const run = async () => {
      let current = raw;
      if (atomic !== undefined) {
        // A stale entry keeps its remaining time (the grace does not grow); a fresh one, refreshed
        // early, must outlive the refresh, or the refresh would find it gone.
        const expiresAt = entryExpiresAt(raw);
        const claim = withExpiresAt(raw, Math.max(expiresAt, Date.now() + leaseTtlMs));
        const keep =
          reason === 'stale'
            ? undefined
            : Math.max(0, expiresAt - Date.now()) + plan.staleMs + leaseTtlMs;
        if (!(await guard.run(() => atomic.compareAndSet(key, raw, claim, keep)))) return;
        current = claim;
      }
      const started = performance.now();
      const value = await Reflect.apply(fn, thisArg, args);
      const text = job.stale ? undefined : this.#encode(key, value, plan, started);
      if (text === undefined) return;
      const ttl = this.#storeTtl(plan);
      if (atomic === undefined) {
        await guard.run(() => store.set(key, text, ttl));
        this.#reportFill(key, plan, true);
      } else {
        this.#reportFill(
          key,
          plan,
          await guard.run(() => atomic.compareAndSet(key, current, text, ttl)),
        );
      }
    };
    run()
      .catch((error) => this.#ctx.report('refresh', key, error, plan.source))
      .finally(() => {
        if (this.#refreshes.get(key) === job) this.#refreshes.delete(key);
      });
  }

  #reportFill(key: string, plan: ReadPlan, filled: boolean): void {
    const { events } = this.#ctx;
    if (filled) {
      if (events.has('set')) events.emit('set', { source: plan.source, key, ttlMs: plan.ttlMs });
    } else if (events.has('skip')) {
      events.emit('skip', {
        source: plan.source,
        key,
        reason: 'lease lost while computing (invalidated, or expired)',
      });
    }
  }

  /** Stored text for a computed value, or `undefined` (with a `skip` event) if an invalidation in this instance overtook it. */
  #encodeUnlessOvertaken(
    key: string,
    value: unknown,
    plan: ReadPlan,
    started: number,
    flight: Flight,
  ): string | undefined {
    if (!flight.stale) return this.#encode(key, value, plan, started);
    const { events } = this.#ctx;
    if (events.has('skip')) {
      events.emit('skip', { source: plan.source, key, reason: 'invalidated while computing' });
    }
    return undefined;
  }

  /** Stored text for a computed value, or `undefined` if `shouldCache` declines or it cannot be encoded. */
  #encode(key: string, value: unknown, plan: ReadPlan, started: number): string | undefined {
    const { events } = this.#ctx;
    if (plan.shouldCache !== undefined && !(plan.shouldCache as (v: unknown) => boolean)(value)) {
      if (events.has('skip'))
        events.emit('skip', { source: plan.source, key, reason: 'shouldCache returned false' });
      return undefined;
    }
    const ttlMs = plan.jitter > 0 ? plan.ttlMs * (1 - plan.jitter * Math.random()) : plan.ttlMs;
    try {
      return encodeEntry(
        value,
        { expiresAt: Date.now() + ttlMs, computeMs: performance.now() - started },
        this.#ctx.serializer,
      );
    } catch (error) {
      this.#ctx.report('serialize', key, new SerializationError(key, error), plan.source);
      return undefined;
    }
  }

  /** How long the store keeps an entry: its TTL plus the stale grace. */
  #storeTtl(plan: ReadPlan): number {
    return plan.ttlMs + plan.staleMs;
  }

  /** Plain write (stores without atomic writes, synchronous fills); failures are reported. */
  #write(key: string, text: string, plan: ReadPlan): Maybe<void> {
    const ttl = this.#storeTtl(plan);
    try {
      const done = this.#ctx.guard.run(() => this.#ctx.store.set(key, text, ttl));
      if (!isThenable(done)) {
        this.#reportFill(key, plan, true);
        return;
      }
      return done.then(
        () => this.#reportFill(key, plan, true),
        (error) => this.#ctx.report('set', key, error, plan.source),
      );
    } catch (error) {
      this.#ctx.report('set', key, error, plan.source);
    }
  }

  /** Raw text of a key; `undefined` when absent and when the store fails (reported). */
  async #get(key: string, source: EventSource): Promise<string | undefined> {
    try {
      const raw = await this.#ctx.guard.get(this.#ctx.store, key);
      return typeof raw === 'string' ? raw : undefined;
    } catch (error) {
      this.#ctx.report('get', key, error, source);
      return undefined;
    }
  }

  /** Text under our key that is neither an entry nor a lease: deleted and reported; now absent. */
  #foreign(key: string, raw: string, source: EventSource): undefined {
    this.#discard(key, raw, 'not a cache entry', source);
    return undefined;
  }

  /** Deletes an unusable entry (only if it is still the same text) and reports it; returns MISS. */
  #discard(key: string, raw: string, reason: string, source: EventSource): typeof MISS {
    const { atomic, events, guard, store } = this.#ctx;
    if (events.has('invalid')) events.emit('invalid', { source, key, reason });
    try {
      const removal = guard.run(() =>
        atomic === undefined ? store.delete(key) : atomic.compareAndDelete(key, raw),
      );
      if (isThenable(removal))
        removal.then(undefined, (error) => this.#ctx.report('delete', key, error, source));
    } catch (error) {
      this.#ctx.report('delete', key, error, source);
    }
    return MISS;
  }
}
