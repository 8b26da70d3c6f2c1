/**
 * The command line (`quickpost-cache`, the package's bin), built, run as a child process with
 * node against a real standalone Redis and a real 3-master Cluster, on a sample keyspace written
 * through a real cache (test/helpers/sample-keyspace.ts): each command's human and `--json`
 * output, counts checked against the keys in Redis, `--dry-run` deleting nothing, `invalidate`
 * deleting exactly the matches (through the cache's own path), exit codes and messages for an
 * unreachable Redis, a refused command and a bad pattern, and never a KEYS.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {
  InspectResult,
  InvalidateResult,
  KeysResult,
  StatsResult,
} from '../../src/cli/results.js';
import { type Cache, createCache } from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { clusterClient, standaloneClient } from '../helpers/redis-clients.js';
import { freePort } from '../helpers/redis-servers.js';
import {
  COMMENTED,
  FILTERS,
  SAMPLE_COUNTS,
  SAMPLE_TOTAL,
  SLUGS,
  samplePost,
  writeSampleKeyspace,
} from '../helpers/sample-keyspace.js';
import { deferred } from '../helpers/stores.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** How a run of the command line ended. */
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Children still running, stopped by pid if the file ends before they do. */
const running = new Set<ChildProcess>();

/**
 * Runs the built command line with node. Its environment has no REDIS_URL nor FORCE_COLOR unless
 * given; a run longer than 60 s is stopped by its pid (and then fails on its exit code).
 */
function cli(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  const base = { ...process.env };
  delete base.REDIS_URL;
  delete base.FORCE_COLOR;
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => {
    if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  }, 60_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs with `--json`, expects exit code `code`, and parses stdout. */
async function json<T>(args: readonly string[], code = 0): Promise<T> {
  const run = await cli([...args, '--json']);
  expect(run.code, run.stderr).toBe(code);
  return JSON.parse(run.stdout) as T;
}

/** Runs for human output, expects exit code `code`, and returns stdout's lines. */
async function human(args: readonly string[], code = 0): Promise<string[]> {
  const run = await cli(args);
  expect(run.code, run.stderr).toBe(code);
  // Piped, with neither FORCE_COLOR nor a terminal: no colour, no progress line.
  expect(run.stdout).not.toContain('\x1b[');
  expect(run.stderr).toBe('');
  return run.stdout.trimEnd().split('\n');
}

/** The servers of a client: itself, or each master of a Cluster. */
function serversOf(client: Redis | Cluster): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}

/** Every key matching `match`, read with SCAN on every server. */
async function keysIn(client: Redis | Cluster, match: string): Promise<string[]> {
  const found = new Set<string>();
  for (const server of serversOf(client)) {
    let cursor = '0';
    do {
      const [next, keys] = await server.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) found.add(key);
    } while (cursor !== '0');
  }
  return [...found].sort();
}

/** KEYS calls served so far, summed over the servers (INFO commandstats). */
async function keysCalls(client: Redis | Cluster): Promise<number> {
  let calls = 0;
  for (const server of serversOf(client)) {
    const info = await server.info('commandstats');
    calls += Number(/cmdstat_keys:calls=(\d+)/.exec(info)?.[1] ?? 0);
  }
  return calls;
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
});

afterAll(() => {
  for (const child of running) if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
});

describe.each([
  ['a standalone Redis', 'standalone'],
  ['a 3-master Redis Cluster', 'cluster'],
] as const)('quickpost-cache on %s', (_name, topology) => {
  const prefix = `cli-${randomUUID().slice(0, 8)}`;
  let client: Redis | Cluster;
  let cache: Cache<RedisStore>;
  let sample: Awaited<ReturnType<typeof writeSampleKeyspace>>;
  let release: () => void;
  let holding: Promise<unknown>;
  let keysBefore: number;

  /** The options that point the command line at this topology, and the cache's prefix. */
  const target = (): string[] => {
    const redis = inject('redis');
    const where =
      topology === 'standalone'
        ? ['--url', `redis://${redis.standalone.host}:${redis.standalone.port}`]
        : [
            '--cluster',
            redis.cluster.nodes.map(({ host, port }) => `${host}:${port}`).join(','),
            ...(redis.cluster.natMap === undefined
              ? []
              : [
                  '--nat-map',
                  Object.entries(redis.cluster.natMap)
                    .map(([from, { host, port }]) => `${from}=${host}:${port}`)
                    .join(','),
                ]),
          ];
    return [...where, '--prefix', prefix];
  };
  const run = (...args: string[]) => [...args, ...target()];

  /** The keys under the prefix in Redis, without it, matching `match` (a glob without prefix). */
  const stored = async (match: string) =>
    (await keysIn(client, `${prefix}:${match}`)).map((key) => key.slice(prefix.length + 1));

  beforeAll(async () => {
    client = topology === 'standalone' ? standaloneClient() : clusterClient();
    // Leases of 10 minutes: the one held below outlives the tests (a holder extends its lease
    // for at most the longest of lease.ttl, lease.wait and 10 s).
    cache = createCache({
      store: new RedisStore({ client }),
      prefix,
      timeout: 2000,
      lease: { ttl: 600_000 },
    });
    sample = await writeSampleKeyspace(cache);
    // One computation still running: its key holds a lease marker.
    const gate = deferred<void>();
    release = () => gate.resolve();
    const slowJob = cache.cacheable(async (_id: string) => gate.promise.then(() => 'done'), {
      key: 'jobs:{{id}}',
      context: (id) => ({ id }),
    });
    holding = slowJob('slow');
    const deadline = Date.now() + 10_000;
    while ((await client.get(`${prefix}:jobs:slow`))?.startsWith('\x02') !== true) {
      if (Date.now() > deadline) throw new Error('the lease was never written');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    keysBefore = await keysCalls(client);
  });

  afterAll(async () => {
    release();
    await holding;
    await cache.close();
    for (const server of serversOf(client)) {
      for (const key of await keysIn(server, `${prefix}[:|]*`)) await client.unlink(key);
    }
    await client.quit();
  });

  describe('keys', () => {
    it('counts the matches of a pattern through the key index, with a sorted sample', async () => {
      const posts = await stored('posts:*');
      expect(posts).toHaveLength(
        SAMPLE_COUNTS.posts + SAMPLE_COUNTS.comments + SAMPLE_COUNTS.lists,
      );
      const result = await json<KeysResult>(run('keys', 'posts:*'));
      expect(result).toEqual({
        command: 'keys',
        prefix,
        pattern: 'posts:*',
        patterns: [`${prefix}:posts:*`, `${prefix}:posts`],
        count: posts.length,
        sample: posts.slice(0, 20),
        foundThrough: 'index',
        scanReason: null,
      });
    });

    it('finds the same keys by SCAN on every master with --scan', async () => {
      const result = await json<KeysResult>(run('keys', 'posts:*', '--scan', '--limit', '100'));
      expect(result.foundThrough).toBe('scan');
      expect(result.sample).toEqual(await stored('posts:*'));
      expect(result.count).toBe(result.sample.length);
    });

    it('scans, and says why, when the index cannot answer the pattern', async () => {
      const result = await json<KeysResult>(run('keys', '*:comments'));
      expect(result.count).toBe(COMMENTED.length);
      expect(result.foundThrough).toBe('scan');
      expect(result.scanReason).toMatch(/wildcard right after the prefix/);
    });

    it("covers the key without a trailing ':*', and looks up a single key directly", async () => {
      const [commented] = COMMENTED;
      const both = await json<KeysResult>(run('keys', `posts:${commented}:*`));
      expect(both.sample).toEqual([`posts:${commented}`, `posts:${commented}:comments`]);
      const one = await json<KeysResult>(run('keys', 'profile:1001'));
      expect([one.count, one.sample, one.foundThrough]).toEqual([1, ['profile:1001'], 'key']);
      const none = await json<KeysResult>(run('keys', 'profile:999'));
      expect([none.count, none.sample]).toEqual([0, []]);
    });

    it('prints the count, the sample and what is left out', async () => {
      const lines = await human(run('keys', 'profile:*', '--limit', '3'));
      expect(lines).toEqual([
        `25 keys match ${prefix}:profile:* and ${prefix}:profile (found through the key index)`,
        '  profile:1001',
        '  profile:1002',
        '  profile:1003',
        '  … and 22 more (--limit N shows more)',
      ]);
    });
  });

  describe('inspect', () => {
    it('shows a plain JSON entry: value, TTL, sizes and header', async () => {
      const [slug] = SLUGS as [string];
      const before = Date.now();
      const result = await json<InspectResult>(run('inspect', `posts:${slug}`));
      const fullKey = `${prefix}:posts:${slug}`;
      expect(result).toMatchObject({
        command: 'inspect',
        key: `posts:${slug}`,
        fullKey,
        found: true,
        type: 'string',
        holds: 'entry',
        bytes: await client.strlen(fullKey),
        value: samplePost(slug),
        text: null,
      });
      expect(result.entry).toMatchObject({ version: 1, encoding: 'json', fresh: true });
      const ttl = await client.pttl(fullKey);
      expect(result.ttlMs).toBeGreaterThanOrEqual(ttl);
      expect(result.ttlMs).toBeLessThanOrEqual(600_000);
      // The entry was written with a 600 s TTL, less than a minute ago.
      expect(result.entry?.expiresAt).toBeGreaterThan(before + 540_000);
      expect(result.entry?.expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
      expect(result.memoryBytes).toBe(await client.memory('USAGE', fullKey));

      const lines = await human(run('inspect', `posts:${slug}`));
      expect(lines[0]).toBe(`key          posts:${slug} (${fullKey})`);
      expect(lines[1]).toBe('holds        a cached value (entry format 1, plain JSON)');
      expect(lines[2]).toMatch(/^TTL {10}9m \d+s \([\d,]+ ms\)$/);
      expect(lines[3]).toMatch(/^fresh {8}for 9m \d+s more \(until \d{4}-.+Z\)$/);
      expect(lines[5]).toBe(
        `size         ${result.bytes} bytes stored, ${result.memoryBytes} bytes in memory (MEMORY USAGE)`,
      );
      expect(lines[6]).toBe('value');
      expect(JSON.parse(lines.slice(7).join('\n'))).toEqual(samplePost(slug));
    });

    it('shows lossless values revived, and as stored in JSON', async () => {
      const result = await json<InspectResult>(run('inspect', 'profile:1001'));
      expect(result.entry?.encoding).toBe('tagged');
      expect(result.value).toEqual({
        id: 1001,
        name: 'user 1001',
        joined: { $qc: 'D', v: '2024-03-01T00:00:00.000Z' },
      });
      const lines = await human(run('inspect', 'profile:1001'));
      expect(lines.at(-1)).toBe(
        "{ id: 1001, name: 'user 1001', joined: 2024-03-01T00:00:00.000Z }",
      );
    });

    it('tells a lease from a value, and keys the cache did not write', async () => {
      const lease = await json<InspectResult>(run('inspect', 'jobs:slow'));
      expect([lease.holds, lease.entry, lease.ttlMs !== null && lease.ttlMs > 0]).toEqual([
        'lease',
        null,
        true,
      ]);
      expect((await human(run('inspect', 'jobs:slow')))[1]).toBe(
        'holds  a lease marker: a caller is computing this value (others wait for it)',
      );
      await client.set(`${prefix}:legacy:text`, 'plain text');
      await client.hset(`${prefix}:legacy:hash`, 'field', 'value');
      try {
        const foreign = await json<InspectResult>(run('inspect', 'legacy:text'));
        expect([foreign.holds, foreign.text, foreign.ttlMs]).toEqual([
          'foreign',
          'plain text',
          null,
        ]);
        const hash = await json<InspectResult>(run('inspect', 'legacy:hash'));
        expect([hash.holds, hash.type]).toEqual(['other-type', 'hash']);
      } finally {
        await client.unlink(`${prefix}:legacy:text`);
        await client.unlink(`${prefix}:legacy:hash`);
      }
    });

    it('ends with exit code 1 for a key that does not exist', async () => {
      const result = await json<InspectResult>(run('inspect', 'posts:no-such-post'), 1);
      expect([result.found, result.fullKey]).toEqual([false, `${prefix}:posts:no-such-post`]);
      expect(await human(run('inspect', 'posts:no-such-post'), 1)).toEqual([
        `not found: ${prefix}:posts:no-such-post`,
      ]);
    });
  });

  describe('stats', () => {
    const expectedTemplates = {
      'posts:{{*}}': SAMPLE_COUNTS.posts,
      'profile:{{*}}': SAMPLE_COUNTS.profiles,
      'posts:list:{{*}}': SAMPLE_COUNTS.lists,
      'posts:{{*}}:comments': SAMPLE_COUNTS.comments,
      'search:{{*}}': SAMPLE_COUNTS.searches,
      'jobs:slow': 1,
      'stats:homepage': 1,
    };

    it('counts every key under the prefix, grouped by template, with memory and TTLs', async () => {
      const index = await keysIn(client, `${prefix}|index|*`);
      const servers = serversOf(client);
      let hitsBefore = 0;
      for (const server of servers) {
        hitsBefore += Number(/keyspace_hits:(\d+)/.exec(await server.info('stats'))?.[1]);
      }
      const result = await json<StatsResult>(run('stats'));
      expect(index.length).toBeGreaterThan(0);
      expect(result).toMatchObject({
        command: 'stats',
        prefix,
        servers: servers.length,
        keys: SAMPLE_TOTAL + 1 + index.length,
        sampled: SAMPLE_TOTAL + 1 + index.length,
        exact: true,
        groupedBy: 'template',
        depth: null,
      });
      expect(Object.fromEntries(result.groups.map((group) => [group.name, group.keys]))).toEqual({
        ...expectedTemplates,
        '(key index)': index.length,
      });
      const group = (name: string) => result.groups.find((g) => g.name === name);
      expect(group('posts:{{*}}')?.ttl).toEqual({
        '1m': 0,
        '10m': SAMPLE_COUNTS.posts,
        '1h': 0,
        '1d': 0,
        longer: 0,
        none: 0,
      });
      expect(group('posts:list:{{*}}')?.ttl['10m']).toBe(SAMPLE_COUNTS.lists);
      expect(group('posts:{{*}}:comments')?.ttl['1h']).toBe(SAMPLE_COUNTS.comments);
      expect(group('profile:{{*}}')?.ttl['1h']).toBe(SAMPLE_COUNTS.profiles);
      expect(group('search:{{*}}')?.ttl['1d']).toBe(SAMPLE_COUNTS.searches);
      expect(group('stats:homepage')?.ttl.longer).toBe(1);
      expect(result.groups.map((g) => g.keys)).toEqual(
        [...result.groups.map((g) => g.keys)].sort((a, b) => b - a),
      );
      let memory = 0;
      for (const key of await keysIn(client, `${prefix}:profile:*`)) {
        memory += (await client.memory('USAGE', key)) ?? 0;
      }
      expect(group('profile:{{*}}')?.memoryBytes).toBe(memory);
      expect(result.memoryBytes).toBe(result.groups.reduce((sum, g) => sum + g.memoryBytes, 0));
      expect(result.databaseKeys).toBeGreaterThanOrEqual(result.keys);
      expect(result.keyspace.hits).toBeGreaterThanOrEqual(hitsBefore);
      expect(result.keyspace.hitRate).toBe(
        result.keyspace.hits / (result.keyspace.hits + result.keyspace.misses),
      );
    });

    it('groups by leading segments with --depth, and estimates from a smaller --sample', async () => {
      const byDepth = await json<StatsResult>(run('stats', '--depth', '1'));
      expect(
        Object.fromEntries(
          byDepth.groups.filter((g) => g.name !== '(key index)').map((g) => [g.name, g.keys]),
        ),
      ).toEqual({
        'posts:*': SAMPLE_COUNTS.posts + SAMPLE_COUNTS.comments + SAMPLE_COUNTS.lists,
        'profile:*': SAMPLE_COUNTS.profiles,
        'search:*': SAMPLE_COUNTS.searches,
        'jobs:*': 1,
        'stats:*': 1,
      });
      const sampled = await json<StatsResult>(run('stats', '--sample', '10'));
      expect([sampled.exact, sampled.sampled, sampled.keys]).toEqual([false, 10, byDepth.keys]);
      expect(sampled.groups.reduce((sum, g) => sum + g.sampled, 0)).toBe(10);
    });

    it('prints totals, a table by template and the keyspace hit rate', async () => {
      const lines = await human(run('stats'));
      const index = (await keysIn(client, `${prefix}|index|*`)).length;
      const total = SAMPLE_TOTAL + 1 + index;
      const where = topology === 'standalone' ? '1 server' : '3 masters';
      expect(lines[0]).toMatch(
        new RegExp(
          `^${total} keys under the prefix ${prefix} \\(of [\\d,]+ in the database, ${where}\\)$`,
        ),
      );
      expect(lines[1]).toMatch(
        new RegExp(`^memory [\\d.]+ KiB \\(MEMORY USAGE of all ${total} keys\\)$`),
      );
      expect(lines[3]).toMatch(/^template +keys +memory +avg +≤1m +≤10m +≤1h +≤1d +>1d +no TTL$/);
      const rows = lines.slice(4, 4 + Object.keys(expectedTemplates).length + 1);
      expect(rows.map((row) => row.split(/ {2,}/).slice(0, 2))).toEqual(
        expect.arrayContaining([
          ['posts:{{*}}', String(SAMPLE_COUNTS.posts)],
          ['posts:{{*}}:comments', String(SAMPLE_COUNTS.comments)],
          ['(key index)', String(index)],
        ]),
      );
      expect(lines.find((line) => line.startsWith('Redis keyspace hit rate'))).toMatch(
        /^Redis keyspace hit rate \d+\.\d% \([\d,]+ hits, [\d,]+ misses\)$/,
      );
    });
  });

  describe('invalidate', () => {
    it('--dry-run shows what would go and deletes nothing', async () => {
      const lists = await stored('posts:list:*');
      expect(lists).toHaveLength(FILTERS.length);
      const result = await json<InvalidateResult>(run('invalidate', 'posts:list:*', '--dry-run'));
      expect(result).toEqual({
        command: 'invalidate',
        prefix,
        pattern: 'posts:list:*',
        patterns: [`${prefix}:posts:list:*`, `${prefix}:posts:list`],
        dryRun: true,
        count: lists.length,
        matched: lists.length,
        sample: lists,
        foundThrough: 'index',
        scanReason: null,
      });
      expect(await stored('posts:list:*')).toEqual(lists);
      const lines = await human(run('invalidate', 'posts:list:*', '--dry-run', '--limit', '1'));
      expect(lines).toEqual([
        `would delete 12 keys matching ${prefix}:posts:list:* and ${prefix}:posts:list (found through the key index)`,
        `  ${lists[0]}`,
        '  … and 11 more (--limit N shows more)',
        'nothing was deleted (--dry-run)',
      ]);
      const calls = sample.calls.lists;
      await sample.listPosts(FILTERS[0] as { tag: string; page: number });
      expect(sample.calls.lists).toBe(calls);
    });

    it('deletes exactly the matching keys, as the cache invalidates them', async () => {
      const lists = await stored('posts:list:*');
      const others = (await stored('*')).filter((key) => !lists.includes(key));
      const result = await json<InvalidateResult>(run('invalidate', 'posts:list:*'));
      expect([result.dryRun, result.count, result.matched, result.sample]).toEqual([
        false,
        lists.length,
        lists.length,
        lists,
      ]);
      expect(await stored('*')).toEqual(others);
      // The cache's own readers miss now, and compute again.
      const calls = sample.calls.lists;
      await sample.listPosts(FILTERS[0] as { tag: string; page: number });
      expect(sample.calls.lists).toBe(calls + 1);
      // The index still names the deleted keys (it prunes them later); keys counts only those
      // that exist.
      expect(await json<KeysResult>(run('keys', 'posts:list:*'))).toMatchObject({
        count: 1,
        foundThrough: 'index',
      });
    });

    it("deletes a post and what is under it with a trailing ':*', and prints what went", async () => {
      const [slug] = COMMENTED as [string];
      const others = (await stored('*')).filter((key) => !key.startsWith(`posts:${slug}`));
      const lines = await human(run('invalidate', `posts:${slug}:*`));
      expect(lines).toEqual([
        `deleted 2 keys matching ${prefix}:posts:${slug}:* and ${prefix}:posts:${slug} (found through the key index)`,
        `  posts:${slug}`,
        `  posts:${slug}:comments`,
      ]);
      expect(await stored('*')).toEqual(others);
    });

    it('deletes by SCAN on every master when the index cannot answer', async () => {
      const comments = await stored('*:comments');
      expect(comments).toHaveLength(COMMENTED.length - 1);
      const result = await json<InvalidateResult>(run('invalidate', '*:comments', '--limit', '0'));
      expect([result.count, result.sample, result.foundThrough]).toEqual([
        comments.length,
        [],
        'scan',
      ]);
      expect(await stored('*:comments')).toEqual([]);
    });
  });

  it('never sent KEYS', async () => {
    expect(await keysCalls(client)).toBe(keysBefore);
  });
});

describe('quickpost-cache when it cannot run', () => {
  it('says which Redis it could not reach, and how to give another (exit code 3)', async () => {
    const port = await freePort();
    const byOption = await cli(['keys', 'posts:*', '--url', `redis://127.0.0.1:${port}`]);
    expect(byOption.code).toBe(3);
    expect(byOption.stdout).toBe('');
    expect(byOption.stderr).toBe(
      `quickpost-cache: cannot reach Redis at redis://127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}); give its address with --url redis://host:port or the REDIS_URL variable, or --cluster host:port,… for a Redis Cluster\n`,
    );
    // REDIS_URL when there is no --url; a password is never shown.
    const byEnv = await cli(['stats', '--json'], {
      REDIS_URL: `redis://reader:s3cret@127.0.0.1:${port}`,
    });
    expect(byEnv.code).toBe(3);
    expect(byEnv.stderr).toContain(`redis://reader:***@127.0.0.1:${port}`);
    expect(byEnv.stderr).not.toContain('s3cret');
    const cluster = await cli(['inspect', 'posts:a', '--cluster', `127.0.0.1:${port}`]);
    expect(cluster.code).toBe(3);
    expect(cluster.stderr).toMatch(
      new RegExp(
        `^quickpost-cache: cannot reach the Redis Cluster at 127\\.0\\.0\\.1:${port} \\(.+\\); give its nodes with --cluster host:port,…\\n$`,
      ),
    );
  });

  it('says what is wrong with a pattern, a key or an option, without connecting (exit code 2)', async () => {
    const port = await freePort();
    const url = ['--url', `redis://127.0.0.1:${port}`];
    const cases: [string[], RegExp][] = [
      [
        ['keys', 'posts:{x}', ...url],
        /^quickpost-cache: bad pattern "posts:\{x\}": at character 6: a lone "\{"/,
      ],
      [['invalidate', 'posts:{{slug}}:*', ...url], /\{\{slug\}\} is a placeholder/],
      [['inspect', 'posts:*', ...url], /^quickpost-cache: bad key "posts:\*": .*wildcard/],
      [
        ['stats', '--prefix', 'a:b', ...url],
        /^quickpost-cache: --prefix must be a non-empty string/,
      ],
      [
        ['keys', 'posts:*', '--url', 'localhost:6379'],
        /--url must be a redis:\/\/ or rediss:\/\/ URL/,
      ],
      [['keys', 'posts:*', '--limit', 'many', ...url], /argument 'many' is invalid/],
      [['keys', ...url], /missing required argument 'pattern'/],
      [['drop', 'posts:*', ...url], /unknown command 'drop'/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args);
      expect([run.code, run.stdout], args.join(' ')).toEqual([2, '']);
      expect(run.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('reports a command Redis refuses (exit code 4): here an ACL user without SCAN', async () => {
    const { host, port } = inject('redis').standalone;
    const admin = new Redis({ host, port });
    const user = `cli-${randomUUID().slice(0, 8)}`;
    try {
      await admin.call('ACL', 'SETUSER', user, 'on', '>pw', '~*', '+@all', '-scan');
      const run = await cli(['keys', '*:comments', '--url', `redis://${user}:pw@${host}:${port}`]);
      expect(run.code).toBe(4);
      expect(run.stderr).toMatch(
        new RegExp(
          `^quickpost-cache: Redis at redis://${user}:\\*\\*\\*@${host}:${port} refused a command: NOPERM.*scan`,
          'i',
        ),
      );
    } finally {
      await admin.call('ACL', 'DELUSER', user);
      await admin.quit();
    }
  });
});
