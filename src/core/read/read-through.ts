/**
 * Read-through, the orchestrator: a hit is one store read, judged and decoded; a miss joins the
 * computation of the key already in flight in this instance (flights.ts), or takes the key's
 * lease (lease.ts), runs the function and fills; an entry past its TTL within the stale grace is
 * served while it is refreshed (refresh.ts).
 */
import { entryComputeMs, entryExpiresAt, isLease } from '../../codec/index.js';
import { InvalidOptionError, ReentrantCallError } from '../../errors.js';
import { createGlobMatcher } from '../../glob.js';
import { isThenable, within } from '../../util/maybe-promise.js';
import type { EventSource } from '../events.js';
import { NOT_KEPT } from '../tier.js';
import { sendReads } from './batch.js';
import { isComputing, type Maybe, type ReadCall, type ReadServices, runFunction } from './call.js';
import { UnsentReads } from './coalesce.js';
import { Filler } from './fill.js';
import { ALWAYS, type Flight, Flights, type Outcome, tick, vouchesFor } from './flights.js';
import { LeaseRead, Leases } from './lease.js';
import { PresentKeys } from './present.js';
import { Refresher } from './refresh.js';
import { MISS, reasonOf, State, stateOf, textOf, Verdicts } from './verdict.js';

/** How a computation starts. */
type Start =
  /** From what the caller read: absent, another caller's lease, or an entry to replace. */
  | { readonly kind: 'read'; readonly raw: string | undefined }
  /** With the lease already taken (a synchronous call whose function turned out async). */
  | {
      readonly kind: 'leased';
      readonly marker: string;
      /** When the function started (performance.now()), if it already runs. */
      readonly started?: number;
    }
  /** The read failed: compute and store nothing, so the caller waits one timeout at most. */
  | { readonly kind: 'unprotected' };

const ABSENT: Start = { kind: 'read', raw: undefined };
const UNPROTECTED: Start = { kind: 'unprotected' };
/** About how many keys {@link ReadThrough} remembers as present (to read them with a plain GET). */
const PRESENT_KEYS = 4096;

/** Read-through for one cache instance. */
export class ReadThrough {
  /** Decodes and judges stored text; also used by the manual `get`. */
  readonly verdicts: Verdicts;
  readonly #services: ReadServices;
  readonly #flights = new Flights();
  readonly #filler: Filler;
  /** Leases, while the store has atomic writes we may use (dropped if it refuses them). */
  #leases: Leases | undefined;
  readonly #refresher: Refresher;
  /** Reads held until the end of the tick; a read held with its call may take the key's lease. */
  readonly #unsent: UnsentReads<ReadCall>;
  /**
   * Keys this instance recently found or stored: a read of any other key is expected to miss,
   * and takes the lease at once if the store can.
   */
  readonly #present = new PresentKeys(PRESENT_KEYS);
  /** The fills sent and not yet answered by the store, by number. */
  readonly #filling = new Set<number>();
  #fills = 0;
  /** Each waiting for the fills that were pending when it began. */
  #fillWaiters: { readonly pending: Set<number>; readonly wake: () => void }[] = [];

  constructor(services: ReadServices) {
    this.#services = services;
    this.#unsent = new UnsentReads((reads) => sendReads(services, this.#leases, reads));
    this.verdicts = new Verdicts(services);
    this.#filler = new Filler(services);
    this.#leases =
      services.atomic === undefined
        ? undefined
        : new Leases(services, services.atomic, (error) => {
            if (this.#leases === undefined) return;
            this.#leases = undefined;
            services.leasesRefused(error);
          });
    this.#refresher = new Refresher(services, this.#filler);
  }

  /**
   * Read-through on any store, answering with a promise. Written as a `.then` chain rather than an
   * async function: a hit costs one bounded store read, one decode and one promise reaction.
   */
  read(call: ReadCall): Promise<unknown> {
    if (this.#services.bypass(call.key, call.plan.tags !== undefined)) return this.#bypass(call);
    const { tier } = this.#services;
    if (tier !== undefined && call.plan.l1) {
      const kept = tier.get(call.key);
      if (kept !== NOT_KEPT) {
        this.#emitHit(call);
        return Promise.resolve(kept);
      }
    }
    return this.#flights.get(call.key) === undefined ? this.#readOnce(call) : this.#join(call);
  }

  /**
   * Read-through of a synchronous function on a synchronous store: synchronous, unless the
   * function turns out to return a promise. Only `getOrSet` passes `join`: a wrapper of a
   * synchronous function must stay synchronous, so it never waits for another computation.
   */
  readSync(call: ReadCall, join = false): unknown {
    const { key, plan } = call;
    if (join && this.#flights.get(key) !== undefined) return this.#join(call);
    if (isComputing(key)) throw new ReentrantCallError(key, plan.source.name);
    if (this.#services.bypass(key, plan.tags !== undefined)) {
      this.#emitBypass(call);
      return runFunction(call);
    }
    const { tier } = this.#services;
    if (tier !== undefined && plan.l1) {
      const kept = tier.get(key);
      if (kept !== NOT_KEPT) {
        this.#emitHit(call);
        return kept;
      }
    }
    const since = tier?.begin();
    let raw = this.#readNow(key, plan.source);
    const state = stateOf(raw, plan.staleMs, Date.now());
    if (state === State.Fresh || state === State.Stale) {
      const value = this.#serve(call, raw as string, state, since);
      if (isThenable(value)) {
        throw new InvalidOptionError(
          'schema',
          '`schema` must validate synchronously when a synchronous function is cached on a synchronous store',
        );
      }
      if (value !== MISS) return value;
      // Deleted as unusable: see what the key holds now.
      raw = this.#readNow(key, plan.source);
    } else if (state === State.Unusable) {
      this.verdicts.discard(key, raw as string, reasonOf(raw as string), plan.source);
      raw = this.#readNow(key, plan.source);
    }
    this.#emitMiss(call);
    // On a synchronous atomic store the lease is taken synchronously, before the function runs,
    // so the fill below is as safe as an asynchronous one. A lease held by another computation is
    // left alone: a synchronous caller cannot wait for it, so it stores nothing.
    const leases = this.#leases;
    const marker =
      leases !== undefined && (raw === undefined || !isLease(raw))
        ? leases.takeNow(call, raw)
        : undefined;
    const started = performance.now();
    let value: unknown;
    try {
      value = runFunction(call);
    } catch (error) {
      if (marker !== undefined) leases?.release(key, marker);
      throw error;
    }
    if (isThenable(value)) {
      // The function is async after all: it becomes a computation others can join, stored under
      // the lease if one was taken.
      const pending = value;
      const continued: ReadCall = { ...call, fn: () => pending, thisArg: undefined, args: [] };
      // The function started here: a tag invalidated from now on concerns its value.
      const start: Start = marker === undefined ? UNPROTECTED : { kind: 'leased', marker, started };
      return this.#flights
        .start(key, (flight) => this.#compute(continued, start, flight), plan.tags !== undefined)
        .then((outcome) => outcome.value);
    }
    const text = this.#filler.encode(key, value, plan, started);
    if (leases !== undefined && marker !== undefined) {
      let filled = false;
      try {
        filled =
          text !== undefined &&
          this.#filler.admit(call, value, started) === true &&
          leases.fill(key, marker, text, this.#filler.storeTtl(plan)) === true;
      } catch (error) {
        this.#services.report('set', key, error, plan.source);
      }
      if (!filled) leases.release(key, marker);
      if (text !== undefined) this.#filler.reported(key, plan, filled);
    } else if (text !== undefined && leases === undefined) {
      this.#filler.write(call, text, value, started);
    }
    return value;
  }

  /**
   * Marks computations of values that may carry tags as overtaken by a tag invalidation: they
   * store nothing, and callers arriving from now on do not join them.
   */
  abandonTagged(): void {
    if (this.#flights.size > 0) this.#flights.abandon((_, flight) => flight.tagged);
  }

  /** Forgets that the keys a tag invalidation removed are present. */
  forget(keys: readonly string[]): void {
    if (this.#present.empty) return;
    for (const key of keys) this.#present.delete(key);
  }

  /**
   * Marks computations and refreshes of keys matching `pattern` as overtaken by an invalidation:
   * they store nothing, and callers arriving from now on do not join them.
   */
  abandon(pattern: string): void {
    if (this.#flights.size === 0 && this.#refresher.size === 0 && this.#present.empty) return;
    const matches = createGlobMatcher(pattern);
    this.#flights.abandon(matches);
    this.#refresher.abandon(matches);
    this.#present.deleteMatching(matches);
  }

  /** One store read and what follows from it. */
  #readOnce(call: ReadCall): Promise<unknown> {
    const since = this.#services.tier?.begin();
    const reply =
      this.#leases?.leaseOnRead === true && !this.#expectsHit(call.key)
        ? this.#unsent.read(call.key, call)
        : this.#unsent.read(call.key);
    return reply.then(
      (raw) =>
        raw instanceof LeaseRead
          ? this.#afterLeaseRead(call, raw, since)
          : this.#afterRead(call, textOf(raw), since),
      (error: unknown) => {
        this.#services.report('get', call.key, error, call.plan.source);
        return this.#miss(call, UNPROTECTED);
      },
    );
  }

  /** Whether `key` was found or stored lately, and its entry should still be there. */
  #expectsHit(key: string): boolean {
    const until = this.#present.until(key);
    return until !== undefined && until > Date.now();
  }

  /** Remembers that `key` holds an entry until `until` (ms); only while reads may lease. */
  #found(key: string, until: number): void {
    this.#present.set(key, until);
  }

  /** What a leasing read found: an entry (as a plain read), or the key's lease. */
  #afterLeaseRead(call: ReadCall, read: LeaseRead, since: number | undefined): unknown {
    if (!read.leased) {
      return read.alone ? this.#miss(call, UNPROTECTED) : this.#afterRead(call, read.raw, since);
    }
    const marker = read.take();
    // Callers that shared the read join the computation of the first one.
    if (marker === undefined) return this.#miss(call, ABSENT);
    if (this.#flights.get(call.key) !== undefined) {
      (this.#leases as Leases).release(call.key, marker);
      return this.#join(call);
    }
    return this.#miss(call, { kind: 'leased', marker });
  }

  #afterRead(call: ReadCall, raw: string | undefined, since: number | undefined): unknown {
    const state = stateOf(raw, call.plan.staleMs, Date.now());
    switch (state) {
      case State.Absent:
        this.#present.delete(call.key);
        return this.#miss(call, ABSENT);
      case State.Fresh:
      case State.Stale: {
        const value = this.#serve(call, raw as string, state, since);
        if (isThenable(value)) {
          return value.then((decoded) =>
            decoded === MISS ? this.#miss(call, { kind: 'read', raw }) : decoded,
          );
        }
        return value === MISS ? this.#miss(call, { kind: 'read', raw }) : value;
      }
      case State.Unusable:
        this.verdicts.discard(call.key, raw as string, reasonOf(raw as string), call.plan.source);
        return this.#miss(call, ABSENT);
      default:
        return this.#miss(call, { kind: 'read', raw });
    }
  }

  /**
   * The value of a fresh or stale entry for this call, or MISS when it is unusable (deleted). A
   * stale value starts a refresh; a fresh one may start an early refresh (XFetch).
   */
  #serve(call: ReadCall, raw: string, state: State, since?: number): Maybe<unknown> {
    const { key, plan } = call;
    const value = this.verdicts.decode(key, raw, plan.schema, plan.source);
    if (isThenable(value)) {
      return value.then((decoded) => this.#accept(call, raw, state, decoded, since));
    }
    return this.#accept(call, raw, state, value, since);
  }

  /**
   * A decoded value's fate: a hit (kept in the tier when read fresh by a read sent at `since`,
   * and maybe refreshed early), stale (refreshed), or MISS.
   */
  #accept(call: ReadCall, raw: string, state: State, decoded: unknown, since?: number): unknown {
    if (decoded === MISS) return MISS;
    const { key, plan } = call;
    const { events, tier } = this.#services;
    if (since !== undefined && tier !== undefined && plan.l1 && state === State.Fresh) {
      tier.keep(key, since, decoded, raw, entryExpiresAt(raw));
    }
    if (this.#leases?.leaseOnRead === true) this.#found(key, entryExpiresAt(raw) + plan.staleMs);
    if (state === State.Stale) {
      if (events.has('stale')) events.emit('stale', { source: plan.source, key });
      if (this.#flights.get(key) === undefined) this.#refresher.start(call, raw, 'stale');
    } else {
      if (events.has('hit')) events.emit('hit', { source: plan.source, key });
      // XFetch: recompute early with a probability that grows as expiry nears, scaled by how
      // long the value takes to compute, so hot keys do not all expire at once.
      if (plan.beta > 0 && this.#flights.get(key) === undefined && xfetchDue(raw, plan.beta)) {
        this.#refresher.start(call, raw, 'early');
      }
    }
    return decoded;
  }

  /** Nothing usable was read: join a computation that started meanwhile, or start one. */
  #miss(call: ReadCall, start: Start): Promise<unknown> {
    if (this.#flights.get(call.key) !== undefined) return this.#join(call);
    call.waitUntil ??= Date.now() + this.#services.leaseWaitMs;
    this.#emitMiss(call);
    return this.#flights
      .start(call.key, (flight) => this.#compute(call, start, flight), call.plan.tags !== undefined)
      .then((outcome) => outcome.value);
  }

  /**
   * Waits for the computation in flight and takes its value only if it vouches for this caller
   * (see flights.ts); otherwise reads again (once more at most: a computation found then started
   * after the one joined here ended, so after this caller arrived, and every tick it can vouch
   * with is later still). It waits `lease.wait` in all (counted from its first miss), then runs
   * the function itself and stores nothing: a computation that takes longer, or one that waits
   * for this very call (a function that called itself after an await), must not hold it.
   */
  async #join(call: ReadCall): Promise<unknown> {
    if (isComputing(call.key)) throw new ReentrantCallError(call.key, call.plan.source.name);
    const flight = this.#flights.get(call.key) as Flight;
    flight.joiners += 1;
    call.waitUntil ??= Date.now() + this.#services.leaseWaitMs;
    const waited = await within(flight.answered, call.waitUntil - Date.now());
    if (!waited.settled) return runFunction(call);
    if (vouchesFor(waited.value, call.arrived)) return waited.value.value;
    return this.#flights.get(call.key) === undefined ? this.#readOnce(call) : this.#join(call);
  }

  async #compute(call: ReadCall, start: Start, flight: Flight): Promise<Outcome> {
    if (start.kind === 'unprotected') return this.#alone(call, flight);
    if (start.kind === 'leased') {
      return this.#computeLeased(call, start.marker, flight, start.started);
    }
    if (this.#leases === undefined) return this.#computeAndSet(call, flight);
    const acquired = await this.#leases.acquire(call, start.raw, (raw) => this.#reuse(call, raw));
    if (acquired.kind === 'value') return { value: acquired.value, confirmedAt: acquired.readAt };
    if (acquired.kind === 'leased') return this.#computeLeased(call, acquired.marker, flight);
    // Leases were just turned off (the store refused their atomic writes): cache lease-free.
    if (this.#leases === undefined) return this.#computeAndSet(call, flight);
    return this.#alone(call, flight);
  }

  /** An entry read while waiting for another caller's lease: its value, or MISS. */
  #reuse(call: ReadCall, raw: string): Maybe<unknown> {
    const state = stateOf(raw, call.plan.staleMs, Date.now());
    if (state === State.Fresh || state === State.Stale) return this.#serve(call, raw, state);
    if (state === State.Unusable) {
      return this.verdicts.discard(call.key, raw, reasonOf(raw), call.plan.source);
    }
    return MISS;
  }

  /** Computes holding the lease `marker`, then replaces the marker with the value if it is still there. */
  async #computeLeased(
    call: ReadCall,
    marker: string,
    flight: Flight,
    startedBefore?: number,
  ): Promise<Outcome> {
    const leases = this.#leases as Leases;
    const { key, plan } = call;
    const stop = leases.keepAlive(key, marker);
    const started = startedBefore ?? performance.now();
    const startedAt = tick();
    let value: unknown;
    try {
      value = await runFunction(call);
    } catch (error) {
      stop();
      leases.release(key, marker);
      throw error;
    }
    stop();
    const text = this.#filler.encodeUnlessOvertaken(key, value, plan, started, flight.overtaken);
    if (text === undefined) {
      if (flight.overtaken || flight.joiners === 0) {
        leases.release(key, marker);
        return { value, confirmedAt: startedAt };
      }
      // Not stored (`shouldCache` declined, or the value cannot be encoded), yet callers joined
      // after the function started: the value vouches for them only if no invalidation removed
      // the lease meanwhile, which the lease's own removal tells.
      const sentAt = tick();
      const kept = await leases.releaseAndTell(key, marker);
      return { value, confirmedAt: kept && !flight.overtaken ? sentAt : startedAt };
    }
    if (plan.tags !== undefined && !(await this.#filler.admit(call, value, started))) {
      leases.release(key, marker);
      return { value, confirmedAt: startedAt };
    }
    const sentAt = tick();
    const storeTtl = this.#filler.storeTtl(plan);
    let filled: boolean;
    let handedOver = false;
    const fill = ++this.#fills;
    this.#filling.add(fill);
    try {
      // On a store that applies what it is handed in order, the caller is answered once the fill
      // is handed over: whatever this instance sends afterwards, reads included, comes after it,
      // so a caller arriving from then on reads the key rather than join (and wait for the answer).
      filled = await leases.fillSoon(key, marker, text, storeTtl, () => {
        handedOver = true;
        if (leases.leaseOnRead) this.#found(key, Date.now() + storeTtl);
        this.#flights.close(key, flight);
        flight.answer({ value, confirmedAt: startedAt });
      });
    } catch (error) {
      this.#present.delete(key);
      this.#services.report('set', key, error, plan.source);
      // The fill may still land late; if it does not, the lease must not outlive it.
      leases.release(key, marker);
      return { value, confirmedAt: startedAt };
    } finally {
      this.#answered(fill);
    }
    this.#filler.reported(key, plan, filled);
    if (!filled) this.#present.delete(key);
    else if (!handedOver && leases.leaseOnRead) this.#found(key, Date.now() + storeTtl);
    return { value, confirmedAt: filled ? sentAt : startedAt };
  }

  /** The store answered fill number `fill`: wakes the waiters that have no other left. */
  #answered(fill: number): void {
    this.#filling.delete(fill);
    if (this.#fillWaiters.length === 0) return;
    this.#fillWaiters = this.#fillWaiters.filter(({ pending, wake }) => {
      pending.delete(fill);
      if (pending.size > 0) return true;
      wake();
      return false;
    });
  }

  /**
   * Resolves once every fill sent so far has its store's answer (callers may have been answered
   * before: see `#computeLeased`); fills sent later are not waited for.
   */
  fillsAnswered(): Promise<void> {
    if (this.#filling.size === 0) return Promise.resolve();
    return new Promise((wake) => {
      this.#fillWaiters.push({ pending: new Set(this.#filling), wake });
    });
  }

  /**
   * Computes without storing (the store is failing, or another caller's lease outlived the
   * wait). With leases, the value vouches only for callers that arrived before the function
   * started: it read the data after they came, as their own call would have.
   */
  async #alone(call: ReadCall, flight: Flight): Promise<Outcome> {
    const startedAt = tick();
    const value = await runFunction(call);
    const inProcessOnly = this.#leases === undefined && !flight.overtaken;
    return { value, confirmedAt: inProcessOnly ? ALWAYS : startedAt };
  }

  /** Without atomic writes: compute, then store unless an invalidation in this process overtook it. */
  async #computeAndSet(call: ReadCall, flight: Flight): Promise<Outcome> {
    const { key, plan } = call;
    const started = performance.now();
    const startedAt = tick();
    const value = await runFunction(call);
    const text = this.#filler.encodeUnlessOvertaken(key, value, plan, started, flight.overtaken);
    let refused = false;
    if (text !== undefined) {
      const stored = await this.#filler.write(call, text, value, started);
      // A value a tag check refused vouches only for callers that came before it started.
      refused = plan.tags !== undefined && !stored;
    }
    return { value, confirmedAt: flight.overtaken || refused ? startedAt : ALWAYS };
  }

  /** A synchronous store's text for a key; `undefined` when absent or failing (reported). */
  #readNow(key: string, source: EventSource): string | undefined {
    try {
      return textOf(this.#services.store.get(key));
    } catch (error) {
      this.#services.report('get', key, error, source);
      return undefined;
    }
  }

  /** An invalidation of the key awaits confirmation: compute, store nothing. */
  #bypass(call: ReadCall): Promise<unknown> {
    this.#emitBypass(call);
    try {
      return Promise.resolve(runFunction(call));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #emitBypass(call: ReadCall): void {
    this.#emitMiss(call);
    const { events } = this.#services;
    if (events.has('skip')) {
      events.emit('skip', {
        source: call.plan.source,
        key: call.key,
        reason: 'an invalidation of this key awaits the store’s confirmation',
      });
    }
  }

  #emitHit(call: ReadCall): void {
    const { events } = this.#services;
    if (events.has('hit')) events.emit('hit', { source: call.plan.source, key: call.key });
  }

  #emitMiss(call: ReadCall): void {
    const { events } = this.#services;
    if (events.has('miss')) events.emit('miss', { source: call.plan.source, key: call.key });
  }
}

/** XFetch's test: `now − Δ·β·ln(rand) ≥ expiry`, with Δ the entry's compute time. */
function xfetchDue(raw: string, beta: number): boolean {
  return Date.now() - entryComputeMs(raw) * beta * Math.log(Math.random()) >= entryExpiresAt(raw);
}
