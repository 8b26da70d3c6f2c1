/**
 * Sending the store operations of one tick together: on a store that batches, every plain read,
 * leasing read and index record of the tick (see coalesce.ts) goes in one call, and so do the
 * fills of the values computed in the tick; a Redis store sends each call in one round trip per
 * server. Otherwise each is sent on its own. Each answer is bounded by the cache's timeout and
 * settles on its own: a failing operation fails its own caller only.
 */
import type { AtomicStore, BatchingStore, BatchOperation, Store } from '../../stores/store.js';
import type { Maybe, ReadCall, ReadServices } from './call.js';
import type { HeldRead } from './coalesce.js';
import type { Leases } from './lease.js';

/**
 * The replies to the reads of one tick, in order: a plain read answers the stored text, a read
 * that may lease (held with its call, while `leases` lease on read) a `LeaseRead`.
 */
export function sendReads(
  services: ReadServices,
  leases: Leases | undefined,
  reads: readonly HeldRead<ReadCall>[],
): unknown[] {
  const leasing = leases?.leaseOnRead === true ? leases : undefined;
  const { batching, indexed } = services;
  // A read alone goes alone, unless it is a leasing read with its index record beside it: one
  // write instead of two.
  const alone = reads.length === 1 && !(indexed && leasing !== undefined && reads[0]?.lease);
  if (batching === undefined || alone) return reads.map((read) => sendOne(services, leasing, read));
  const operations: BatchOperation[] = [];
  /** Per read, where its answers start, and the marker a leasing read offers. */
  const firsts: number[] = [];
  const markers: (string | undefined)[] = [];
  for (const read of reads) {
    firsts.push(operations.length);
    if (read.lease !== undefined && leasing !== undefined) {
      const lease = leasing.leasingRead(read.lease, indexed);
      operations.push(...lease.operations);
      markers.push(lease.marker);
    } else {
      operations.push({ op: 'get', key: read.key });
      markers.push(undefined);
    }
  }
  const answers = services.guard.runEach(() => batching.batch(operations), operations.length);
  return reads.map((read, i) => {
    const first = firsts[i] as number;
    const marker = markers[i];
    if (marker === undefined) return answers[first];
    // The index record, when there is one, comes first (see Leases.leasingRead).
    return (leasing as Leases).leaseRead(
      read.lease as ReadCall,
      marker,
      answers[indexed ? first + 1 : first] as Maybe<string | null | undefined>,
      indexed ? answers[first] : undefined,
    );
  });
}

/** One read on its own: a leasing read (with its index record), or a bounded `get`. */
function sendOne(
  services: ReadServices,
  leasing: Leases | undefined,
  read: HeldRead<ReadCall>,
): unknown {
  if (read.lease !== undefined && leasing !== undefined) return leasing.readOrLease(read.lease);
  try {
    return services.guard.get(services.store, read.key);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** A fill held until the end of the tick, and the settling of its answer. */
interface HeldFill {
  readonly operation: Extract<BatchOperation, { op: 'compareAndSet' }>;
  readonly resolve: (answer: unknown) => void;
  /** Called once the fill is handed to the store, or refused before (the breaker, a throw). */
  readonly sent: () => void;
}

/**
 * Fills (compare-and-sets of computed values over their leases) held until the end of the tick
 * (`process.nextTick`) and sent in one batch: the values computed in one turn of the event loop
 * cost one round trip per server, not one each. A fill alone in its tick is sent as it is. Each
 * answer is bounded by the cache's timeout and settles on its own.
 */
export class HeldFills {
  readonly #services: ReadServices;
  readonly #batching: Store & BatchingStore;
  readonly #atomic: Store & AtomicStore;
  #held: HeldFill[] = [];
  readonly #flush = () => this.#sendAll();

  constructor(
    services: ReadServices,
    batching: Store & BatchingStore,
    atomic: Store & AtomicStore,
  ) {
    this.#services = services;
    this.#batching = batching;
    this.#atomic = atomic;
  }

  /**
   * What `compareAndSet` answers, sent with the other fills of this tick at its end; `sent` is
   * called once it is handed to the store, or refused before it (then only its error is left).
   */
  compareAndSet(
    key: string,
    expected: string,
    value: string,
    ttlMs: number | undefined,
    sent: () => void,
  ): Promise<unknown> {
    if (this.#held.length === 0) process.nextTick(this.#flush);
    return new Promise((resolve) => {
      this.#held.push({
        operation: { op: 'compareAndSet', key, expected, value, ttlMs },
        resolve,
        sent,
      });
    });
  }

  #sendAll(): void {
    const held = this.#held;
    this.#held = [];
    const { guard } = this.#services;
    if (held.length === 1) {
      const [{ operation, resolve, sent }] = held as [HeldFill];
      const { key, expected, value, ttlMs } = operation;
      try {
        resolve(guard.run(() => this.#atomic.compareAndSet(key, expected, value, ttlMs)));
      } catch (error) {
        resolve(Promise.reject(error));
      }
      sent();
      return;
    }
    const operations = held.map((fill) => fill.operation);
    const answers = guard.runEach(() => this.#batching.batch(operations), operations.length);
    held.forEach((fill, i) => {
      fill.resolve(answers[i]);
      fill.sent();
    });
  }
}
