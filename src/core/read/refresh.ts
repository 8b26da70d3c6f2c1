/**
 * Background refresh: stale-while-revalidate (an entry past its TTL, within `staleTtl`, is served
 * while one caller recomputes it) and early refresh (XFetch recomputes a fresh entry before it
 * expires).
 */
import { entryExpiresAt, withExpiresAt } from '../../codec/index.js';
import { type ReadCall, type ReadServices, runFunction, trackTtlMs } from './call.js';
import type { Filler } from './fill.js';

/** Why a refresh runs: the entry is stale, or XFetch chose to recompute it early. */
export type RefreshReason = 'stale' | 'early';

interface Job {
  /** Set by an invalidation in this process: the refreshed value must not be stored. */
  overtaken: boolean;
}

/** The refreshes in progress in one cache instance, one per key. */
export class Refresher {
  readonly #services: ReadServices;
  readonly #filler: Filler;
  readonly #jobs = new Map<string, Job>();

  constructor(services: ReadServices, filler: Filler) {
    this.#services = services;
    this.#filler = filler;
  }

  /**
   * Recomputes the entry `raw` of `call.key` in the background, once in this instance. With an
   * atomic store, the refresher first claims the entry by rewriting it with a later logical expiry
   * (compare-and-set against what it read), so other processes keep serving it instead of
   * refreshing too; the new value then replaces the claimed entry only if it is still there, so
   * an invalidation meanwhile wins. A failing refresh leaves the old value in place and is
   * reported.
   */
  start(call: ReadCall, raw: string, reason: RefreshReason): void {
    const { key, plan } = call;
    if (this.#jobs.has(key)) return;
    const job: Job = { overtaken: false };
    this.#jobs.set(key, job);
    const { atomic, events, guard, leaseTtlMs } = this.#services;
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
        // The refreshed entry will live longer than the index knows of: tell it first.
        const [, claimed] = await Promise.all([
          this.#services.track(key, trackTtlMs(this.#services, plan)),
          guard.run(() => atomic.compareAndSet(key, raw, claim, keep)),
        ]);
        if (!claimed) return;
        current = claim;
      }
      const started = performance.now();
      const value = await runFunction(call);
      const text = job.overtaken ? undefined : this.#filler.encode(key, value, plan, started);
      if (text === undefined) return;
      if (atomic === undefined) {
        await this.#filler.write(call, text, value, started);
      } else if (await this.#filler.admit(call, value, started)) {
        const ttl = this.#filler.storeTtl(plan);
        const filled = await guard.run(() => atomic.compareAndSet(key, current, text, ttl));
        this.#filler.reported(key, plan, filled);
      }
    };
    run()
      .catch((error) => this.#services.report('refresh', key, error, plan.source))
      .finally(() => {
        if (this.#jobs.get(key) === job) this.#jobs.delete(key);
      });
  }

  /** Marks refreshes of matching keys as overtaken by an invalidation: they store nothing. */
  abandon(matches: (key: string) => boolean): void {
    for (const [key, job] of this.#jobs) {
      if (matches(key)) job.overtaken = true;
    }
  }

  /** How many refreshes are in progress. */
  get size(): number {
    return this.#jobs.size;
  }
}
