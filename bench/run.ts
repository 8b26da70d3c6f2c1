/**
 * `npm run bench`: the cost of the cache against a real Redis, next to the floor of a raw
 * ioredis GET + JSON.parse, and the same on node-redis (NodeRedisStore next to the floor of a raw
 * node-redis GET). Not a test: it prints figures and asserts nothing. It measures the built
 * package (dist/, which `npm run bench` builds first), as applications load it.
 *
 * Redis: `REDIS_URL` and `REDIS_CLUSTER_NODES` if set, else containers started through
 * testcontainers (see test/helpers/redis-servers.ts for the environment it reads).
 *
 * Options (environment): BENCH_OPS (operations per measurement, default 20000); BENCH_SIZES
 * (keyspace sizes of the invalidation benchmark, default `100000,1000000`; empty skips it);
 * BENCH_ONLY (a regular expression: only the operations whose name matches are measured, e.g.
 * `BENCH_ONLY='floor|1,000 keys|l1 tier,|l1 tier$'`).
 */
import { Cluster, Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { createClient } from 'redis';
import { createCache } from '../dist/index.js';
import { NodeRedisStore } from '../dist/node-redis.js';
import { RedisStore } from '../dist/redis.js';
import { type RunningRedis, startRedisServers } from '../test/helpers/redis-servers.js';
import { naiveReadThrough, post } from './workload.js';

const OPS = Number(process.env.BENCH_OPS ?? 20_000);
const CONCURRENCY = 64;
const ONLY = new RegExp(process.env.BENCH_ONLY ?? '');

interface Result {
  name: string;
  mode: string;
  ops: number;
  opsPerSec: number;
  p50: number;
  p99: number;
}

/** Latencies (µs) and wall time (s) of `total` calls of `op` made by `workers` concurrent callers. */
async function run(
  workers: number,
  total: number,
  op: (i: number) => Promise<unknown>,
): Promise<{ latencies: number[]; seconds: number }> {
  const latencies = new Array<number>(total);
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const t0 = process.hrtime.bigint();
        await op(i);
        latencies[i] = Number(process.hrtime.bigint() - t0) / 1000;
      }
    }),
  );
  return { latencies, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

function summarize(name: string, workers: number, latencies: number[], seconds: number): Result {
  latencies.sort((a, b) => a - b);
  return {
    name,
    mode: workers === 1 ? 'sequential' : `${workers} concurrent`,
    ops: latencies.length,
    opsPerSec: latencies.length / seconds,
    p50: latencies[Math.floor(latencies.length * 0.5)] ?? 0,
    p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
  };
}

/**
 * Measures several operations in interleaved rounds (A B C, B C A, C A B, …), so that drift in
 * the machine's speed during the run (other processes, Redis's own work) falls on all of them
 * alike instead of on whichever ran last.
 */
async function compare(
  workers: number,
  total: number,
  all: [name: string, op: (i: number) => Promise<unknown>][],
): Promise<Result[]> {
  const operations = all.filter(([name]) => ONLY.test(name));
  const rounds = 10;
  const latencies = operations.map(() => [] as number[]);
  const seconds = operations.map(() => 0);
  for (let round = 0; round < rounds; round += 1) {
    for (let k = 0; k < operations.length; k += 1) {
      const index = (round + k) % operations.length;
      const [, op] = operations[index] as [string, (i: number) => Promise<unknown>];
      const measured = await run(workers, Math.ceil(total / rounds), op);
      latencies[index]?.push(...measured.latencies);
      seconds[index] = (seconds[index] ?? 0) + measured.seconds;
    }
  }
  return operations.map(([name], i) =>
    summarize(name, workers, latencies[i] ?? [], seconds[i] ?? 0),
  );
}

async function main(): Promise<void> {
  const running: RunningRedis = await startRedisServers();
  const { host, port } = running.topology.standalone;
  const url = `redis://${host}:${port}`;
  const raw = new Redis(url);
  const rawPipelined = new Redis(url, { enableAutoPipelining: true });
  const store = new RedisStore({ client: new Redis(url) });
  // A client with ioredis's auto-pipelining: the commands of one turn of the event loop in one
  // write, sent from setImmediate.
  const ownStore = new RedisStore({ client: new Redis(url, { enableAutoPipelining: true }) });
  const cache = createCache({ store, prefix: 'bench' });
  const unindexedStore = new RedisStore({ client: new Redis(url), index: false });
  const tieredStore = new RedisStore({ client: new Redis(url) });
  const leaselessStore = new RedisStore({ client: new Redis(url) });
  const { nodes, natMap } = running.topology.cluster;
  const cluster = () => new Cluster(nodes, natMap === undefined ? {} : { natMap });
  const rawCluster = cluster();
  const clusterStore = new RedisStore({ client: cluster() });
  // node-redis (its default, RESP3): a raw client for the floor, and one for the store.
  const nodeRedis = () =>
    createClient({ url })
      .on('error', () => undefined)
      .connect();
  const nodeRaw = await nodeRedis();
  const nodeStore = new NodeRedisStore({ client: await nodeRedis() });
  try {
    await raw.flushdb();
    const value = post(1);
    const json = JSON.stringify(value);
    console.log(`Redis ${(await raw.info('server')).match(/redis_version:(\S+)/)?.[1]} at ${url}`);
    console.log(`value: ${json.length} bytes of JSON; ${OPS} operations per measurement\n`);

    await raw.set('bench:raw:post', json);
    const getPost = cache.cacheable(async (slug: string) => ({ ...value, slug }), {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
      ttl: 3600,
    });
    const pipelined = createCache({ store: ownStore, prefix: 'bench' });
    const getPostPipelined = pipelined.cacheable(async (slug: string) => ({ ...value, slug }), {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
      ttl: 3600,
    });
    await getPost('hit');
    for (let i = 0; i < 1000; i += 1) await getPost(`warm-${i}`);
    const onNodeRedis = createCache({ store: nodeStore, prefix: 'bench' });
    const getPostNodeRedis = onNodeRedis.cacheable(async (slug: string) => ({ ...value, slug }), {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
      ttl: 3600,
    });
    // The same entries read by a cache without `cache.stats()` counters: what they cost a hit.
    const getPostNoStats = createCache({ store, prefix: 'bench', stats: false }).cacheable(
      async (slug: string) => ({ ...value, slug }),
      { key: 'posts:{{slug}}', context: (slug) => ({ slug }), ttl: 3600 },
    );
    await cache.set('manual:post', value, { ttl: 3600 });
    let missCounter = 0;
    // The same miss with one tag rendered from the context: what a tag adds to a fill.
    const getPostTagged = createCache({ store, prefix: 'bench-tagged' }).cacheable(
      async (slug: string) => ({ ...value, slug }),
      { key: 'posts:{{slug}}', context: (slug) => ({ slug }), ttl: 3600, tags: ['post:{{slug}}'] },
    );
    const unindexed = createCache({ store: unindexedStore, prefix: 'bench-noindex' });
    const tiered = createCache({ store: tieredStore, prefix: 'bench-l1', l1: true });
    const getPostTiered = tiered.cacheable(async (slug: string) => ({ ...value, slug }), {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
      ttl: 3600,
    });
    const tieredNoStats = createCache({
      store: tieredStore,
      prefix: 'bench-l1-nostats',
      l1: true,
      stats: false,
    });
    const getPostTieredNoStats = tieredNoStats.cacheable(
      async (slug: string) => ({ ...value, slug }),
      { key: 'posts:{{slug}}', context: (slug) => ({ slug }), ttl: 3600 },
    );
    const tierModes = (['decoded', 'shared'] as const).map((values) => {
      const modeCache = createCache({
        store: tieredStore,
        prefix: `bench-l1-${values}`,
        l1: { values },
      });
      const wrapped = modeCache.cacheable(async (slug: string) => ({ ...value, slug }), {
        key: 'posts:{{slug}}',
        context: (slug) => ({ slug }),
        ttl: 3600,
      });
      return { values, modeCache, wrapped };
    });
    const leaseless = createCache({ store: leaselessStore, prefix: 'bench-nolease', lease: false });
    const getPostLeaseless = leaseless.cacheable(async (slug: string) => ({ ...value, slug }), {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
      ttl: 3600,
    });
    const onCluster = createCache({ store: clusterStore, prefix: 'bench' });
    const getPostOnCluster = onCluster.cacheable(async (slug: string) => ({ ...value, slug }), {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
      ttl: 3600,
    });
    for (let i = 0; i < 1000; i += 1) await getPostOnCluster(`warm-${i}`);
    await rawCluster.set('bench:raw:post', json);
    const naiveMiss = naiveReadThrough(raw, value);
    const lru = new LRUCache<string, object>({ max: 10_000 });
    lru.set('post', value);
    const getPostUnindexed = unindexed.cacheable(async (slug: string) => ({ ...value, slug }), {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
      ttl: 3600,
    });

    const results: Result[] = [];
    for (const workers of [1, CONCURRENCY]) {
      // Warm-up: JIT and connections.
      await run(workers, 2000, async () => JSON.parse((await raw.get('bench:raw:post')) as string));
      await run(workers, 2000, () => getPost('hit'));
      await run(workers, 2000, (i) => getPostPipelined(`warm-${i % 1000}`));
      await run(workers, 2000, async () =>
        JSON.parse((await rawPipelined.get('bench:raw:post')) as string),
      );
      await run(workers, 2000, () => cache.get('manual:post'));
      await run(workers, 2000, async () =>
        JSON.parse((await nodeRaw.get('bench:raw:post')) as string),
      );
      await run(workers, 2000, (i) => getPostNodeRedis(`warm-${i % 1000}`));
      await getPostTiered('hit');
      await new Promise((resolve) => setTimeout(resolve, 50));
      await run(workers, 2000, () => getPostTiered('hit'));
      await getPostTieredNoStats('hit');
      await new Promise((resolve) => setTimeout(resolve, 50));
      await run(workers, 2000, () => getPostTieredNoStats('hit'));
      for (const mode of tierModes) {
        await mode.wrapped('hit');
        await run(workers, 2000, () => mode.wrapped('hit'));
      }
      await run(workers, 2000, async () =>
        JSON.parse((await rawCluster.get('bench:raw:post')) as string),
      );
      await run(workers, 2000, (i) => getPostOnCluster(`warm-${i % 1000}`));
      results.push(
        ...(await compare(workers, OPS, [
          [
            'raw GET + JSON.parse (floor)',
            async () => JSON.parse((await raw.get('bench:raw:post')) as string),
          ],
          ['cacheable hit (one hot key)', () => getPost('hit')],
          ['cacheable hit, 1,000 keys', (i) => getPost(`warm-${i % 1000}`)],
          ['cacheable hit, 1,000 keys, stats off', (i) => getPostNoStats(`warm-${i % 1000}`)],
          [
            'raw GET + JSON.parse, auto-pipelining',
            async () => JSON.parse((await rawPipelined.get('bench:raw:post')) as string),
          ],
          [
            'cacheable hit, 1,000 keys, auto-pipelining',
            (i) => getPostPipelined(`warm-${i % 1000}`),
          ],
          ['manual get', () => cache.get('manual:post')],
          [
            'raw GET + JSON.parse, node-redis',
            async () => JSON.parse((await nodeRaw.get('bench:raw:post')) as string),
          ],
          ['cacheable hit, 1,000 keys, node-redis', (i) => getPostNodeRedis(`warm-${i % 1000}`)],
          ['cacheable hit, l1 tier', () => getPostTiered('hit')],
          ['cacheable hit, l1 tier, stats off', () => getPostTieredNoStats('hit')],
          ...tierModes.map(
            (mode) =>
              [`cacheable hit, l1 tier (values: '${mode.values}')`, () => mode.wrapped('hit')] as [
                string,
                () => Promise<unknown>,
              ],
          ),
          ['bare lru-cache get (reference)', async () => lru.get('post')],
        ])),
      );
      results.push(
        ...(await compare(workers, OPS / 4, [
          ['naive GET + SET miss (miss floor)', () => naiveMiss(`miss-${missCounter++}`)],
          ['cacheable miss', () => getPost(`miss-${missCounter++}`)],
          ['cacheable miss, 1 tag', () => getPostTagged(`miss-${missCounter++}`)],
          ['cacheable miss, no index', () => getPostUnindexed(`miss-${missCounter++}`)],
          ['cacheable miss, leases off', () => getPostLeaseless(`miss-${missCounter++}`)],
          ['cacheable miss, node-redis', () => getPostNodeRedis(`miss-${missCounter++}`)],
        ])),
      );
      const clusterResults = await compare(workers, OPS, [
        [
          'raw GET + JSON.parse (floor)',
          async () => JSON.parse((await rawCluster.get('bench:raw:post')) as string),
        ],
        ['cacheable hit, 1,000 keys', (i) => getPostOnCluster(`warm-${i % 1000}`)],
      ]);
      for (const result of clusterResults) result.mode = `Cluster, ${result.mode}`;
      results.push(...clusterResults);
    }

    print(results);
    await tiered.close({ timeout: 100 });
    await tieredNoStats.close({ timeout: 100 });
    for (const mode of tierModes) await mode.modeCache.close({ timeout: 100 });
    await raw.flushdb();
    const sizes = (process.env.BENCH_SIZES ?? '100000,1000000')
      .split(',')
      .filter((size) => size !== '')
      .map(Number);
    const invalidations: Result[] = [];
    for (const size of sizes) {
      invalidations.push(...(await benchInvalidation('standalone', () => new Redis(url), size)));
    }
    for (const size of sizes) {
      invalidations.push(...(await benchInvalidation('Cluster', cluster, size)));
    }
    print(invalidations);
  } finally {
    raw.disconnect();
    rawPipelined.disconnect();
    store.client.disconnect();
    ownStore.client.disconnect();
    unindexedStore.client.disconnect();
    tieredStore.client.disconnect();
    leaselessStore.client.disconnect();
    rawCluster.disconnect();
    clusterStore.client.disconnect();
    nodeRaw.destroy();
    nodeStore.client.destroy();
    await running.stop();
  }
}

/**
 * Invalidating 1,000 entries among `size` keys: the entries of one post (`posts:<n>:<i>`,
 * tracked in the key index as a cache writes them) among as many other posts, 20 rounds, through
 * the index and, for comparison, by SCAN (`index: false`). Also the index's memory per entry.
 */
async function benchInvalidation(
  topology: string,
  connect: () => Redis | Cluster,
  size: number,
): Promise<Result[]> {
  const GROUP = 1000;
  const groups = size / GROUP;
  const writer = connect();
  const indexed = new RedisStore({ client: connect() });
  const scanning = new RedisStore({ client: connect(), index: false });
  const cache = createCache({ store: indexed, prefix: 'bi', timeout: 5000 });
  const scanCache = createCache({ store: scanning, prefix: 'bi', timeout: 5000 });
  const label = `${(size / 1000).toLocaleString('en-US')}k`;
  try {
    await flushAll(writer);
    // The entries and their index as the cache writes them: a SET each, and the key under its
    // two levels (posts:, posts:<n>:). Written in bulk with one script call per key and level.
    const fill = async (group: number) => {
      const keys = Array.from({ length: GROUP }, (_, i) => `bi:posts:${group}:${i}`);
      const since = performance.now();
      await Promise.all(
        keys.flatMap((key) => [
          writer.set(key, 'v', 'PX', 3_600_000),
          indexed.track(key, 3_600_000),
          indexed.tag(key, [`bi:post:${group}`], 3_600_000, since),
        ]),
      );
    };
    const started = Date.now();
    for (let g = 0; g < groups; g += 1) await fill(g);
    const filledIn = (Date.now() - started) / 1000;
    const rounds = 20;
    const measure = async (target: typeof cache, how: 'index' | 'SCAN' | 'tag') => {
      const times: number[] = [];
      for (let r = 0; r < (how === 'SCAN' ? 3 : rounds); r += 1) {
        const group = (r * 7) % groups;
        const t0 = process.hrtime.bigint();
        const removed =
          how === 'tag'
            ? await target.invalidateTags(['post:{{n}}'], { n: group })
            : await target.deletePattern('posts:{{n}}:*', { n: group });
        times.push(Number(process.hrtime.bigint() - t0) / 1000);
        if (removed !== GROUP) throw new Error(`removed ${removed} keys, expected ${GROUP}`);
        await fill(group);
      }
      return summarize(
        how === 'tag'
          ? `invalidate 1 tag on 1,000 of ${label}`
          : `invalidate 1,000 of ${label}, ${how}`,
        1,
        times,
        times.reduce((sum, us) => sum + us, 0) / 1e6,
      );
    };
    const results = [
      await measure(cache, 'index'),
      await measure(cache, 'tag'),
      await measure(scanCache, 'SCAN'),
    ];
    for (const result of results) result.mode = topology;
    const memory = await indexMemory(writer);
    console.log(
      `[bench] ${topology}, ${label} keys (filled in ${filledIn.toFixed(1)} s): index ${(memory / 1024 / 1024).toFixed(1)} MiB, ${(memory / size).toFixed(0)} bytes per entry`,
    );
    return results;
  } finally {
    await flushAll(writer);
    writer.disconnect();
    indexed.client.disconnect();
    scanning.client.disconnect();
  }
}

/** FLUSHALL on the server, or on every master of a Cluster. */
async function flushAll(client: Redis | Cluster): Promise<void> {
  const servers = client instanceof Cluster ? client.nodes('master') : [client];
  await Promise.all(servers.map((server) => server.flushall()));
}

/** Bytes the index keys take (`MEMORY USAGE` of each), on every server. */
async function indexMemory(client: Redis | Cluster): Promise<number> {
  const servers = client instanceof Cluster ? client.nodes('master') : [client];
  let total = 0;
  for (const server of servers) {
    let cursor = '0';
    do {
      const [next, keys] = await server.scan(cursor, 'MATCH', 'bi|index|*', 'COUNT', 1000);
      cursor = next;
      for (const key of keys) total += Number(await server.memory('USAGE', key, 'SAMPLES', '0'));
    } while (cursor !== '0');
  }
  return total;
}

function print(results: Result[]): void {
  const rows = results.map((r) => [
    r.name,
    r.mode,
    String(r.ops),
    Math.round(r.opsPerSec).toLocaleString('en-US'),
    r.p50.toFixed(1),
    r.p99.toFixed(1),
  ]);
  const header = ['operation', 'mode', 'ops', 'ops/s', 'p50 µs', 'p99 µs'];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] as string).length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < 2 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log('');
  for (const mode of ['sequential', `${CONCURRENCY} concurrent`]) {
    const naive = results.find((r) => r.mode === mode && r.name.startsWith('naive GET + SET'));
    const miss = results.find((r) => r.mode === mode && r.name === 'cacheable miss');
    if (naive && miss) {
      console.log(
        `cacheable miss / naive GET + SET, ${mode}: throughput ${(miss.opsPerSec / naive.opsPerSec).toFixed(2)}x (target: >= 0.75x)`,
      );
    }
    const tagged = results.find((r) => r.mode === mode && r.name === 'cacheable miss, 1 tag');
    if (miss && tagged) {
      console.log(
        `cacheable miss with 1 tag / without, ${mode}: throughput ${(tagged.opsPerSec / miss.opsPerSec).toFixed(2)}x`,
      );
    }
    const clusterFloor = results.find(
      (r) => r.mode === `Cluster, ${mode}` && r.name.startsWith('raw GET'),
    );
    const clusterHit = results.find(
      (r) => r.mode === `Cluster, ${mode}` && r.name === 'cacheable hit, 1,000 keys',
    );
    if (clusterFloor && clusterHit) {
      console.log(
        `Cluster hit (1,000 keys) / Cluster floor, ${mode}: median time ${(clusterHit.p50 / clusterFloor.p50).toFixed(2)}x, throughput ${(clusterHit.opsPerSec / clusterFloor.opsPerSec).toFixed(2)}x`,
      );
    }
    const floor = results.find((r) => r.mode === mode && r.name.startsWith('raw GET'));
    const hit = results.find((r) => r.mode === mode && r.name === 'cacheable hit, 1,000 keys');
    const hot = results.find((r) => r.mode === mode && r.name === 'cacheable hit (one hot key)');
    if (floor && hit) {
      const tier = results.find((r) => r.mode === mode && r.name === 'cacheable hit, l1 tier');
      if (tier) {
        console.log(
          `l1 tier hit / floor, ${mode}: throughput ${(tier.opsPerSec / floor.opsPerSec).toFixed(1)}x, p50 ${tier.p50.toFixed(1)} µs (target: p50 <= 2 µs, >= 25x)`,
        );
      }
      if (hot) {
        console.log(
          `hot key hit / floor, ${mode}: throughput ${(hot.opsPerSec / floor.opsPerSec).toFixed(2)}x (target with 64 callers: >= 1.5x)`,
        );
      }
      const owned = results.find(
        (r) => r.mode === mode && r.name === 'cacheable hit, 1,000 keys, auto-pipelining',
      );
      if (owned) {
        console.log(
          `cacheable hit (1,000 keys, auto-pipelining) / floor, ${mode}: throughput ${(owned.opsPerSec / floor.opsPerSec).toFixed(2)}x`,
        );
      }
      console.log(
        `cacheable hit (1,000 keys) / floor, ${mode}: median time ${(hit.p50 / floor.p50).toFixed(2)}x, throughput ${(hit.opsPerSec / floor.opsPerSec).toFixed(2)}x (target: time <= 1.10x; throughput with 64 callers >= 0.85x)`,
      );
      const nodeFloor = results.find(
        (r) => r.mode === mode && r.name === 'raw GET + JSON.parse, node-redis',
      );
      const nodeHit = results.find(
        (r) => r.mode === mode && r.name === 'cacheable hit, 1,000 keys, node-redis',
      );
      if (nodeFloor && nodeHit) {
        console.log(
          `node-redis: cacheable hit (1,000 keys) / node-redis floor, ${mode}: median time ${(nodeHit.p50 / nodeFloor.p50).toFixed(2)}x, throughput ${(nodeHit.opsPerSec / nodeFloor.opsPerSec).toFixed(2)}x; against the ioredis hit: throughput ${(nodeHit.opsPerSec / hit.opsPerSec).toFixed(2)}x`,
        );
      }
    }
    for (const name of ['cacheable hit, 1,000 keys', 'cacheable hit, l1 tier']) {
      const on = results.find((r) => r.mode === mode && r.name === name);
      const off = results.find((r) => r.mode === mode && r.name === `${name}, stats off`);
      if (on && off) {
        console.log(
          `${name}, stats on / off, ${mode}: median time ${(on.p50 / off.p50).toFixed(2)}x, throughput ${(on.opsPerSec / off.opsPerSec).toFixed(2)}x`,
        );
      }
    }
  }
}

await main();
