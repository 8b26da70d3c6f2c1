/**
 * The entry verdict: what text read from the store is worth. One policy for the wrappers and for
 * the manual `get`: absent, a lease, text that is no entry, an entry (fresh, stale within the
 * grace, expired) and what decoding and the schema make of it.
 */
import { decodeEntry, entryExpiresAt, isEntry, isLease, UNREADABLE } from '../../codec/index.js';
import { isThenable } from '../../util/maybe-promise.js';
import type { EventSource } from '../events.js';
import type { ValueSchema } from '../schema.js';
import type { Maybe, ReadServices } from './call.js';

/** Nothing usable was read. */
export const MISS: unique symbol = Symbol('miss');

/** The states of stored text, judged from its first bytes and header alone (no parsing). */
export const State = {
  /** Nothing there. */
  Absent: 0,
  /** Another caller's lease marker. */
  Lease: 1,
  /** An entry before its logical expiry. */
  Fresh: 2,
  /** An entry past its expiry but within the stale grace: served while it is refreshed. */
  Stale: 3,
  /** An entry past its expiry and grace. */
  Expired: 4,
  /** Text that is no entry, or an entry whose header is corrupt: deleted as unusable. */
  Unusable: 5,
} as const;

/** The state of stored text. */
export type State = (typeof State)[keyof typeof State];

/** The state of `raw` at `now`, with `staleMs` of grace after an entry's expiry. */
export function stateOf(raw: string | undefined, staleMs: number, now: number): State {
  if (raw === undefined) return State.Absent;
  if (!isEntry(raw)) return isLease(raw) ? State.Lease : State.Unusable;
  const expiresAt = entryExpiresAt(raw);
  if (!Number.isFinite(expiresAt)) return State.Unusable;
  if (now < expiresAt) return State.Fresh;
  return now < expiresAt + staleMs ? State.Stale : State.Expired;
}

/** Text from a store read: a string, or `undefined` for anything else (absent, `null`). */
export function textOf(raw: unknown): string | undefined {
  return typeof raw === 'string' ? raw : undefined;
}

/** Decodes entries, checks them against schemas, and deletes what cannot be used. */
export class Verdicts {
  readonly #services: ReadServices;

  constructor(services: ReadServices) {
    this.#services = services;
  }

  /**
   * The value of an entry (fresh or stale), checked by `schema`; MISS (after deleting the entry
   * and reporting it) when it cannot be decoded or fails the schema.
   */
  decode(key: string, raw: string, schema: ValueSchema | undefined, source: EventSource): unknown {
    const value = decodeEntry(raw, this.#services.serializer);
    if (value === UNREADABLE) return this.discard(key, raw, 'unreadable entry', source);
    if (schema === undefined) return value;
    const checked = schema['~standard'].validate(value);
    const settle = (result: Awaited<typeof checked>) =>
      result.issues === undefined
        ? result.value
        : this.discard(key, raw, `schema: ${result.issues[0]?.message ?? 'invalid'}`, source);
    return isThenable(checked) ? checked.then(settle) : settle(checked);
  }

  /** The manual `get`'s reading of `raw`: the value of a fresh entry, else MISS. */
  read(key: string, raw: string | undefined, source: EventSource): Maybe<unknown> {
    switch (stateOf(raw, 0, Date.now())) {
      case State.Fresh:
        return this.decode(key, raw as string, undefined, source);
      case State.Unusable:
        return this.discard(key, raw as string, reasonOf(raw as string), source);
      default:
        return MISS;
    }
  }

  /**
   * Deletes unusable text (only if it is still the same, on stores with atomic writes) and
   * reports it with an `invalid` event; returns MISS.
   */
  discard(key: string, raw: string, reason: string, source: EventSource): typeof MISS {
    const { atomic, events, guard, store } = this.#services;
    if (events.has('invalid')) events.emit('invalid', { source, key, reason });
    try {
      const removal = guard.run(() =>
        atomic === undefined ? store.delete(key) : atomic.compareAndDelete(key, raw),
      );
      if (isThenable(removal)) {
        removal.then(undefined, (error) => this.#services.report('delete', key, error, source));
      }
    } catch (error) {
      this.#services.report('delete', key, error, source);
    }
    return MISS;
  }
}

/** Why text judged {@link State.Unusable} is unusable. */
export function reasonOf(raw: string): string {
  return isEntry(raw) ? 'unreadable entry' : 'not a cache entry';
}
