/**
 * Fault tests on a real Redis in a container of each test's own (faults must not reach the
 * servers that other test files share): the container is restarted, paused, the server sleeps
 * (`DEBUG SLEEP`) or the cache's connection is killed (`CLIENT KILL`) while eight loops keep
 * calling a cached function. Every call must return the right value without throwing and without
 * waiting much longer than the store timeout, and calls must come back to hits once the fault is
 * over. Each fault prints its figures in one `[fault]` line.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { getContainerRuntimeClient } from 'testcontainers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { Cleanups, pauseServer } from '../helpers/faults.js';
import { type FaultRedis, startFaultRedis } from '../helpers/redis-servers.js';
import { quietLogger } from '../helpers/stores.js';

const TIMEOUT_MS = 150;
const FN_DELAY_MS = 5;
/** Room for a 2-core machine running Node, Docker and Redis at once: a bound, not a benchmark. */
const MARGIN_MS = 350;
const BOUND_MS = TIMEOUT_MS + FN_DELAY_MS + MARGIN_MS;
const RECOVERY_LIMIT_MS = 10_000;
const LOOPS = 8;
const SLUGS = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];

interface Post {
  slug: string;
  title: string;
  length: number;
}

const postOf = (slug: string): Post => ({ slug, title: `Post ${slug}`, length: slug.length });

/** What happened, counted by the cache's events, its function and the ioredis client. */
interface Counts {
  computed: number;
  hits: number;
  storeErrors: number;
  clientErrors: number;
}

/** One test's own server, its cached function and what they went through. */
interface Fixture {
  server: FaultRedis;
  /** A second connection, for `DEBUG` and `CLIENT KILL`. */
  admin: Redis;
  getPost: (slug: string) => Promise<Post>;
  counts: Counts;
  breaker: { state: 'open' | 'closed'; at: number }[];
}

/** Stops what the running test started (containers, connections), even when it fails. */
const cleanups = new Cleanups();

afterEach(() => cleanups.runAll());

async function setUp(): Promise<Fixture> {
  const server = await startFaultRedis();
  cleanups.add(() => server.stop());
  const counts: Counts = { computed: 0, hits: 0, storeErrors: 0, clientErrors: 0 };
  const breaker: Fixture['breaker'] = [];
  const admin = new Redis({ host: server.host, port: server.port });
  admin.on('error', () => undefined);
  cleanups.add(async () => admin.disconnect());
  // ioredis defaults, except `maxRetriesPerRequest: 1` (default 20): commands waiting while the
  // connection is down (in the offline queue, `enableOfflineQueue: true`, the default) are failed
  // at every second reconnection attempt instead of every 21st (about a minute of backoff), so
  // few are replayed when Redis comes back. The cache abandoned them after `timeout` long before,
  // and a replayed lease request (SET NX) would leave a stray lease that makes callers wait.
  const client = new Redis({
    host: server.host,
    port: server.port,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
  });
  client.on('error', () => {
    counts.clientErrors += 1;
  });
  cleanups.add(async () => client.disconnect());
  const cache = createCache({
    store: new RedisStore({ client }),
    prefix: `fault-${randomUUID().slice(0, 8)}`,
    timeout: TIMEOUT_MS,
    breaker: { failures: 5, cooldown: 500 },
    logger: quietLogger,
  });
  cache.on('hit', () => {
    counts.hits += 1;
  });
  cache.on('error', () => {
    counts.storeErrors += 1;
  });
  cache.on('breaker', ({ state }) => {
    breaker.push({ state, at: performance.now() });
  });
  const getPost = cache.cacheable(
    async (slug: string): Promise<Post> => {
      counts.computed += 1;
      await sleep(FN_DELAY_MS);
      return postOf(slug);
    },
    { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
  );
  for (const slug of SLUGS) expect(await getPost(slug)).toEqual(postOf(slug));
  for (const slug of SLUGS) expect(await getPost(slug)).toEqual(postOf(slug));
  expect(counts.computed).toBe(SLUGS.length);
  expect(counts.hits).toBe(SLUGS.length);
  return { server, admin, getPost, counts, breaker };
}

/** One timed call: when it started and how long it took (ms, from `performance.now()`). */
interface Sample {
  start: number;
  ms: number;
}

interface Load {
  readonly samples: Sample[];
  readonly wrong: string[];
  readonly thrown: unknown[];
  /** One checked, timed call, counted with the load's. */
  call(slug: string): Promise<void>;
  /** Ends the loops and waits for their last calls. */
  stop(): Promise<void>;
}

/** `LOOPS` loops, each calling `getPost` on the slugs in turn, 1 ms apart, until stopped. */
function startLoad(getPost: (slug: string) => Promise<Post>): Load {
  const samples: Sample[] = [];
  const wrong: string[] = [];
  const thrown: unknown[] = [];
  let running = true;
  const call = async (slug: string) => {
    const start = performance.now();
    try {
      const post = await getPost(slug);
      const want = postOf(slug);
      if (post.slug !== want.slug || post.title !== want.title || post.length !== want.length) {
        wrong.push(`${slug}: ${JSON.stringify(post)}`);
      }
    } catch (error) {
      thrown.push(error);
    }
    samples.push({ start, ms: performance.now() - start });
  };
  const loop = async (first: number) => {
    for (let i = first; running; i += 1) {
      await call(SLUGS[i % SLUGS.length] ?? 'alpha');
      await sleep(1);
    }
  };
  const loops = Array.from({ length: LOOPS }, (_, i) => loop(i));
  return {
    samples,
    wrong,
    thrown,
    call,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/**
 * Polls until one round of calls on every slug, made while the load goes on, is answered from
 * Redis: hits, and no computation anywhere meanwhile. Returns when that round's answers were in.
 */
async function waitForHits(fixture: Fixture, load: Load): Promise<number> {
  let at = 0;
  await vi.waitFor(
    async () => {
      const computed = fixture.counts.computed;
      const hits = fixture.counts.hits;
      await Promise.all(SLUGS.map((slug) => load.call(slug)));
      expect(fixture.counts.computed).toBe(computed);
      expect(fixture.counts.hits - hits).toBeGreaterThanOrEqual(SLUGS.length);
      at = performance.now();
    },
    { timeout: RECOVERY_LIMIT_MS, interval: 20 },
  );
  return at;
}

/** Stops the container (SIGTERM, as a redeploy does), leaves it down for `downMs`, starts it again. */
async function stopAndStart(server: FaultRedis, downMs: number): Promise<void> {
  const runtime = await getContainerRuntimeClient();
  const container = runtime.container.getById(server.container.getId());
  await runtime.container.stop(container, { timeout: 10 });
  await sleep(downMs);
  await runtime.container.start(container);
  await waitUntilAnswering(server);
}

/** Waits until a new connection to the server gets an answer to PING. */
async function waitUntilAnswering(server: FaultRedis): Promise<void> {
  await vi.waitFor(
    async () => {
      const probe = new Redis({
        host: server.host,
        port: server.port,
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        expect(await probe.ping()).toBe('PONG');
      } finally {
        probe.disconnect();
      }
    },
    { timeout: 30_000, interval: 20 },
  );
}

/** The `p`-th percentile of sorted values (nearest rank). */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((sorted.length * p) / 100) - 1)] ?? 0;
}

/**
 * Runs the load, injects the fault once it is warm, waits for hits to come back, checks every
 * call and prints the figures. `fault` resolves when the fault is over (the server answers again).
 */
async function underLoad(name: string, fixture: Fixture, fault: () => Promise<void>) {
  const { counts } = fixture;
  const load = startLoad(fixture.getPost);
  let faultStart = 0;
  let faultEnd = 0;
  let recoveredAt = 0;
  let computedBefore = 0;
  try {
    await sleep(300);
    computedBefore = counts.computed;
    faultStart = performance.now();
    await fault();
    faultEnd = performance.now();
    recoveredAt = await waitForHits(fixture, load);
    await sleep(300);
  } finally {
    await load.stop();
  }
  const computedDuring = counts.computed - computedBefore;
  // Settled: a final batch is all hits.
  const computed = counts.computed;
  for (let round = 0; round < 3; round += 1) {
    await Promise.all(SLUGS.map((slug) => load.call(slug)));
  }
  const finalComputed = counts.computed - computed;

  const during = load.samples
    .filter((s) => s.start <= recoveredAt && s.start + s.ms >= faultStart)
    .map((s) => s.ms)
    .sort((a, b) => a - b);
  const worst = during.at(-1) ?? 0;
  const p99 = percentile(during, 99);
  const worstOverall = load.samples.reduce((max, s) => Math.max(max, s.ms), 0);
  const opened = fixture.breaker.filter((e) => e.state === 'open' && e.at >= faultStart).length;
  const recoveryMs = recoveredAt - faultEnd;
  console.log(
    `[fault] ${name}: calls=${load.samples.length}, worst=${worst.toFixed(1)} ms, p99=${p99.toFixed(1)} ms, breaker opened=${opened > 0 ? `yes (${opened}x)` : 'no'}, recovered to hits after ${Math.round(recoveryMs)} ms` +
      ` (fault lasted ${Math.round(faultEnd - faultStart)} ms; ${during.length} calls from fault start to recovery, p50=${percentile(during, 50).toFixed(1)} ms; worst of the whole run ${worstOverall.toFixed(1)} ms; computed ${computedDuring}x; store errors ${counts.storeErrors}; ioredis errors ${counts.clientErrors}; thrown ${load.thrown.length}; wrong ${load.wrong.length})`,
  );

  expect(load.thrown.length, String(load.thrown[0])).toBe(0);
  expect(load.wrong.slice(0, 5)).toEqual([]);
  expect(worstOverall).toBeLessThanOrEqual(BOUND_MS);
  expect(p99).toBeLessThanOrEqual(BOUND_MS);
  expect(recoveryMs).toBeLessThan(RECOVERY_LIMIT_MS);
  expect(finalComputed).toBe(0);
}

describe('the cache on RedisStore under Redis faults, with 8 concurrent callers', () => {
  it('answers while the container is stopped for 1 s and started again, and comes back to hits', async () => {
    const fixture = await setUp();
    await underLoad('stop+start', fixture, () => stopAndStart(fixture.server, 1000));
  });

  it('answers through a docker pause and comes back to hits after the unpause', async () => {
    const fixture = await setUp();
    await underLoad('pause', fixture, async () => {
      const unpause = await pauseServer(fixture.server, cleanups);
      await sleep(1000);
      await unpause();
    });
  });

  it('answers through DEBUG SLEEP 1 and comes back to hits', async () => {
    const fixture = await setUp();
    await underLoad('debug sleep', fixture, async () => {
      await fixture.admin.call('DEBUG', 'SLEEP', '1');
    });
  });

  it("answers through CLIENT KILL of the cache's connection (3 times, 300 ms apart)", async () => {
    const fixture = await setUp();
    await underLoad('client kill', fixture, async () => {
      for (let kill = 0; kill < 3; kill += 1) {
        if (kill > 0) await sleep(300);
        // SKIPME is on by default: the admin connection survives.
        expect(await fixture.admin.call('CLIENT', 'KILL', 'TYPE', 'normal')).toBeGreaterThan(0);
      }
    });
  });

  it('opens the breaker during a pause and closes it after the unpause', async () => {
    const fixture = await setUp();
    const load = startLoad(fixture.getPost);
    let pausedAt = 0;
    let unpausedAt = 0;
    try {
      await sleep(100);
      const unpause = await pauseServer(fixture.server, cleanups);
      pausedAt = performance.now();
      await vi.waitFor(() => expect(fixture.breaker.map((e) => e.state)).toContain('open'), {
        timeout: 5000,
        interval: 10,
      });
      await sleep(700);
      unpausedAt = performance.now();
      await unpause();
      await vi.waitFor(() => expect(fixture.breaker.at(-1)?.state).toBe('closed'), {
        timeout: RECOVERY_LIMIT_MS,
        interval: 10,
      });
    } finally {
      await load.stop();
    }
    const firstOpen = fixture.breaker.find((e) => e.state === 'open');
    const lastClose = fixture.breaker.at(-1);
    console.log(
      `[fault] breaker: opened ${Math.round((firstOpen?.at ?? 0) - pausedAt)} ms after the pause, closed ${Math.round((lastClose?.at ?? 0) - unpausedAt)} ms after the unpause began (events: ${fixture.breaker.map((e) => e.state).join(', ')})`,
    );
    expect(fixture.breaker[0]?.state).toBe('open');
    expect(fixture.breaker.filter((e) => e.state === 'closed' && e.at < unpausedAt)).toEqual([]);
    expect(load.thrown.length, String(load.thrown[0])).toBe(0);
    expect(load.wrong.slice(0, 5)).toEqual([]);
  });
});
