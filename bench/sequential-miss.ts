/**
 * `npm run bench:miss`: sequential misses on a standalone Redis, against a naive read-through
 * (GET, then SET with a TTL: no lease, no index) of the same value, on the built package. The two
 * alternate in rounds of BENCH_OPS (default 4,000) misses each, BENCH_ROUNDS times (default 10),
 * so that the machine's drift falls on both; it prints each round and the medians. Narrower than
 * `npm run bench`, whose single figure per operation moves with whatever else the machine does.
 *
 * Redis: `REDIS_URL` if set, else a container started through testcontainers (see
 * test/helpers/redis-servers.ts for the environment it reads).
 */
import { Redis } from 'ioredis';
import { createCache } from '../dist/index.js';
import { RedisStore } from '../dist/redis.js';
import { type RunningRedis, startStandaloneRedis } from '../test/helpers/redis-servers.js';
import { naiveReadThrough, post } from './workload.js';

const OPS = Number(process.env.BENCH_OPS ?? 4000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);

/** Mean µs per call of `ops` sequential calls of `op`, each on a key never read before. */
async function round(op: (slug: string) => Promise<unknown>, name: string): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < OPS; i += 1) await op(`${name}-${i}-${Math.random()}`);
  return ((performance.now() - started) * 1000) / OPS;
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

async function main(): Promise<void> {
  const running: RunningRedis | undefined =
    process.env.REDIS_URL === undefined ? await startStandaloneRedis() : undefined;
  const url =
    process.env.REDIS_URL ??
    `redis://${running?.topology.standalone.host}:${running?.topology.standalone.port}`;
  const raw = new Redis(url);
  const store = new RedisStore({ client: new Redis(url) });
  try {
    await raw.flushdb();
    const value = post(1);
    const cache = createCache({ store, prefix: 'bench' });
    const getPost = cache.cacheable(async (slug: string) => ({ ...value, slug }), {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
      ttl: 3600,
    });
    const naive = naiveReadThrough(raw, value);
    // Warm-up: JIT, connections, the lease probe and the scripts.
    await round(naive, 'warm-naive');
    await round(getPost, 'warm-cache');
    const naives: number[] = [];
    const cached: number[] = [];
    for (let i = 0; i < ROUNDS; i += 1) {
      naives.push(await round(naive, `naive-${i}`));
      cached.push(await round(getPost, `cache-${i}`));
      console.log(
        `round ${i + 1}: naive ${naives[i]?.toFixed(1)} µs, cacheable ${cached[i]?.toFixed(1)} µs`,
      );
    }
    const ratios = naives.map((n, i) => n / (cached[i] as number));
    console.log(
      `\nmedians over ${ROUNDS} rounds of ${OPS} misses: naive GET + SET ${median(naives).toFixed(1)} µs, cacheable ${median(cached).toFixed(1)} µs; throughput ${median(ratios).toFixed(2)}x (median of the rounds' ratios; target >= 0.75x)`,
    );
    await cache.close({ timeout: 100 });
  } finally {
    raw.disconnect();
    store.client.disconnect();
    await running?.stop();
  }
}

await main();
