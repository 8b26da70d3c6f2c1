/**
 * The human output of each command, as lines of text (pure functions of the results, so they are
 * tested without Redis). Colour is passed in: none when stdout is not a terminal.
 */
import { inspect } from 'node:util';
import type pc from 'picocolors';
import { fromTagged } from '../codec/lossless.js';
import {
  formatBytes,
  formatCount,
  formatDuration,
  formatPercent,
  formatTable,
  plural,
} from './format.js';
import type {
  FoundThrough,
  InspectResult,
  InvalidateResult,
  KeysResult,
  StatsResult,
  TtlBuckets,
} from './results.js';

/** Colour functions (all identity when colour is off). */
export type Colors = ReturnType<typeof pc.createColors>;

/** How keys were found, for a person. */
function through(found: FoundThrough, scanReason: string | null): string {
  if (found === 'index') return 'found through the key index';
  if (found === 'key') return 'one key, looked up directly';
  return `found by SCAN on every master${scanReason === null ? '' : `: ${scanReason}`}`;
}

/** The patterns looked for, for a person: `quickpost:posts:*` and `quickpost:posts`. */
function patternsText(patterns: readonly string[]): string {
  return patterns.join(' and ');
}

function sampleLines(sample: readonly string[], count: number, c: Colors): string[] {
  const lines = sample.map((key) => `  ${key}`);
  if (count > sample.length) {
    lines.push(c.dim(`  … and ${formatCount(count - sample.length)} more (--limit N shows more)`));
  }
  return lines;
}

/**
 * When the key index found nothing: keys written without it (around the cache, or by a version
 * without an index) are not in it, and only a SCAN finds them.
 */
function indexHint(found: FoundThrough, count: number, c: Colors): string[] {
  return found === 'index' && count === 0
    ? [
        c.dim(
          'the key index holds no matching key; keys written around the cache are not in it (keys --scan walks every key)',
        ),
      ]
    : [];
}

/** `keys`. */
export function renderKeys(result: KeysResult, c: Colors): string[] {
  const lines = [
    `${c.bold(plural(result.count, 'key'))} match ${patternsText(result.patterns)} ${c.dim(`(${through(result.foundThrough, result.scanReason)})`)}`,
    ...sampleLines(result.sample, result.count, c),
    ...indexHint(result.foundThrough, result.count, c),
  ];
  if (result.count === 0 && result.pattern.startsWith(`${result.prefix}:`)) {
    lines.push(
      c.yellow(
        `patterns are given without the prefix: try ${result.pattern.slice(result.prefix.length + 1)}`,
      ),
    );
  }
  return lines;
}

/** `invalidate`. */
export function renderInvalidate(result: InvalidateResult, c: Colors): string[] {
  const head = result.dryRun
    ? `${c.bold(`would delete ${plural(result.count, 'key')}`)} matching ${patternsText(result.patterns)}`
    : `${c.bold(`deleted ${plural(result.count, 'key')}`)} matching ${patternsText(result.patterns)}`;
  const lines = [`${head} ${c.dim(`(${through(result.foundThrough, result.scanReason)})`)}`];
  lines.push(...sampleLines(result.sample, result.matched, c));
  lines.push(...indexHint(result.foundThrough, result.matched, c));
  if (result.dryRun) lines.push(c.dim('nothing was deleted (--dry-run)'));
  else if (result.count !== result.matched) {
    lines.push(
      c.dim(
        `${plural(result.matched, 'key')} matched just before; keys came or went meanwhile (writes, expiries)`,
      ),
    );
  }
  return lines;
}

const HOLDS: Record<NonNullable<InspectResult['holds']>, string> = {
  entry: 'a cached value',
  lease: 'a lease marker: a caller is computing this value (others wait for it)',
  unreadable: 'an entry this version cannot read (unknown format version or corrupt)',
  foreign: 'a string this library did not write',
  'other-type': 'a value of another Redis type: not written by this library',
};

const ENCODINGS: Record<NonNullable<InspectResult['entry']>['encoding'], string> = {
  json: 'plain JSON',
  tagged: 'lossless JSON (Date, BigInt, Map, Set, undefined)',
  custom: "a custom serializer's text",
};

/** `inspect`; `now` is the time the key was read, for the relative times. */
export function renderInspect(result: InspectResult, c: Colors, now: number): string[] {
  if (!result.found) return [`${c.red('not found')}: ${result.fullKey}`];
  const rows: [string, string][] = [['key', `${result.key} ${c.dim(`(${result.fullKey})`)}`]];
  const entry = result.entry;
  rows.push([
    'holds',
    entry === null
      ? HOLDS[result.holds ?? 'foreign']
      : `${HOLDS[result.holds ?? 'entry']} ${c.dim(`(entry format ${entry.version}, ${ENCODINGS[entry.encoding]})`)}`,
  ]);
  if (result.type !== 'string') rows.push(['type', result.type ?? '']);
  rows.push([
    'TTL',
    result.ttlMs === null
      ? 'none (never expires)'
      : `${formatDuration(result.ttlMs)} ${c.dim(`(${formatCount(result.ttlMs)} ms)`)}`,
  ]);
  if (entry !== null) {
    const at = new Date(entry.expiresAt).toISOString();
    rows.push([
      'fresh',
      entry.fresh
        ? `for ${formatDuration(entry.expiresAt - now)} more ${c.dim(`(until ${at})`)}`
        : c.yellow(
            `no: stale for ${formatDuration(now - entry.expiresAt)} ${c.dim(`(since ${at}; served while one caller refreshes it)`)}`,
          ),
    ]);
    rows.push(['computed in', formatDuration(entry.computeMs)]);
  }
  const sizes: string[] = [];
  if (result.bytes !== null) sizes.push(`${formatCount(result.bytes)} bytes stored`);
  if (result.memoryBytes !== null) {
    sizes.push(`${formatCount(result.memoryBytes)} bytes in memory (MEMORY USAGE)`);
  }
  if (sizes.length > 0) rows.push(['size', sizes.join(', ')]);
  const lines = formatTable(rows, ['left', 'left'], (text, _row, column) =>
    column === 0 ? c.dim(text) : text,
  );
  if ('value' in result) {
    lines.push(c.dim('value'));
    lines.push(
      entry?.encoding === 'tagged'
        ? inspect(fromTagged(structuredClone(result.value)), {
            depth: null,
            colors: c.isColorSupported,
          })
        : JSON.stringify(result.value, null, 2),
    );
  } else if (result.text !== null) {
    lines.push(c.dim('stored text'));
    lines.push(JSON.stringify(result.text));
  }
  return lines;
}

const BUCKETS: readonly (keyof TtlBuckets)[] = ['1m', '10m', '1h', '1d', 'longer', 'none'];
const BUCKET_HEADERS: Record<keyof TtlBuckets, string> = {
  '1m': '≤1m',
  '10m': '≤10m',
  '1h': '≤1h',
  '1d': '≤1d',
  longer: '>1d',
  none: 'no TTL',
};

/** `stats`. */
export function renderStats(result: StatsResult, c: Colors): string[] {
  const approx = result.exact ? '' : '~';
  const where = result.servers === 1 ? '1 server' : `${result.servers} masters`;
  const lines = [
    `${c.bold(`${approx}${plural(result.keys, 'key')}`)} under the prefix ${result.prefix} ${c.dim(`(of ${formatCount(result.databaseKeys)} in the database, ${where})`)}`,
    `memory ${c.bold(`${approx}${formatBytes(result.memoryBytes)}`)} ${c.dim(`(MEMORY USAGE of ${result.exact ? `all ${formatCount(result.sampled)}` : `${formatCount(result.sampled)} sampled`} keys)`)}`,
    '',
  ];
  const rows = [
    [
      result.groupedBy === 'template'
        ? 'template'
        : `first ${plural(result.depth ?? 0, 'segment')}`,
      'keys',
      'memory',
      'avg',
      ...BUCKETS.map((bucket) => BUCKET_HEADERS[bucket]),
    ],
    ...result.groups.map((group) => [
      group.name,
      `${approx}${formatCount(group.keys)}`,
      `${approx}${formatBytes(group.memoryBytes)}`,
      group.sampled === 0 ? '' : formatBytes(Math.round(group.memoryBytes / group.keys)),
      ...BUCKETS.map((bucket) => formatCount(group.ttl[bucket])),
    ]),
  ];
  lines.push(
    ...formatTable(
      rows,
      ['left', 'right', 'right', 'right', ...BUCKETS.map(() => 'right' as const)],
      (text, row) => (row === 0 ? c.dim(text) : text),
    ),
  );
  lines.push(
    c.dim(
      `TTL columns: ${result.exact ? 'keys' : 'sampled keys'} by remaining time to live${result.groupedBy === 'template' ? '; {{*}} stands for the values of a placeholder' : ''}`,
    ),
  );
  const { hits, misses } = result.keyspace;
  lines.push('');
  lines.push(
    `Redis keyspace hit rate ${c.bold(formatPercent(hits, hits + misses))} ${c.dim(`(${formatCount(hits)} hits, ${formatCount(misses)} misses)`)}`,
    c.dim(
      `  INFO stats ${where === '1 server' ? 'since the server started' : `of ${where} summed, since each started`} (or CONFIG RESETSTAT): all clients and keys, this tool's earlier lookups too`,
    ),
  );
  return lines;
}
