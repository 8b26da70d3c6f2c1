/**
 * The in-process tier (`l1`): decoded values kept in this process, in front of the store, so that
 * a hit costs no round trip. It stays coherent with the store through the store's change
 * notifications: a value is dropped when the store says its key changed, and the whole tier is
 * dropped, and not used, while notifications may be missing (before the watch is ready, after a
 * lost connection). A value is kept only from a store read, and only if no notification about its
 * key arrived since the read was sent: a notification can overtake the reply it invalidates.
 */
import { LRUCache } from 'lru-cache';

/** How values are handed out from the tier. */
export type TierValues = 'frozen' | 'decoded' | 'shared';

/** What `get` answers when the tier holds nothing for a key. */
export const NOT_KEPT: unique symbol = Symbol('not kept');

/** What the tier keeps per key. */
interface Kept {
  /** The value (deep-frozen, or as computed), or the stored text for `'decoded'`. */
  readonly held: unknown;
  /** Its size for the byte bound: its stored text's, counted as UTF-16. */
  readonly size: number;
}

/** Settings of the tier, resolved. */
export interface TierSettings {
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** Longest life of a kept value, ms (never longer than its entry's own). */
  readonly ttlMs: number;
  readonly values: TierValues;
  /** Decodes stored text, for `values: 'decoded'`. */
  readonly decode: (key: string, text: string) => unknown;
  /** How long a store read may take, ms: notifications are remembered at least this long. */
  readonly readHorizonMs: number;
}

/** The in-process tier of one cache. */
export class Tier {
  readonly #settings: TierSettings;
  readonly #kept: LRUCache<string, Kept>;
  /** Whether notifications flow: the tier serves and keeps values only then. */
  #live: boolean;
  /** Notifications seen, counted; a read remembers the count when it was sent. */
  #seen = 0;
  /** The count at the last reset: reads sent before it keep nothing. */
  #resetAt = 0;
  /** Recently notified keys: the count and time of their last notification. */
  readonly #touched = new Map<string, { readonly at: number; readonly when: number }>();
  /** This instance's recent pattern invalidations, remembered as long as a read may take. */
  readonly #dropped: {
    readonly matches: (key: string) => boolean;
    readonly at: number;
    readonly when: number;
  }[] = [];

  constructor(settings: TierSettings, live: boolean) {
    this.#settings = settings;
    this.#live = live;
    this.#kept = new LRUCache<string, Kept>({
      max: settings.maxEntries,
      maxSize: settings.maxBytes,
      sizeCalculation: (kept, key) => kept.size + key.length * 2,
      perf: { now: () => Date.now() },
      ttlResolution: 0,
    });
  }

  /** Whether the tier serves values now. */
  get live(): boolean {
    return this.#live;
  }

  /** The value kept for `key`, or {@link NOT_KEPT}. */
  get(key: string): unknown {
    if (!this.#live) return NOT_KEPT;
    const kept = this.#kept.get(key);
    if (kept === undefined) return NOT_KEPT;
    return this.#settings.values === 'decoded'
      ? this.#settings.decode(key, kept.held as string)
      : kept.held;
  }

  /** Call just before sending a store read; pass the result to {@link keep}. */
  begin(): number {
    return this.#seen;
  }

  /**
   * Keeps `value` (whose stored text is `text`) for `key` until `expiresAt` at most, if the tier
   * is live and no notification about `key` (nor a reset) came since the read was sent (`since`).
   */
  keep(key: string, since: number, value: unknown, text: string, expiresAt: number): void {
    if (!this.#live || this.#resetAt > since) return;
    const touched = this.#touched.get(key);
    if (touched !== undefined && touched.at > since) return;
    if (this.#dropped.some((drop) => drop.at > since && drop.matches(key))) return;
    const ttl = Math.min(this.#settings.ttlMs, expiresAt - Date.now());
    if (!(ttl > 0)) return;
    const { values } = this.#settings;
    const held = values === 'decoded' ? text : values === 'frozen' ? deepFreeze(value) : value;
    this.#kept.set(key, { held, size: text.length * 2 }, { ttl });
  }

  /** Drops `keys` (changed in the store), and keeps reads of them in flight from being kept. */
  drop(keys: readonly string[]): void {
    this.#seen += 1;
    const when = Date.now();
    for (const key of keys) {
      this.#kept.delete(key);
      this.#touched.set(key, { at: this.#seen, when });
    }
    this.#forgetOldTouches(when);
  }

  /** Drops every key `matches` (an invalidation of this instance's), and reads in flight of them. */
  dropMatching(matches: (key: string) => boolean): void {
    const keys: string[] = [];
    for (const key of this.#kept.keys()) if (matches(key)) keys.push(key);
    this.drop(keys);
    // Also reads in flight of keys the tier does not hold yet.
    this.#dropped.push({ matches, at: this.#seen, when: Date.now() });
  }

  /**
   * Drops everything; `live` says whether the tier serves from now on (false while notifications
   * may be missing).
   */
  reset(live: boolean): void {
    this.#seen += 1;
    this.#resetAt = this.#seen;
    this.#kept.clear();
    this.#touched.clear();
    this.#dropped.length = 0;
    this.#live = live;
  }

  /** Forgets notifications older than any read in flight can be. */
  #forgetOldTouches(now: number): void {
    const horizon = now - this.#settings.readHorizonMs;
    if (this.#touched.size > 1024) {
      for (const [key, touched] of this.#touched) {
        if (touched.when < horizon) this.#touched.delete(key);
      }
    }
    while (this.#dropped.length > 0 && (this.#dropped[0]?.when ?? now) < horizon) {
      this.#dropped.shift();
    }
  }
}

/** Freezes a value and everything reachable through its properties (not Map or Set contents). */
function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}
