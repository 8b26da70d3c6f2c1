/**
 * What each command found: printed as JSON with `--json` (this is that output's shape), and read
 * by the human renderers (render.ts).
 */

/** How the keys of a pattern were found. */
export type FoundThrough =
  /** The cache's key index answered, as it does for the invalidation of that pattern. */
  | 'index'
  /** SCAN on every master (the index could not answer, or `--scan`). */
  | 'scan'
  /** The pattern has no wildcard: one key, looked up with EXISTS. */
  | 'key';

/** `keys <pattern>`. */
export interface KeysResult {
  readonly command: 'keys';
  readonly prefix: string;
  /** The pattern as given (without the prefix). */
  readonly pattern: string;
  /** The full-key patterns looked for: the pattern, and the key without a trailing `:*`. */
  readonly patterns: readonly string[];
  /** How many keys match. */
  readonly count: number;
  /** Up to `--limit` of them, without the prefix, in sorted order. */
  readonly sample: readonly string[];
  readonly foundThrough: FoundThrough;
  /** Why the index could not answer, when it was SCAN. */
  readonly scanReason: string | null;
}

/** `invalidate <pattern> [--dry-run]`. */
export interface InvalidateResult {
  readonly command: 'invalidate';
  readonly prefix: string;
  readonly pattern: string;
  readonly patterns: readonly string[];
  readonly dryRun: boolean;
  /** Keys deleted; with `--dry-run`, keys that would be. */
  readonly count: number;
  /** Keys that matched just before the deletion (equal to `count` unless keys came or went). */
  readonly matched: number;
  /** Up to `--limit` of the keys that matched, without the prefix, in sorted order. */
  readonly sample: readonly string[];
  readonly foundThrough: FoundThrough;
  readonly scanReason: string | null;
}

/** What a key holds. */
export type Holding =
  /** A value the cache stored. */
  | 'entry'
  /** A lease marker: one caller is computing this key's value. */
  | 'lease'
  /** Written by this library, but of an unknown format version or unreadable. */
  | 'unreadable'
  /** A string this library did not write. */
  | 'foreign'
  /** Not a string (a hash, a set, …): not written by the cache. */
  | 'other-type';

/** The header of a stored entry. */
export interface EntryInfo {
  readonly version: 1;
  /** `json`: plain JSON; `tagged`: lossless JSON (Date, Map, …) as tagged objects; `custom`: a custom serializer's text. */
  readonly encoding: 'json' | 'tagged' | 'custom';
  /** Logical expiry, epoch ms: after it the value is stale (served only within `staleTtl`). */
  readonly expiresAt: number;
  /** Whether it was before its logical expiry when read. */
  readonly fresh: boolean;
  /** How long the value took to compute, ms. */
  readonly computeMs: number;
}

/** `inspect <key>`. */
export interface InspectResult {
  readonly command: 'inspect';
  readonly prefix: string;
  /** The key as given (without the prefix). */
  readonly key: string;
  readonly fullKey: string;
  readonly found: boolean;
  /** Redis's type of the key (`string` for everything the cache writes). */
  readonly type: string | null;
  readonly holds: Holding | null;
  /** Time to live in Redis, ms; `null` when it has none (or was not found). */
  readonly ttlMs: number | null;
  /** Length of the stored string in bytes. */
  readonly bytes: number | null;
  /** Memory Redis uses for the key, overhead included (MEMORY USAGE). */
  readonly memoryBytes: number | null;
  readonly entry: EntryInfo | null;
  /**
   * The value: for `json`, as stored; for `tagged`, the stored JSON with lossless types as
   * tagged objects; absent when it cannot be decoded.
   */
  readonly value?: unknown;
  /** The stored text, when there is no value to show (a custom serializer's, a foreign string). */
  readonly text: string | null;
}

/** Remaining-TTL buckets of sampled keys: each counts keys whose TTL is at most its name. */
export interface TtlBuckets {
  readonly '1m': number;
  readonly '10m': number;
  readonly '1h': number;
  readonly '1d': number;
  /** Longer than a day. */
  readonly longer: number;
  /** No TTL. */
  readonly none: number;
}

/** One group of `stats`. */
export interface StatsGroup {
  /** The template recognised from keys (`posts:{{*}}`), a `--depth` pattern (`posts:*`), or `(key index)`. */
  readonly name: string;
  /** Keys in the group: exact when every key was sampled, else estimated from the sample. */
  readonly keys: number;
  /** Keys of the group in the sample. */
  readonly sampled: number;
  /** Memory of the group (MEMORY USAGE of its sampled keys, scaled like `keys`). */
  readonly memoryBytes: number;
  /** Remaining TTL of its sampled keys. */
  readonly ttl: TtlBuckets;
}

/** `stats`. */
export interface StatsResult {
  readonly command: 'stats';
  readonly prefix: string;
  /** Servers walked: 1, or the Cluster's masters. */
  readonly servers: number;
  /** Keys under the prefix (entries, leases and the key index), counted by SCAN. */
  readonly keys: number;
  /** Keys in the databases walked, all prefixes (DBSIZE). */
  readonly databaseKeys: number;
  /** Keys sampled for memory, TTL and grouping. */
  readonly sampled: number;
  /** Whether every key was sampled (then counts are exact). */
  readonly exact: boolean;
  /** Memory of the keys under the prefix, estimated from the sample. */
  readonly memoryBytes: number;
  readonly groupedBy: 'template' | 'depth';
  readonly depth: number | null;
  /** Largest first. */
  readonly groups: readonly StatsGroup[];
  /** Redis's own counters (INFO stats), summed over the servers: every key and client, not only the cache's. */
  readonly keyspace: {
    readonly hits: number;
    readonly misses: number;
    /** hits / (hits + misses); `null` before any lookup. */
    readonly hitRate: number | null;
  };
}

/** A command's result. */
export type CommandResult = KeysResult | InvalidateResult | InspectResult | StatsResult;
