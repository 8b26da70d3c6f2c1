/**
 * Leases over the store's atomic writes: the one caller computing a missing key writes a lease
 * marker into the key itself (`SET key <\x02token> NX PX`) before its function runs, keeps it
 * alive while computing, and replaces it with the value only if it is still there
 * (compare-and-set). An invalidation meanwhile deletes the marker like any matching key, so a
 * value computed before an invalidation is never written after it. Callers elsewhere that find
 * the marker wait for the value, with backoff, up to `lease.wait`.
 */
import { randomBytes } from 'node:crypto';
import { isEntry, isLease, LEASE_MARK } from '../../codec/index.js';
import {
  type AtomicStore,
  type BatchOperation,
  type LeasingReadStore,
  leasingReadOf,
  type Store,
} from '../../stores/store.js';
import { attempt, isThenable } from '../../util/maybe-promise.js';
import { HeldFills } from './batch.js';
import {
  type Maybe,
  MIN_EXTENSION_MS,
  type ReadCall,
  type ReadServices,
  trackTtlMs,
} from './call.js';
import { tick } from './flights.js';
import { MISS, textOf } from './verdict.js';

/** How a caller gets to compute a key. */
export type Acquired =
  /** It holds the lease `marker`: compute, then fill. */
  | { readonly kind: 'leased'; readonly marker: string }
  /** Another caller's value arrived while waiting, read by a GET sent at tick `readAt`. */
  | { readonly kind: 'value'; readonly value: unknown; readonly readAt: number }
  /** No lease (the wait ran out, or the store failed): compute and store nothing. */
  | { readonly kind: 'alone' };

const ALONE: Acquired = { kind: 'alone' };

/** A lease kept alive while its holder computes, until `extendUntil` (ms) at most. */
interface HeldLease {
  readonly key: string;
  readonly marker: string;
  readonly extendUntil: number;
}

/**
 * What a leasing read found (see {@link Leases.readOrLease}): the key's text, or the lease it took
 * when the key was absent, or, when the lease could not be made safe, neither (`alone`).
 */
export class LeaseRead {
  /** The text the key held, when it was present. */
  readonly raw: string | undefined;
  /** Whether the read took the key's lease (the key was absent). */
  readonly leased: boolean;
  /** The key was absent but its lease is not usable: compute and store nothing. */
  readonly alone: boolean;
  #marker: string | undefined;

  constructor(raw: string | undefined, marker: string | undefined, alone = false) {
    this.raw = raw;
    this.#marker = marker;
    this.leased = marker !== undefined;
    this.alone = alone;
  }

  /**
   * The lease taken, to the first caller that asks (callers sharing the read join its
   * computation); `undefined` after, or when no lease was taken.
   */
  take(): string | undefined {
    const marker = this.#marker;
    this.#marker = undefined;
    return marker;
  }
}

const ALONE_READ = new LeaseRead(undefined, undefined, true);
/** A value no lease or entry ever holds: the permission probe's compare never matches. */
const PROBE = 'quickpost-cache permission probe';
const noop = () => undefined;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * What makes this process's lease markers its own: 96 random bits, drawn once. (Drawing them per
 * marker cost a miss 5 µs or more: `randomBytes` asks the operating system each time.)
 */
const PROCESS_TOKEN = randomBytes(12).toString('base64url');
let markers = 0;

/**
 * A new lease marker: the lease mark, this process's random token and a counter, so no two
 * markers are alike in any process (a fill or release compares the whole marker).
 */
function newMarker(): string {
  markers += 1;
  return LEASE_MARK + PROCESS_TOKEN + markers.toString(36);
}

/** Leases on one cache's store. */
export class Leases {
  readonly #services: ReadServices;
  readonly #atomic: Store & AtomicStore;
  readonly #onRefused: (error: unknown) => void;
  /** Whether the store lets us run its atomic writes, once asked (see {@link #permitted}). */
  #permission: Promise<boolean> | undefined;
  /** The store's leasing read, used once the store let us take a lease. */
  readonly #leasingRead: (Store & LeasingReadStore) | undefined;
  /** Set once the permission probe answered yes. */
  #allowed = false;
  /** The fills of one tick, sent together, when the store batches. */
  readonly #fills: HeldFills | undefined;
  /** The leases held while their functions run (see {@link keepAlive}). */
  readonly #held = new Set<HeldLease>();
  /** The timer that extends them, while one runs. */
  #keeper: ReturnType<typeof setInterval> | undefined;

  /**
   * `onRefused` is called once if the store refuses the atomic writes for lack of permission
   * (a Redis ACL user without EVAL/EVALSHA): the cache then goes on without leases.
   */
  constructor(
    services: ReadServices,
    atomic: Store & AtomicStore,
    onRefused: (error: unknown) => void,
  ) {
    this.#services = services;
    this.#atomic = atomic;
    this.#onRefused = onRefused;
    this.#leasingRead = leasingReadOf(atomic);
    this.#fills =
      services.batching === undefined
        ? undefined
        : new HeldFills(services, services.batching, atomic);
  }

  /** Whether a read may take the lease of an absent key at once (the store can, and lets us). */
  get leaseOnRead(): boolean {
    return this.#allowed && this.#leasingRead !== undefined;
  }

  /**
   * Reads `call.key`, taking its lease if it is absent, with the key tracked in the store's index
   * in the same round trip: a miss then costs one round trip before the function runs instead of
   * two. As with {@link acquire}, a lease counts only once the key is tracked (else it is
   * released and the caller computes alone). Use only while {@link leaseOnRead}.
   */
  readOrLease(call: ReadCall): Promise<LeaseRead> {
    const { key, plan } = call;
    const services = this.#services;
    const leasing = this.#leasingRead as Store & LeasingReadStore;
    const marker = newMarker();
    let tracked: Maybe<unknown>;
    try {
      tracked = services.track(key, trackTtlMs(services, plan));
    } catch (error) {
      tracked = Promise.reject(error);
    }
    let read: Maybe<string | null | undefined>;
    try {
      read = services.guard.run(() => leasing.getOrLease(key, marker, services.leaseTtlMs));
    } catch (error) {
      read = Promise.reject(error);
    }
    return this.leaseRead(call, marker, read, tracked);
  }

  /**
   * A leasing read of `call.key` to send in a batch: a new lease marker, and the operations: the
   * key's index record (when the store keeps an index), then the read that takes the lease if the
   * key is absent. Their answers go to {@link leaseRead}. Use only while {@link leaseOnRead}.
   */
  leasingRead(
    call: ReadCall,
    indexed: boolean,
  ): { readonly marker: string; readonly operations: readonly BatchOperation[] } {
    const { key, plan } = call;
    const services = this.#services;
    const marker = newMarker();
    const read: BatchOperation = {
      op: 'getOrLease',
      key,
      lease: marker,
      ttlMs: services.leaseTtlMs,
    };
    return {
      marker,
      operations: indexed
        ? [{ op: 'track', key, ttlMs: trackTtlMs(services, plan) }, read]
        : [read],
    };
  }

  /**
   * What a leasing read that offered the lease `marker` found, from its answers: `read`, the
   * key's text or absence, and `tracked`, the key's index record (a hit does not wait for it).
   */
  leaseRead(
    call: ReadCall,
    marker: string,
    read: Maybe<string | null | undefined>,
    tracked: Maybe<unknown>,
  ): Promise<LeaseRead> {
    const { key, plan } = call;
    const services = this.#services;
    // Awaited only if the lease is taken; a hit does not wait for it.
    const recorded = Promise.resolve(tracked);
    recorded.catch(noop);
    return Promise.resolve(read).then(
      (raw) => {
        const text = textOf(raw);
        if (text !== undefined) return new LeaseRead(text, undefined);
        return recorded.then(
          () => new LeaseRead(undefined, marker),
          (error: unknown) => {
            services.report('lease', key, error, plan.source);
            this.release(key, marker);
            return ALONE_READ;
          },
        );
      },
      (error: unknown) => {
        // A request that timed out may still take the lease: it must not outlive this call.
        this.release(key, marker);
        throw error;
      },
    );
  }

  /**
   * Asks the store once, before the first lease, whether it lets us run its atomic writes: a
   * compare-and-delete that cannot match anything. Without the probe, a lease taken with a plain
   * `SET NX` could neither be filled nor released, and every caller of the key would wait.
   */
  #permitted(key: string): Promise<boolean> {
    this.#permission ??= Promise.resolve()
      .then(() => this.#services.guard.bound(() => this.#atomic.compareAndDelete(key, PROBE)))
      .then(
        () => {
          this.#allowed = true;
          return true;
        },
        (error: unknown) => {
          if (isPermissionError(error)) {
            this.#onRefused(error);
            return false;
          }
          // Unreachable or slow: ask again next time; the lease request will fail on its own.
          this.#permission = undefined;
          return true;
        },
      );
    return this.#permission;
  }

  /**
   * Takes the lease of `call.key`, starting from what the caller read (`seen`: `undefined` when
   * absent, a lease marker, or an expired or foreign text to replace). While another caller holds
   * it, polls for its value with backoff until `lease.wait` has passed. `accept` judges an entry
   * read meanwhile: its value, or MISS (expired, unreadable).
   */
  async acquire(
    call: ReadCall,
    seen: string | undefined,
    accept: (raw: string) => Maybe<unknown>,
  ): Promise<Acquired> {
    const { events, guard, leaseTtlMs, leaseWaitMs } = this.#services;
    const { key, plan } = call;
    const atomic = this.#atomic;
    if (!(await this.#permitted(key))) return ALONE;
    call.waitUntil ??= Date.now() + leaseWaitMs;
    const waitUntil = call.waitUntil;
    let current = seen;
    let reread = false;
    let readAt = 0;
    let delay = 2;
    let waiting = false;
    for (;;) {
      if (current !== undefined && isLease(current)) {
        if (Date.now() >= waitUntil) return ALONE;
        if (!waiting && events.has('wait')) events.emit('wait', { source: plan.source, key });
        waiting = true;
        await sleep(delay);
        delay = Math.min(delay * 2, 25);
      } else {
        if (reread && current !== undefined && isEntry(current)) {
          let value = accept(current);
          if (isThenable(value)) value = await value;
          if (value !== MISS) return { kind: 'value', value, readAt };
        }
        // Taking the lease keeps failing while no lease is seen (keys expiring, or replaced by
        // other writers): bounded by the same wait.
        if (reread && Date.now() >= waitUntil) return ALONE;
        const marker = newMarker();
        const expected = current;
        let taken: boolean;
        try {
          // The key goes into the index in the same round trip as the lease, and the function
          // runs only once both are confirmed: an invalidation that reads the index before the
          // key is in it started earlier still, so the data the function reads is already new.
          // That holds whichever Cluster slots the index and the key live in.
          [, taken] = await Promise.all([
            this.#services.track(key, trackTtlMs(this.#services, plan)),
            guard.run(() =>
              expected === undefined
                ? atomic.setIfAbsent(key, marker, leaseTtlMs)
                : atomic.compareAndSet(key, expected, marker, leaseTtlMs),
            ),
          ]);
        } catch (error) {
          if (isPermissionError(error)) this.#onRefused(error);
          this.#services.report('lease', key, error, plan.source);
          // A request that timed out may still reach the store (a socket buffer, the client's
          // offline queue) and leave a lease nobody holds.
          this.release(key, marker);
          return ALONE;
        }
        if (taken) return { kind: 'leased', marker };
      }
      readAt = tick();
      try {
        current = textOf(await guard.get(this.#services.store, key));
      } catch (error) {
        // A store that fails to answer gets no more lease requests: compute alone.
        this.#services.report('get', key, error, plan.source);
        return ALONE;
      }
      reread = true;
    }
  }

  /**
   * Keeps a lease alive while its holder computes: extended by token every third of `lease.ttl`
   * (so one late extension does not lose it), for at most the longest of `lease.ttl`,
   * `lease.wait` and 10 s, so a hung function cannot hold a key forever. A holder that dies
   * stops extending: its lease is gone within `lease.ttl`. Returns the function that stops it.
   *
   * One timer extends every lease held (a timer made and cleared per computation cost a miss
   * about 1.5 µs); it stops at the first tick that finds no lease held.
   */
  keepAlive(key: string, marker: string): () => void {
    const { leaseTtlMs, leaseWaitMs } = this.#services;
    const held: HeldLease = {
      key,
      marker,
      extendUntil: Date.now() + Math.max(leaseWaitMs, leaseTtlMs, MIN_EXTENSION_MS),
    };
    this.#held.add(held);
    if (this.#keeper === undefined) {
      this.#keeper = setInterval(() => this.#extendHeld(), leaseTtlMs / 3);
      this.#keeper.unref?.();
    }
    return () => {
      this.#held.delete(held);
    };
  }

  /** Extends every lease held, dropping those held too long; stops the timer when none is held. */
  #extendHeld(): void {
    if (this.#held.size === 0) {
      clearInterval(this.#keeper);
      this.#keeper = undefined;
      return;
    }
    const { guard, leaseTtlMs } = this.#services;
    const atomic = this.#atomic;
    const now = Date.now();
    for (const held of this.#held) {
      if (now > held.extendUntil) {
        this.#held.delete(held);
        continue;
      }
      const { key, marker } = held;
      attempt(() => guard.run(() => atomic.compareAndSet(key, marker, marker, leaseTtlMs)), noop);
    }
  }

  /** Replaces the lease with the value if the lease is still there; throws what the store throws. */
  fill(key: string, marker: string, text: string, ttlMs: number): Maybe<boolean> {
    return attempt(
      () => this.#services.guard.run(() => this.#atomic.compareAndSet(key, marker, text, ttlMs)),
      (error) => this.#fillFailed(error),
    );
  }

  /**
   * {@link fill}, for a computation that awaits it: on a store that batches, sent at the end of
   * the tick with the other fills of the tick (see `HeldFills`), and `sent` is called once it is
   * handed to the store (which applies it before anything handed to it later), or refused before
   * it (then only its error is left).
   */
  fillSoon(
    key: string,
    marker: string,
    text: string,
    ttlMs: number,
    sent: () => void,
  ): Promise<boolean> {
    const fills = this.#fills;
    if (fills === undefined) return Promise.resolve(this.fill(key, marker, text, ttlMs));
    return fills.compareAndSet(key, marker, text, ttlMs, sent).then(
      (filled) => filled === true,
      (error: unknown) => this.#fillFailed(error),
    );
  }

  /** A fill failed: a permission error turns leases off; the error goes on to the caller. */
  #fillFailed(error: unknown): never {
    if (isPermissionError(error)) this.#onRefused(error);
    throw error;
  }

  /**
   * Removes this caller's lease if it is still there, best effort, outside the breaker and within
   * `timeout`: a lease nobody holds would make every caller of the key wait `lease.wait`. Sent on
   * the same connection as the earlier requests, it also runs after any of them that land late.
   */
  release(key: string, marker: string): void {
    this.releaseAndTell(key, marker);
  }

  /** {@link release}, answering whether the lease was still there (`false` when unsure). */
  releaseAndTell(key: string, marker: string): Maybe<boolean> {
    return attempt(
      () => this.#services.guard.bound(() => this.#atomic.compareAndDelete(key, marker)),
      () => false,
    );
  }

  /**
   * Takes a lease synchronously on a synchronous store, replacing what the caller read (`seen`);
   * the marker, or `undefined` when another caller holds the key or the store failed (reported).
   */
  takeNow(call: ReadCall, seen: string | undefined): string | undefined {
    const marker = newMarker();
    const { key, plan } = call;
    const { leaseTtlMs } = this.#services;
    try {
      this.#services.track(key, trackTtlMs(this.#services, plan));
      const taken =
        seen === undefined
          ? this.#atomic.setIfAbsent(key, marker, leaseTtlMs)
          : this.#atomic.compareAndSet(key, seen, marker, leaseTtlMs);
      return taken === true ? marker : undefined;
    } catch (error) {
      this.#services.report('lease', key, error, plan.source);
      return undefined;
    }
  }
}

/** A Redis `NOPERM` reply: the connection's ACL user may not run the command. */
function isPermissionError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOPERM');
}
