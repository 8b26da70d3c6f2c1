/**
 * Turning a computed value into stored text for a plan (`shouldCache`, jitter, the entry header),
 * writing it on stores without atomic writes, and reporting fills.
 */
import { encodeEntry } from '../../codec/index.js';
import { SerializationError } from '../../errors.js';
import { attempt, chain, isThenable } from '../../util/maybe-promise.js';
import { type Maybe, type ReadCall, type ReadPlan, type ReadServices, trackTtlMs } from './call.js';

/** Encodes and writes computed values. */
export class Filler {
  readonly #services: ReadServices;

  constructor(services: ReadServices) {
    this.#services = services;
  }

  /**
   * Stored text for a value computed since `started` (performance.now()), or `undefined` when
   * `shouldCache` declines it or it cannot be encoded (both reported).
   */
  encode(key: string, value: unknown, plan: ReadPlan, started: number): string | undefined {
    const { events } = this.#services;
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
        this.#services.serializer,
      );
    } catch (error) {
      this.#services.report('serialize', key, new SerializationError(key, error), plan.source);
      return undefined;
    }
  }

  /** `encode`, unless an invalidation in this instance overtook the computation (reported). */
  encodeUnlessOvertaken(
    key: string,
    value: unknown,
    plan: ReadPlan,
    started: number,
    overtaken: boolean,
  ): string | undefined {
    if (!overtaken) return this.encode(key, value, plan, started);
    const { events } = this.#services;
    if (events.has('skip')) {
      events.emit('skip', { source: plan.source, key, reason: 'invalidated while computing' });
    }
    return undefined;
  }

  /** How long the store keeps an entry: its TTL plus the stale grace. */
  storeTtl(plan: ReadPlan): number {
    return plan.ttlMs + plan.staleMs;
  }

  /**
   * Records the key of a value computed since `started` (performance.now()) under its tags,
   * before anything is written (see `TaggingStore.tag`): `true` when it may be written, `false`
   * when a tag was invalidated since the computation started (a `skip`), or the tags could not
   * be found or recorded (reported). Always `true` for a wrapper without tags.
   */
  admit(call: ReadCall, value: unknown, started: number): Maybe<boolean> {
    const { key, plan } = call;
    const services = this.#services;
    const { tagging } = services;
    if (plan.tags === undefined || tagging === undefined) return true;
    try {
      const tags = plan.tags(call.args, value);
      if (tags.length === 0) return true;
      const ttl = trackTtlMs(services, plan);
      const clean = services.guard.run(() => tagging.tag(key, tags, ttl, started));
      const judged = (ok: boolean): boolean => {
        if (!ok && services.events.has('skip')) {
          services.events.emit('skip', {
            source: plan.source,
            key,
            reason: 'a tag of the value was invalidated while computing',
          });
        }
        return ok;
      };
      if (!isThenable(clean)) return judged(clean);
      return clean.then(judged, (error: unknown) => {
        services.report('tag', key, error, plan.source);
        return false;
      });
    } catch (error) {
      services.report('tag', key, error, plan.source);
      return false;
    }
  }

  /**
   * Plain write (stores without atomic writes), after the key is in the store's index and
   * admitted under its tags; answers whether the value was stored (failures are reported, not
   * thrown). Without a lease, a tag invalidation that read the key's record before the write
   * would miss the value: the key is recorded again after the write, and the value deleted if a
   * tag was invalidated meanwhile.
   */
  write(call: ReadCall, text: string, value: unknown, started: number): Maybe<boolean> {
    const { key, plan } = call;
    const stored = attempt(
      () =>
        chain(this.admit(call, value, started), (admitted) =>
          admitted ? this.#setAndRecheck(call, text, value, started) : false,
        ),
      (error: unknown) => {
        this.#services.report('set', key, error, plan.source);
        return false;
      },
    );
    return chain(stored, (ok) => {
      if (ok) this.reported(key, plan, true);
      return ok;
    });
  }

  /**
   * Tracks the key and writes the value; for a value with tags, then records it again and
   * deletes it if a tag was invalidated meanwhile. Answers whether the value stays.
   */
  #setAndRecheck(call: ReadCall, text: string, value: unknown, started: number): Maybe<boolean> {
    const { key, plan } = call;
    const services = this.#services;
    const written = chain(services.track(key, trackTtlMs(services, plan)), () =>
      services.guard.run(() => services.store.set(key, text, this.storeTtl(plan))),
    );
    if (plan.tags === undefined) return chain(written, () => true);
    return chain(written, () =>
      chain(
        this.admit(call, value, started),
        (kept): Maybe<boolean> =>
          kept ||
          chain(
            services.guard.run(() => services.store.delete(key)),
            () => false,
          ),
      ),
    );
  }

  /** Emits `set` for a stored value, or `skip` when a compare-and-set fill found its lease gone. */
  reported(key: string, plan: ReadPlan, filled: boolean): void {
    const { events } = this.#services;
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
}
