/**
 * `cache.stats()`: counters per key template and for the whole cache, kept by listening to the
 * cache's own events (one listener per event; no other work on the hit path).
 */
import { Histogram } from '../util/histogram.js';
import type { CacheEventMap, Emitter, EventSource } from './events.js';
import type { Registry } from './registry.js';

/** Load times in ms, estimated from a histogram with four buckets per doubling (within 9%). */
export interface LoadTimes {
  /** The median load time. */
  readonly p50: number;
  /** The time 99% of loads took at most. */
  readonly p99: number;
  /** The longest load (exact). */
  readonly max: number;
}

/** What happened to the keys of one template (or, in `totals`, to every key of the cache). */
export interface TemplateStats {
  /** Fresh values served, from the store or from the in-process tier. */
  readonly hits: number;
  /** Reads that found nothing usable and started the function (callers that joined a computation already running are not counted). */
  readonly misses: number;
  /** Stale values served (within `staleTtl`) while one caller refreshes them. */
  readonly staleServed: number;
  /** Runs of the function that finished, on misses and refreshes, failed ones included. */
  readonly loads: number;
  /** Runs of the function that threw or rejected (also counted in `loads`). */
  readonly loadErrors: number;
  /** How long the loads took; `undefined` before the first one. */
  readonly loadMs: LoadTimes | undefined;
  /** Store operations that failed and that the cache carried on without (the `error` event). */
  readonly errors: number;
  /** Invalidations confirmed by the store whose pattern can match this template's keys. */
  readonly invalidations: number;
  /** Keys those invalidations removed (see `CacheStats.templates` for patterns spanning templates). */
  readonly keysRemoved: number;
}

/** A snapshot of a cache's counters, from `cache.stats()`. */
export interface CacheStats {
  /** When counting began, epoch ms: the cache's creation or the last reset. */
  readonly since: number;
  /**
   * Per key template of the cache's `cacheable` wrappers, as written (`posts:{{slug}}`). An
   * invalidation counts toward every template its pattern can match, with all the keys it
   * removed: stores report how many keys a pattern removed, not which, so a pattern spanning
   * two templates adds its whole count to both, and the templates' `keysRemoved` can add up to
   * more than `totals.keysRemoved`.
   */
  readonly templates: Readonly<Record<string, TemplateStats>>;
  /**
   * The whole cache: every template, plus the manual API (`get`, `getOrSet`, …, whose keys are
   * not templates of a wrapper) and errors of `invalidating` wrappers. Each invalidation counts once.
   */
  readonly totals: TemplateStats;
}

/** The mutable counters behind one {@link TemplateStats}. */
class Counters {
  hits = 0;
  misses = 0;
  staleServed = 0;
  loadErrors = 0;
  errors = 0;
  invalidations = 0;
  keysRemoved = 0;
  readonly loadMs = new Histogram();

  snapshot(): TemplateStats {
    const { loadMs } = this;
    return {
      hits: this.hits,
      misses: this.misses,
      staleServed: this.staleServed,
      loads: loadMs.count,
      loadErrors: this.loadErrors,
      loadMs:
        loadMs.count === 0
          ? undefined
          : {
              p50: loadMs.quantile(0.5) as number,
              p99: loadMs.quantile(0.99) as number,
              max: loadMs.max,
            },
      errors: this.errors,
      invalidations: this.invalidations,
      keysRemoved: this.keysRemoved,
    };
  }
}

/** The counters of one cache. */
export class Stats {
  readonly #registry: Registry;
  #since = Date.now();
  #templates = new Map<string, Counters>();
  #totals = new Counters();

  constructor(events: Emitter, registry: Registry) {
    this.#registry = registry;
    events.on('hit', ({ source }) => {
      this.#totals.hits += 1;
      const counters = this.#of(source);
      if (counters !== undefined) counters.hits += 1;
    });
    events.on('miss', ({ source }) => {
      this.#totals.misses += 1;
      const counters = this.#of(source);
      if (counters !== undefined) counters.misses += 1;
    });
    events.on('stale', ({ source }) => {
      this.#totals.staleServed += 1;
      const counters = this.#of(source);
      if (counters !== undefined) counters.staleServed += 1;
    });
    events.on('load', (event) => this.#loaded(event));
    events.on('error', ({ source }) => {
      this.#totals.errors += 1;
      const counters = this.#of(source);
      if (counters !== undefined) counters.errors += 1;
    });
    events.on('invalidate', (event) => this.#invalidated(event));
  }

  /** The counters now; with `reset`, counting starts again from zero afterwards. */
  snapshot(reset: boolean): CacheStats {
    const templates: Record<string, TemplateStats> = {};
    const empty = new Counters();
    for (const template of this.#registry.templates()) {
      templates[template] = (this.#templates.get(template) ?? empty).snapshot();
    }
    const totals = this.#totals.snapshot();
    const since = this.#since;
    if (reset) {
      this.#since = Date.now();
      this.#templates = new Map();
      this.#totals = new Counters();
    }
    return { since, templates, totals };
  }

  /** The counters of a `cacheable` wrapper's template; `undefined` for other sources. */
  #of(source: EventSource): Counters | undefined {
    const { template } = source;
    return (
      this.#templates.get(template) ??
      (this.#registry.has(template) ? this.#ofTemplate(template) : undefined)
    );
  }

  #loaded(event: CacheEventMap['load']): void {
    const { source, durationMs } = event;
    const failed = 'error' in event;
    const totals = this.#totals;
    totals.loadMs.record(durationMs);
    if (failed) totals.loadErrors += 1;
    const counters = this.#of(source);
    if (counters === undefined) return;
    counters.loadMs.record(durationMs);
    if (failed) counters.loadErrors += 1;
  }

  #invalidated({ count, templates }: CacheEventMap['invalidate']): void {
    this.#totals.invalidations += 1;
    this.#totals.keysRemoved += count;
    for (const template of templates) {
      const counters = this.#ofTemplate(template);
      counters.invalidations += 1;
      counters.keysRemoved += count;
    }
  }

  /** The counters of a registered template, made at its first event. */
  #ofTemplate(template: string): Counters {
    let counters = this.#templates.get(template);
    if (counters === undefined) {
      counters = new Counters();
      this.#templates.set(template, counters);
    }
    return counters;
  }
}
