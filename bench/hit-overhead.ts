/**
 * `npm run bench:hits`: what the `cache.stats()` counters cost a hit, measured in process (no
 * Redis), where a hit is cheapest and the counters weigh most: hits of a synchronous function on
 * the MemoryStore, of an async function on an in-process asynchronous store, and from the
 * in-process tier (`l1`). Each is measured with `stats` on and off in interleaved rounds (on, off,
 * off, on, …), by CPU time (process.cpuUsage), which other processes on a busy machine disturb
 * less than wall time; it prints the median of each and of the per-round ratios. Not a test.
 *
 * Options (environment): HITS_ROUNDS (default 30), HITS_PER_ROUND (default 20000).
 */
import { type Cache, createCache, MemoryStore, type Store } from '../dist/index.js';

const ROUNDS = Number(process.env.HITS_ROUNDS ?? 30);
const PER_ROUND = Number(process.env.HITS_PER_ROUND ?? 20_000);

/** A MemoryStore that answers with promises, like a networked store but without the network. */
class AsyncStore implements Store {
  readonly #inner = new MemoryStore();
  async get(key: string) {
    return this.#inner.get(key);
  }
  async set(key: string, value: string, ttlMs: number) {
    this.#inner.set(key, value, ttlMs);
  }
  async delete(key: string) {
    return this.#inner.delete(key);
  }
  async deletePattern(pattern: string) {
    return this.#inner.deletePattern(pattern);
  }
}

const value = { slug: 'post', title: 'Caching in front of any function', likes: 1234, tags: ['a'] };

interface Case {
  name: string;
  /** One hit, per `stats` setting. */
  hit: Record<'on' | 'off', () => unknown>;
  caches: Cache<Store>[];
}

async function makeCase(name: string, make: (stats: boolean) => Cache<Store>): Promise<Case> {
  const hit = {} as Case['hit'];
  const caches: Cache<Store>[] = [];
  for (const setting of ['on', 'off'] as const) {
    const cache = make(setting === 'on');
    caches.push(cache);
    const options = { key: 'posts:hot', ttl: 3600 } as const;
    const get =
      cache.store.sync === true
        ? cache.cacheable(() => ({ ...value }), options)
        : cache.cacheable(async () => ({ ...value }), options);
    await get();
    // The tier keeps a value read from the store after its change notifications started.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await get();
    hit[setting] = get;
  }
  return { name, hit, caches };
}

/** CPU µs spent by `count` sequential calls of `op` (awaited when it answers a promise). */
async function cpu(op: () => unknown, count: number): Promise<number> {
  const started = process.cpuUsage();
  for (let i = 0; i < count; i += 1) {
    const result = op();
    if (result instanceof Promise) await result;
  }
  const used = process.cpuUsage(started);
  return used.user + used.system;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

const cases = [
  await makeCase('sync function, MemoryStore', (stats) => createCache({ stats })),
  await makeCase('async function, in-process async store', (stats) =>
    createCache({ store: new AsyncStore(), stats }),
  ),
  await makeCase('l1 tier (MemoryStore)', (stats) => createCache({ l1: true, stats })),
];
console.log(`${ROUNDS} rounds of ${PER_ROUND} hits per setting, CPU time, interleaved\n`);
console.log(
  'hit path                                 stats on  stats off  on/off (median of rounds)',
);
for (const { name, hit } of cases) {
  // Warm-up: JIT.
  await cpu(hit.on, PER_ROUND);
  await cpu(hit.off, PER_ROUND);
  const on: number[] = [];
  const off: number[] = [];
  const ratios: number[] = [];
  const extra: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const first = round % 2 === 0 ? 'on' : 'off';
    const a = await cpu(hit[first], PER_ROUND);
    const b = await cpu(hit[first === 'on' ? 'off' : 'on'], PER_ROUND);
    const [timeOn, timeOff] = first === 'on' ? [a, b] : [b, a];
    on.push((timeOn * 1000) / PER_ROUND);
    off.push((timeOff * 1000) / PER_ROUND);
    ratios.push(timeOn / timeOff);
    extra.push(((timeOn - timeOff) * 1000) / PER_ROUND);
  }
  console.log(
    `${name.padEnd(40)} ${median(on).toFixed(0).padStart(6)} ns  ${median(off).toFixed(0).padStart(6)} ns  ${median(ratios).toFixed(3)}x (${median(extra).toFixed(0)} ns)`,
  );
}
for (const { caches } of cases) for (const cache of caches) await cache.close({ timeout: 10 });
