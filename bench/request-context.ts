/**
 * `npm run bench:context`: what a request context costs a cache hit, CPU only (MemoryStore, an
 * async function, so every hit is a promise). Not a test: it prints figures and asserts nothing.
 *
 * Each mode runs in a process of its own, because an AsyncLocalStorage that has run once keeps
 * Node 20's promise hooks on for the rest of the process (they then cost every promise of the
 * application, not only the cache's):
 * - `none`: a cache without a request context (the baseline);
 * - `unused`: a cache with a request context that never runs (it creates no AsyncLocalStorage);
 * - `explicit`: inside `run`, a template filled by `context` alone (promise hooks on, the request
 *   context never read);
 * - `ambient`: inside `run`, `{{user_id}}` filled from the request context.
 *
 * Every mode hits `posts:{{slug}}:{{user_id}}` through a wrapper of the same function; `context`
 * returns both values, except in `ambient`, where it returns `slug` only. Each mode runs
 * BENCH_REPEAT times (processes interleaved across modes) and the median of all its rounds is
 * printed.
 *
 * Options (environment): BENCH_OPS (hits per round, default 200000), BENCH_ROUNDS (default 5),
 * BENCH_REPEAT (default 3).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createCache, requestContext } from '../dist/index.js';

const MODES = ['none', 'unused', 'explicit', 'ambient'] as const;
type Mode = (typeof MODES)[number];
const OPS = Number(process.env.BENCH_OPS ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);

/**
 * CPU nanoseconds per hit in each round, for one mode (in this process): CPU time rather than
 * wall time, so that other processes sharing the machine's cores count less.
 */
async function measure(mode: Mode): Promise<number[]> {
  const ctx = requestContext<{ user_id: string }>();
  const profile = { name: 'Alice', bio: 'x'.repeat(200) };
  // The same function and template in every mode; only where `user_id` comes from differs.
  const fn = async (_slug: string) => profile;
  const key = 'posts:{{slug}}:{{user_id}}';
  let hit: () => Promise<unknown>;
  if (mode === 'ambient') {
    const cache = createCache({ requestContext: ctx, l1: false });
    const getPost = cache.cacheable(fn, { key, context: (slug) => ({ slug }) });
    hit = () => getPost('hello');
  } else {
    const cache =
      mode === 'none'
        ? createCache({ l1: false })
        : createCache({ requestContext: ctx, l1: false });
    const getPost = cache.cacheable(fn, { key, context: (slug) => ({ slug, user_id: '42' }) });
    hit = () => getPost('hello');
  }
  const loop = async (): Promise<number[]> => {
    await hit(); // the miss that fills the entry
    const rounds: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const started = process.cpuUsage();
      for (let i = 0; i < OPS; i += 1) await hit();
      const used = process.cpuUsage(started);
      rounds.push(((used.user + used.system) * 1000) / OPS);
    }
    return rounds;
  };
  return mode === 'explicit' || mode === 'ambient' ? ctx.run({ user_id: '42' }, loop) : loop();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  const mode = process.argv[2] as Mode | undefined;
  if (mode !== undefined) {
    console.log(JSON.stringify(await measure(mode)));
    return;
  }
  const self = fileURLToPath(import.meta.url);
  console.log(
    `Node ${process.version}; ${OPS} hits per round, ${ROUNDS} rounds × ${REPEAT} processes per mode, median round\n`,
  );
  const rounds = new Map<Mode, number[]>(MODES.map((each) => [each, []]));
  for (let repeat = 0; repeat < REPEAT; repeat += 1) {
    for (const each of MODES) {
      const output = execFileSync(process.execPath, [...process.execArgv, self, each], {
        encoding: 'utf8',
      });
      rounds.get(each)?.push(...(JSON.parse(output) as number[]));
    }
  }
  const baseline = median(rounds.get('none') ?? []);
  console.log('mode      CPU ns/hit  vs none');
  for (const each of MODES) {
    const ns = median(rounds.get(each) ?? []);
    console.log(
      `${each.padEnd(8)} ${ns.toFixed(0).padStart(11)}  ${(ns / baseline).toFixed(2).padStart(6)}×`,
    );
  }
}

await main();
