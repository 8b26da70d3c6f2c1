/**
 * The four commands, on an open {@link Session}. Keys and patterns are given without the prefix
 * and checked as the manual API checks them; keys are found the way an invalidation finds them
 * (the key index when it can answer, else SCAN on every master: never KEYS).
 */
import { decodeEntry, isEntry, isLease, readEntryHeader, UNREADABLE } from '../codec/index.js';
import { partsOf } from '../core/invalidation.js';
import { formatCount } from './format.js';
import { keyBody, patternBody } from './input.js';
import type { Progress } from './progress.js';
import type {
  FoundThrough,
  InspectResult,
  InvalidateResult,
  KeysResult,
  StatsGroup,
  StatsResult,
  TtlBuckets,
} from './results.js';
import { SCAN_COUNT, type Session } from './session.js';
import { groupByDepth, groupByTemplate } from './shapes.js';

/** The label of the key index's sorted sets in `stats`. */
const INDEX_GROUP = '(key index)';

/** Keys checked or measured per round of commands (autopipelined by the client). */
const BATCH = 1000;

/** The full-key pattern for a pattern given without the prefix. */
function fullPattern(session: Session, pattern: string): string {
  return `${session.cache.prefix}:${patternBody(pattern)}`;
}

/** What the keys of a pattern are, and how they were found. */
interface Matches {
  readonly patterns: string[];
  /** Sorted, without the prefix. */
  readonly keys: string[];
  readonly foundThrough: FoundThrough;
  readonly scanReason: string | null;
}

/**
 * The keys matching `pattern` that exist now: each part an invalidation deletes (the pattern,
 * and the key without a trailing `:*`) found as the invalidation finds it; index members and
 * single keys are checked to exist (the index keeps members of deleted keys until it prunes
 * them).
 */
async function findMatches(
  session: Session,
  pattern: string,
  progress: Progress,
  forceScan: boolean,
): Promise<Matches> {
  const full = fullPattern(session, pattern);
  const parts = partsOf(full);
  const found = new Set<string>();
  const unchecked = new Set<string>();
  let foundThrough: FoundThrough = 'key';
  let scanReason: string | null = null;
  let replies = 0;
  for (const part of parts) {
    if (part.literal) {
      unchecked.add(part.pattern);
      continue;
    }
    const into = new Set<string>();
    const onKeys = (keys: readonly string[]) => {
      replies += 1;
      for (const key of keys) into.add(key);
      progress.update(
        () =>
          `${formatCount(found.size + unchecked.size + into.size)} keys found (${formatCount(replies)} replies from Redis)`,
      );
    };
    if (forceScan) {
      await session.store.scanKeys(part.pattern, onKeys);
      foundThrough = 'scan';
      scanReason = 'asked for with --scan';
    } else {
      const how = await session.store.findKeys(part.pattern, onKeys);
      foundThrough = how.from;
      if (how.from === 'scan') scanReason = how.reason;
    }
    for (const key of into) (foundThrough === 'index' ? unchecked : found).add(key);
  }
  for (const key of await existing(session, [...unchecked])) found.add(key);
  progress.done();
  const start = session.cache.prefix.length + 1;
  return {
    patterns: parts.map((part) => part.pattern),
    keys: [...found].map((key) => key.slice(start)).sort(),
    foundThrough,
    scanReason,
  };
}

/**
 * Those of `keys` that exist. Asked with MEMORY USAGE (`null` for a missing key) rather than
 * EXISTS: it counts neither as a keyspace hit nor as a miss in Redis's INFO stats, which `stats`
 * reports.
 */
async function existing(session: Session, keys: readonly string[]): Promise<string[]> {
  const present: string[] = [];
  for (let i = 0; i < keys.length; i += BATCH) {
    const batch = keys.slice(i, i + BATCH);
    const answers = await Promise.all(batch.map((key) => session.client.memory('USAGE', key)));
    batch.forEach((key, j) => {
      if (answers[j] !== null) present.push(key);
    });
  }
  return present;
}

/** `keys <pattern>`: how many keys match, and a sample. */
export async function keysCommand(
  session: Session,
  pattern: string,
  options: { limit: number; scan: boolean },
  progress: Progress,
): Promise<KeysResult> {
  const matches = await findMatches(session, pattern, progress, options.scan);
  return {
    command: 'keys',
    prefix: session.cache.prefix,
    pattern,
    patterns: matches.patterns,
    count: matches.keys.length,
    sample: matches.keys.slice(0, options.limit),
    foundThrough: matches.foundThrough,
    scanReason: matches.scanReason,
  };
}

/**
 * `invalidate <pattern>`: the keys that match, then (unless `dryRun`) their deletion through the
 * cache's own `deletePattern`, the path every invalidation takes.
 */
export async function invalidateCommand(
  session: Session,
  pattern: string,
  options: { limit: number; dryRun: boolean },
  progress: Progress,
): Promise<InvalidateResult> {
  const matches = await findMatches(session, pattern, progress, false);
  let count = matches.keys.length;
  if (!options.dryRun) {
    // The pattern passed the checks of findMatches; as a runtime string it needs no context.
    count = await session.cache.deletePattern<string>(pattern);
  }
  return {
    command: 'invalidate',
    prefix: session.cache.prefix,
    pattern,
    patterns: matches.patterns,
    dryRun: options.dryRun,
    count,
    matched: matches.keys.length,
    sample: matches.keys.slice(0, options.limit),
    foundThrough: matches.foundThrough,
    scanReason: matches.scanReason,
  };
}

/** The measurements of `inspect` for a key that exists. */
type Found = Omit<InspectResult, 'command' | 'prefix' | 'key' | 'fullKey' | 'found' | 'value'>;

/** `inspect <key>`: what one key holds. */
export async function inspectCommand(session: Session, key: string): Promise<InspectResult> {
  const fullKey = `${session.cache.prefix}:${keyBody(key)}`;
  const base = { command: 'inspect', prefix: session.cache.prefix, key, fullKey } as const;
  const found = await look(session, fullKey);
  if (found === undefined) {
    return {
      ...base,
      found: false,
      type: null,
      holds: null,
      ttlMs: null,
      bytes: null,
      memoryBytes: null,
      entry: null,
      text: null,
    };
  }
  const { value, ...rest } = found;
  // The JSON output's fields in one order, whatever the key holds; `value` only when decoded.
  return {
    ...base,
    found: true,
    type: rest.type,
    holds: rest.holds,
    ttlMs: rest.ttlMs,
    bytes: rest.bytes,
    memoryBytes: rest.memoryBytes,
    entry: rest.entry,
    ...(value === undefined ? {} : { value: value.json }),
    text: rest.text,
  };
}

/** What `fullKey` holds; `undefined` when it does not exist. */
async function look(
  session: Session,
  fullKey: string,
): Promise<(Found & { value?: { json: unknown } }) | undefined> {
  const { client } = session;
  const [type, pttl, memory] = await Promise.all([
    client.type(fullKey),
    client.pttl(fullKey),
    client.memory('USAGE', fullKey),
  ]);
  if (type === 'none') return undefined;
  const measured = { type, ttlMs: pttl >= 0 ? pttl : null, memoryBytes: memory ?? null };
  const none = { bytes: null, entry: null, text: null };
  if (type !== 'string') return { ...measured, ...none, holds: 'other-type' };
  const stored = await client.getBuffer(fullKey);
  // Gone between the two round trips (expired or deleted).
  if (stored === null) return undefined;
  const raw = stored.toString('utf8');
  const bytes = stored.length;
  const string = { ...measured, bytes, entry: null, text: null };
  if (isLease(raw)) return { ...string, holds: 'lease' };
  if (!isEntry(raw)) return { ...string, holds: 'foreign', text: raw };
  const header = readEntryHeader(raw);
  if (header === undefined) return { ...string, holds: 'unreadable', text: raw };
  const entry = {
    version: header.version,
    encoding: header.encoding,
    expiresAt: header.expiresAt,
    fresh: Date.now() < header.expiresAt,
    computeMs: header.computeMs,
  };
  if (header.encoding === 'custom') {
    return { ...string, holds: 'entry', entry, text: header.payload };
  }
  const decoded = decodeEntry(raw);
  if (decoded === UNREADABLE) return { ...string, holds: 'unreadable', entry, text: raw };
  // Tagged JSON is shown as stored (JSON cannot hold a Map or a Date): the human output
  // revives it.
  const json = header.encoding === 'json' ? decoded : JSON.parse(header.payload);
  return { ...string, holds: 'entry', entry, value: { json } };
}

/** Upper bounds of the TTL buckets, ms. */
const TTL_BOUNDS: readonly [keyof TtlBuckets, number][] = [
  ['1m', 60_000],
  ['10m', 600_000],
  ['1h', 3_600_000],
  ['1d', 86_400_000],
];

/** The bucket of a PTTL reply (-1: no TTL). */
export function ttlBucket(pttl: number): keyof TtlBuckets {
  if (pttl < 0) return 'none';
  for (const [name, bound] of TTL_BOUNDS) if (pttl <= bound) return name;
  return 'longer';
}

/** Measurements of one sampled key; `undefined` when it went away meanwhile. */
interface Measured {
  readonly key: string;
  readonly memory: number;
  readonly pttl: number;
}

/**
 * `stats`: walks every key under the prefix with SCAN (every master), keeps a uniform sample
 * (reservoir sampling) of `sample` keys, measures each sampled key (MEMORY USAGE, PTTL), groups
 * the sample by template (or by its first `depth` segments) and scales up to the whole count;
 * adds Redis's keyspace hits and misses (INFO stats) of every server.
 */
export async function statsCommand(
  session: Session,
  options: { sample: number; depth: number | undefined },
  progress: Progress,
): Promise<StatsResult> {
  const prefix = session.cache.prefix;
  const servers = session.servers();
  const [databaseKeys, keyspace] = await Promise.all([
    Promise.all(servers.map((server) => server.dbsize())).then(sum),
    Promise.all(servers.map((server) => server.info('stats'))).then((infos) => {
      const hits = sum(infos.map((info) => infoField(info, 'keyspace_hits')));
      const misses = sum(infos.map((info) => infoField(info, 'keyspace_misses')));
      return { hits, misses, hitRate: hits + misses === 0 ? null : hits / (hits + misses) };
    }),
  ]);
  let seen = 0;
  let replies = 0;
  const reservoir: string[] = [];
  // The cache's keys (`prefix:…`) and its key index (`prefix|index|…`) in one walk.
  await session.store.scanKeys(`${prefix}[:|]*`, (keys) => {
    replies += 1;
    for (const key of keys) {
      seen += 1;
      if (reservoir.length < options.sample) reservoir.push(key);
      else {
        const slot = Math.floor(Math.random() * seen);
        if (slot < options.sample) reservoir[slot] = key;
      }
    }
    progress.update(
      () =>
        `scanned ~${formatCount(Math.min(replies * SCAN_COUNT, databaseKeys))} of ${formatCount(databaseKeys)} keys, ${formatCount(seen)} under ${prefix}`,
    );
  });
  progress.done();
  // A walk that fits in the sample is counted exactly (SCAN may return a key twice).
  const exact = seen <= options.sample;
  const sample = exact ? [...new Set(reservoir)] : reservoir;
  const total = exact ? sample.length : seen;
  const measured = await measure(session, sample);
  const scale = measured.length === 0 ? 0 : total / measured.length;
  const indexStart = `${prefix}|`;
  const entries = measured.filter(({ key }) => !key.startsWith(indexStart));
  const start = prefix.length + 1;
  const names = entries.map(({ key }) => key.slice(start));
  const grouped =
    options.depth === undefined ? groupByTemplate(names) : groupByDepth(names, options.depth);
  const byName = new Map(entries.map((entry, i) => [names[i] as string, entry]));
  const groups: StatsGroup[] = [...grouped].map(([name, keys]) =>
    groupOf(
      name,
      keys.map((key) => byName.get(key) as Measured),
      scale,
    ),
  );
  const index = measured.filter(({ key }) => key.startsWith(indexStart));
  if (index.length > 0) groups.push(groupOf(INDEX_GROUP, index, scale));
  groups.sort((a, b) => b.keys - a.keys || a.name.localeCompare(b.name));
  return {
    command: 'stats',
    prefix,
    servers: servers.length,
    keys: total,
    databaseKeys,
    sampled: measured.length,
    exact,
    memoryBytes: Math.round(sum(measured.map(({ memory }) => memory)) * scale),
    groupedBy: options.depth === undefined ? 'template' : 'depth',
    depth: options.depth ?? null,
    groups,
    keyspace,
  };
}

/** MEMORY USAGE and PTTL of each key, leaving out keys gone meanwhile. */
async function measure(session: Session, keys: readonly string[]): Promise<Measured[]> {
  const { client } = session;
  const out: Measured[] = [];
  for (let i = 0; i < keys.length; i += BATCH) {
    const batch = keys.slice(i, i + BATCH);
    const answers = await Promise.all(
      batch.map((key) => Promise.all([client.memory('USAGE', key), client.pttl(key)])),
    );
    batch.forEach((key, j) => {
      const [memory, pttl] = answers[j] as [number | null, number];
      if (memory !== null && pttl !== -2) out.push({ key, memory, pttl });
    });
  }
  return out;
}

function groupOf(name: string, keys: readonly Measured[], scale: number): StatsGroup {
  const ttl: Record<keyof TtlBuckets, number> = {
    '1m': 0,
    '10m': 0,
    '1h': 0,
    '1d': 0,
    longer: 0,
    none: 0,
  };
  for (const { pttl } of keys) ttl[ttlBucket(pttl)] += 1;
  return {
    name,
    keys: Math.round(keys.length * scale),
    sampled: keys.length,
    memoryBytes: Math.round(sum(keys.map(({ memory }) => memory)) * scale),
    ttl,
  };
}

/** A numeric field of an INFO reply (`name:value` lines); 0 when absent. */
export function infoField(info: string, name: string): number {
  const match = new RegExp(`^${name}:(\\d+)`, 'm').exec(info);
  return match === null ? 0 : Number(match[1]);
}

function sum(numbers: readonly number[]): number {
  return numbers.reduce((total, n) => total + n, 0);
}
