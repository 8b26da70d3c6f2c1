/**
 * The command line's pure parts: key templates recognised from keys, grouping by leading
 * segments, argument parsing, number formatting and the human output of each command (colour
 * off). The commands themselves run against real Redis in test/redis/cli.test.ts.
 */
import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { infoField, ttlBucket } from '../../src/cli/commands.js';
import { CliFailure, Exit } from '../../src/cli/failure.js';
import {
  formatBytes,
  formatCount,
  formatDuration,
  formatPercent,
  formatTable,
} from '../../src/cli/format.js';
import {
  checkUrl,
  integerAtLeast,
  keyBody,
  parseNatMap,
  parseNodes,
  patternBody,
} from '../../src/cli/input.js';
import { progressOn } from '../../src/cli/progress.js';
import { renderInspect, renderInvalidate, renderKeys, renderStats } from '../../src/cli/render.js';
import type { InspectResult, StatsResult } from '../../src/cli/results.js';
import { groupByDepth, groupByTemplate, looksLikeValue } from '../../src/cli/shapes.js';
import { type ContextValue, compileTemplate, encodeKeyValue } from '../../src/index.js';
import {
  COMMENTED,
  FILTERS,
  QUERIES,
  SAMPLE_COUNTS,
  SLUGS,
  USER_IDS,
} from '../helpers/sample-keyspace.js';

const plain = pc.createColors(false);

/** Sizes of the groups, by label. */
function sizes(groups: Map<string, string[]>): Record<string, number> {
  return Object.fromEntries([...groups].map(([label, keys]) => [label, keys.length]));
}

/** The sample keyspace's keys, without prefix, rendered by the library's own templates. */
function sampleKeys(): string[] {
  const render = (template: string, context: Record<string, ContextValue>) =>
    compileTemplate<string>(template)(context);
  return [
    ...SLUGS.map((slug) => render('posts:{{slug}}', { slug })),
    ...COMMENTED.map((slug) => render('posts:{{slug}}:comments', { slug })),
    ...FILTERS.map((filters) => render('posts:list:{{filters}}', { filters })),
    ...USER_IDS.map((id) => render('profile:{{user_id}}', { user_id: id })),
    ...QUERIES.map((query) => render('search:{{query}}', { query })),
    'stats:homepage',
  ];
}

describe('key templates recognised from keys', () => {
  it("finds the sample keyspace's six templates", () => {
    expect(sizes(groupByTemplate(sampleKeys()))).toEqual({
      'posts:{{*}}': SAMPLE_COUNTS.posts,
      'posts:{{*}}:comments': SAMPLE_COUNTS.comments,
      'posts:list:{{*}}': SAMPLE_COUNTS.lists,
      'profile:{{*}}': SAMPLE_COUNTS.profiles,
      'search:{{*}}': SAMPLE_COUNTS.searches,
      'stats:homepage': 1,
    });
  });

  it('takes numbers, UUIDs and encoded or hashed values for values, however few', () => {
    const keys = [
      'profile:7',
      'profile:-1.5',
      'order:0b1e2f3a-4c5d-4e6f-8a9b-0c1d2e3f4a5b',
      `search:${encodeKeyValue('redis cluster')}`,
      `posts:list:${encodeKeyValue({ tag: 'x' })}`,
    ];
    expect(sizes(groupByTemplate(keys))).toEqual({
      'profile:{{*}}': 2,
      'order:{{*}}': 1,
      'search:{{*}}': 1,
      'posts:list:{{*}}': 1,
    });
    expect(looksLikeValue('my-post')).toBe(false);
    expect(looksLikeValue('v2')).toBe(false);
  });

  it('keeps a few plain names apart, and merges more than `siblings` of them', () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `page:${'abcdefghijklm'[i]}`);
    expect(sizes(groupByTemplate(names(10)))).toEqual(
      Object.fromEntries(names(10).map((key) => [key, 1])),
    );
    expect(sizes(groupByTemplate(names(11)))).toEqual({ 'page:{{*}}': 11 });
    expect(sizes(groupByTemplate(names(4), 3))).toEqual({ 'page:{{*}}': 4 });
  });

  it('merges what lies under values: the names under them stay names', () => {
    const keys = USER_IDS.flatMap((id) => [`users:${id}:profile`, `users:${id}:settings`]);
    expect(sizes(groupByTemplate(keys))).toEqual({
      'users:{{*}}:profile': USER_IDS.length,
      'users:{{*}}:settings': USER_IDS.length,
    });
  });

  it('never takes the first segment for a value', () => {
    const keys = Array.from({ length: 20 }, (_, i) => `kind${i}:x`);
    expect(groupByTemplate(keys).size).toBe(20);
    expect(sizes(groupByTemplate(['7:a']))).toEqual({ '7:a': 1 });
  });

  // The limit of reading shapes from keys: a name with few keys under it, among many values,
  // looks like one more value (here `list` with 3 lists beside 30 posts).
  it('takes a name with few keys under it, among many values, for a value', () => {
    const keys = [
      ...SLUGS.map((slug) => `posts:${slug}`),
      ...FILTERS.slice(0, 3).map((filters) => `posts:list:${encodeKeyValue(filters)}`),
    ];
    expect(sizes(groupByTemplate(keys))).toEqual({ 'posts:{{*}}': 30, 'posts:{{*}}:{{*}}': 3 });
  });
});

describe('grouping by leading segments', () => {
  const keys = ['posts', 'posts:a', 'posts:a:comments', 'posts:b', 'stats:homepage'];

  it('labels each group with the pattern that matches it', () => {
    expect(sizes(groupByDepth(keys, 1))).toEqual({ 'posts:*': 4, 'stats:*': 1 });
    expect(sizes(groupByDepth(keys, 2))).toEqual({
      posts: 1,
      'posts:a:*': 2,
      'posts:b:*': 1,
      'stats:homepage:*': 1,
    });
  });
});

describe('arguments', () => {
  it('parses Cluster nodes and a NAT map', () => {
    expect(parseNodes('127.0.0.1:7000,redis-2:7001,[::1]:7002')).toEqual([
      { host: '127.0.0.1', port: 7000 },
      { host: 'redis-2', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(parseNatMap('10.0.0.2:6379=127.0.0.1:32768')).toEqual({
      '10.0.0.2:6379': { host: '127.0.0.1', port: 32768 },
    });
    for (const bad of ['127.0.0.1', '127.0.0.1:', 'host:99999', 'a:1,,b:2']) {
      expect(() => parseNodes(bad), bad).toThrow(/expected host:port/);
    }
    expect(() => parseNatMap('a:1')).toThrow(/expected host:port=host:port/);
  });

  it('takes whole numbers only, from a minimum', () => {
    expect(integerAtLeast(0)('0')).toBe(0);
    expect(integerAtLeast(1)('20')).toBe(20);
    for (const bad of ['0', '-1', '1.5', 'x', '', '1e3']) {
      expect(() => integerAtLeast(1)(bad), bad).toThrow(/whole number of at least 1/);
    }
  });

  it('takes redis:// and rediss:// URLs', () => {
    expect(checkUrl('rediss://user:pw@cache.example:6380/2')).toBe(
      'rediss://user:pw@cache.example:6380/2',
    );
    for (const bad of ['127.0.0.1:6379', 'http://x', 'nope']) {
      expect(() => checkUrl(bad), bad).toThrow(CliFailure);
    }
  });

  it('checks patterns and keys as the manual API does, and refuses placeholders', () => {
    expect(patternBody('posts:*')).toBe('posts:*');
    expect(keyBody('posts:hello%20world')).toBe('posts:hello%20world');
    const usage = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        expect(error).toBeInstanceOf(CliFailure);
        expect((error as CliFailure).exitCode).toBe(Exit.Usage);
        return (error as CliFailure).message;
      }
      throw new Error('no failure');
    };
    expect(usage(() => patternBody('posts:{'))).toBe(
      'bad pattern "posts:{": at character 6: a lone "{" is not allowed; braces only appear as {{name}} placeholders',
    );
    expect(usage(() => patternBody(''))).toMatch(/^bad pattern "": .*cannot be empty/);
    expect(usage(() => patternBody('posts:{{slug}}:*'))).toMatch(
      /^bad pattern "posts:\{\{slug\}\}:\*": \{\{slug\}\} is a placeholder.*or \* for any value$/,
    );
    expect(usage(() => keyBody('posts:*'))).toMatch(/^bad key "posts:\*": .*wildcard/);
    expect(usage(() => keyBody('posts: x'))).toMatch(/whitespace/);
  });
});

describe('formatting', () => {
  it('writes counts, sizes, durations and ratios', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect([0, 183, 1023, 1024, 5018, 2 * 1024 ** 2, 3.5 * 1024 ** 3].map(formatBytes)).toEqual([
      '0 B',
      '183 B',
      '1023 B',
      '1.0 KiB',
      '4.9 KiB',
      '2.0 MiB',
      '3.5 GiB',
    ]);
    expect(
      [0, 850, 1000, 12_400, 598_123, 7_500_000, 3 * 86_400_000 + 4 * 3_600_000].map(
        formatDuration,
      ),
    ).toEqual(['0 ms', '850 ms', '1s', '12s', '9m 58s', '2h 5m', '3d 4h']);
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatPercent(957, 1000)).toBe('95.7%');
    expect(formatPercent(0, 0)).toBe('n/a');
  });

  it('aligns table columns', () => {
    expect(
      formatTable(
        [
          ['name', 'n'],
          ['posts:{{*}}', '30'],
          ['x', '1,234'],
        ],
        ['left', 'right'],
      ),
    ).toEqual(['name             n', 'posts:{{*}}     30', 'x            1,234']);
  });

  it('buckets TTLs and reads INFO fields', () => {
    expect(
      [-1, 0, 60_000, 60_001, 600_000, 3_600_000, 86_400_000, 86_400_001].map(ttlBucket),
    ).toEqual(['none', '1m', '1m', '10m', '10m', '1h', '1d', 'longer']);
    const info = '# Stats\r\nkeyspace_hits:120\r\nkeyspace_misses:7\r\nevicted_keys:0\r\n';
    expect(infoField(info, 'keyspace_hits')).toBe(120);
    expect(infoField(info, 'keyspace_misses')).toBe(7);
    expect(infoField(info, 'expired_keys')).toBe(0);
  });
});

describe('the progress line', () => {
  /** A stderr that records what is written to it. */
  const stream = (isTTY: boolean, columns?: number) => {
    const written: string[] = [];
    const fake = {
      isTTY,
      columns,
      write: (text: string) => written.push(text) > 0,
    } as unknown as NodeJS.WriteStream;
    return { fake, written };
  };

  it('is drawn in place on a terminal, cut to its width, and erased when done', () => {
    const { fake, written } = stream(true, 20);
    const progress = progressOn(fake);
    progress.update(() => '1,000 keys found (1 replies from Redis)');
    progress.done();
    expect(written).toEqual(['\r\x1b[K1,000 keys found (1', '\r\x1b[K']);
  });

  it('writes nothing when stderr is not a terminal', () => {
    const { fake, written } = stream(false);
    const progress = progressOn(fake);
    progress.update(() => 'found');
    progress.done();
    expect(written).toEqual([]);
  });
});

describe('human output', () => {
  it('keys: the count, how the keys were found, the sample and what is left out', () => {
    const lines = renderKeys(
      {
        command: 'keys',
        prefix: 'quickpost',
        pattern: 'posts:*',
        patterns: ['quickpost:posts:*', 'quickpost:posts'],
        count: 3,
        sample: ['posts:a', 'posts:b'],
        foundThrough: 'index',
        scanReason: null,
      },
      plain,
    );
    expect(lines).toEqual([
      '3 keys match quickpost:posts:* and quickpost:posts (found through the key index)',
      '  posts:a',
      '  posts:b',
      '  … and 1 more (--limit N shows more)',
    ]);
  });

  it('keys: when the key index finds nothing, says that --scan finds keys written around it', () => {
    const lines = renderKeys(
      {
        command: 'keys',
        prefix: 'quickpost',
        pattern: 'legacy:*',
        patterns: ['quickpost:legacy:*', 'quickpost:legacy'],
        count: 0,
        sample: [],
        foundThrough: 'index',
        scanReason: null,
      },
      plain,
    );
    expect(lines).toEqual([
      '0 keys match quickpost:legacy:* and quickpost:legacy (found through the key index)',
      'the key index holds no matching key; keys written around the cache are not in it (keys --scan walks every key)',
    ]);
  });

  it('keys: a pattern given with the prefix gets a hint', () => {
    const lines = renderKeys(
      {
        command: 'keys',
        prefix: 'quickpost',
        pattern: 'quickpost:posts:*',
        patterns: ['quickpost:quickpost:posts:*'],
        count: 0,
        sample: [],
        foundThrough: 'scan',
        scanReason: 'asked for with --scan',
      },
      plain,
    );
    expect(lines).toEqual([
      '0 keys match quickpost:quickpost:posts:* (found by SCAN on every master: asked for with --scan)',
      'patterns are given without the prefix: try posts:*',
    ]);
  });

  it('invalidate: what would go, and what went', () => {
    const result = {
      command: 'invalidate',
      prefix: 'quickpost',
      pattern: 'posts:list:*',
      patterns: ['quickpost:posts:list:*', 'quickpost:posts:list'],
      count: 12,
      matched: 12,
      sample: ['posts:list:~a'],
      foundThrough: 'index',
      scanReason: null,
    } as const;
    expect(renderInvalidate({ ...result, dryRun: true }, plain)).toEqual([
      'would delete 12 keys matching quickpost:posts:list:* and quickpost:posts:list (found through the key index)',
      '  posts:list:~a',
      '  … and 11 more (--limit N shows more)',
      'nothing was deleted (--dry-run)',
    ]);
    expect(renderInvalidate({ ...result, dryRun: false, count: 11 }, plain)).toEqual([
      'deleted 11 keys matching quickpost:posts:list:* and quickpost:posts:list (found through the key index)',
      '  posts:list:~a',
      '  … and 11 more (--limit N shows more)',
      '12 keys matched just before; keys came or went meanwhile (writes, expiries)',
    ]);
  });

  const now = Date.parse('2025-06-01T10:00:00.000Z');
  const entry: InspectResult = {
    command: 'inspect',
    prefix: 'quickpost',
    key: 'profile:7',
    fullKey: 'quickpost:profile:7',
    found: true,
    type: 'string',
    holds: 'entry',
    ttlMs: 598_123,
    bytes: 102,
    memoryBytes: 184,
    entry: { version: 1, encoding: 'tagged', expiresAt: now + 298_000, fresh: true, computeMs: 12 },
    value: { id: 7, joined: { $qc: 'D', v: '2024-03-01T00:00:00.000Z' } },
    text: null,
  };

  it('inspect: the header, sizes and the decoded value (lossless types revived)', () => {
    expect(renderInspect(entry, plain, now)).toEqual([
      'key          profile:7 (quickpost:profile:7)',
      'holds        a cached value (entry format 1, lossless JSON (Date, BigInt, Map, Set, undefined))',
      'TTL          9m 58s (598,123 ms)',
      'fresh        for 4m 58s more (until 2025-06-01T10:04:58.000Z)',
      'computed in  12 ms',
      'size         102 bytes stored, 184 bytes in memory (MEMORY USAGE)',
      'value',
      '{ id: 7, joined: 2024-03-01T00:00:00.000Z }',
    ]);
  });

  it('inspect: plain JSON pretty-printed, a stale entry, a lease, a missing key', () => {
    const json: InspectResult = {
      ...entry,
      entry: { version: 1, encoding: 'json', expiresAt: now - 5000, fresh: false, computeMs: 3 },
      value: { slug: 'a', tags: ['x'] },
    };
    const lines = renderInspect(json, plain, now);
    expect(lines[3]).toBe(
      'fresh        no: stale for 5s (since 2025-06-01T09:59:55.000Z; served while one caller refreshes it)',
    );
    expect(lines.slice(6)).toEqual(['value', '{\n  "slug": "a",\n  "tags": [\n    "x"\n  ]\n}']);
    const { value: _value, ...withoutValue } = entry;
    expect(
      renderInspect({ ...withoutValue, holds: 'lease', entry: null, bytes: 33 }, plain, now)[1],
    ).toBe('holds  a lease marker: a caller is computing this value (others wait for it)');
    expect(
      renderInspect(
        { ...withoutValue, found: false, type: null, holds: null, entry: null },
        plain,
        now,
      ),
    ).toEqual(['not found: quickpost:profile:7']);
  });

  it('stats: totals, the table by template, the keyspace hit rate', () => {
    const ttl = { '1m': 0, '10m': 0, '1h': 0, '1d': 0, longer: 0, none: 0 };
    const result: StatsResult = {
      command: 'stats',
      prefix: 'quickpost',
      servers: 3,
      keys: 42,
      databaseKeys: 1000,
      sampled: 42,
      exact: true,
      memoryBytes: 9000,
      groupedBy: 'template',
      depth: null,
      groups: [
        {
          name: 'posts:{{*}}',
          keys: 30,
          sampled: 30,
          memoryBytes: 7000,
          ttl: { ...ttl, '10m': 30 },
        },
        {
          name: '(key index)',
          keys: 12,
          sampled: 12,
          memoryBytes: 2000,
          ttl: { ...ttl, '1h': 12 },
        },
      ],
      keyspace: { hits: 90, misses: 10, hitRate: 0.9 },
    };
    expect(renderStats(result, plain)).toEqual([
      '42 keys under the prefix quickpost (of 1,000 in the database, 3 masters)',
      'memory 8.8 KiB (MEMORY USAGE of all 42 keys)',
      '',
      'template     keys   memory    avg  ≤1m  ≤10m  ≤1h  ≤1d  >1d  no TTL',
      'posts:{{*}}    30  6.8 KiB  233 B    0    30    0    0    0       0',
      '(key index)    12  2.0 KiB  167 B    0     0   12    0    0       0',
      'TTL columns: keys by remaining time to live; {{*}} stands for the values of a placeholder',
      '',
      'Redis keyspace hit rate 90.0% (90 hits, 10 misses)',
      "  INFO stats of 3 masters summed, since each started (or CONFIG RESETSTAT): all clients and keys, this tool's earlier lookups too",
    ]);
    const sampled = renderStats(
      { ...result, exact: false, keys: 4200, sampled: 42, groupedBy: 'depth', depth: 1 },
      plain,
    );
    expect(sampled[0]).toBe(
      '~4,200 keys under the prefix quickpost (of 1,000 in the database, 3 masters)',
    );
    expect(sampled[1]).toBe('memory ~8.8 KiB (MEMORY USAGE of 42 sampled keys)');
    expect(sampled[3]).toMatch(/^first 1 segment /);
    expect(sampled[4]).toMatch(/^posts:\{\{\*\}\} {2,}~30 +~6\.8 KiB/);
  });
});
