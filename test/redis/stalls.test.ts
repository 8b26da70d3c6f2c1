/**
 * No stalls, checked on a real Redis in a container of each test's own: a lease holder that dies
 * (SIGKILL, in another process) stalls others for about `lease.ttl` at most; a holder that lives
 * but never finishes delays a caller by `lease.wait` plus its function, once; 200 callers of one
 * key on a frozen Redis wait about `timeout` plus the function; a user without script permission
 * gets lease-free caching and one clear error line; a GET that fails while SET NX answers does
 * not make the lease loop spin. Each test prints its figures in one `[fault]` line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type CacheOptions, createCache, type Store } from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { ChaosStore } from '../../src/testing/chaos.js';
import { adminClient, Cleanups, pauseServer, sleep } from '../helpers/faults.js';
import { type FaultRedis, startFaultRedis } from '../helpers/redis-servers.js';
import { quietLogger, recordingLogger } from '../helpers/stores.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const TIMEOUT_MS = 150;
/** The default `lease.ttl`. */
const LEASE_TTL_MS = 2000;
/** Room for a 2-core machine running Node, Docker and Redis at once: a bound, not a benchmark. */
const MARGIN_MS = 350;

interface Post {
  slug: string;
  title: string;
}

const postOf = (slug: string): Post => ({ slug, title: `Post ${slug}` });

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

async function ownServer(): Promise<FaultRedis> {
  const server = await startFaultRedis();
  cleanups.add(() => server.stop());
  return server;
}

/** A client of the server (closed after the test). */
function client(server: FaultRedis, extra: { username?: string; password?: string } = {}): Redis {
  const redis = new Redis({
    host: server.host,
    port: server.port,
    maxRetriesPerRequest: 1,
    ...extra,
  });
  redis.on('error', () => undefined);
  cleanups.add(() => redis.disconnect());
  return redis;
}

/** A cache on `store` with a cached `getPost` whose function takes `fnMs`, and what happened. */
function cachedPosts(
  store: Store,
  prefix: string,
  options: Omit<CacheOptions, 'store' | 'prefix'> = {},
  fnMs = 0,
) {
  const cache = createCache<Store>({
    store,
    prefix,
    timeout: TIMEOUT_MS,
    logger: quietLogger,
    ...options,
  });
  const seen = { computed: 0, hits: 0, misses: 0, waits: 0, breaker: [] as string[] };
  cache.on('hit', () => {
    seen.hits += 1;
  });
  cache.on('miss', () => {
    seen.misses += 1;
  });
  cache.on('wait', () => {
    seen.waits += 1;
  });
  cache.on('breaker', ({ state }) => {
    seen.breaker.push(state);
  });
  const getPost = cache.cacheable(
    async (slug: string): Promise<Post> => {
      seen.computed += 1;
      if (fnMs > 0) await sleep(fnMs);
      return postOf(slug);
    },
    { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
  );
  return { cache, getPost, seen };
}

const newPrefix = () => `stalls-${randomUUID().slice(0, 8)}`;

/** How long `run` took, ms, and its result. */
async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await run();
  return { ms: performance.now() - start, value };
}

/** Starts test/helpers/lease-holder.ts in a Node process of its own; killed by pid after the test. */
function startLeaseHolder(server: FaultRedis, prefix: string, slug: string) {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/helpers/lease-holder.ts',
      server.host,
      String(server.port),
      prefix,
      slug,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('the lease holder process did not start');
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  cleanups.add(async () => {
    if (alive()) process.kill(pid, 'SIGKILL');
    await exited;
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    output += String(chunk);
  });
  return { pid, exited, alive, output: () => output };
}

describe('no stalls on Redis', () => {
  it('a lease holder killed with SIGKILL in another process while computing stalls a caller elsewhere for about lease.ttl at most', async () => {
    const server = await ownServer();
    const admin = adminClient(server, cleanups);
    const prefix = newPrefix();
    const key = `${prefix}:posts:hello`;
    const holder = startLeaseHolder(server, prefix, 'hello');

    await vi.waitFor(
      async () => {
        expect(holder.alive(), holder.output()).toBe(true);
        expect((await admin.get(key))?.charCodeAt(0)).toBe(2);
        // Its function runs (the line comes through a pipe, after the lease is in Redis).
        expect(holder.output()).toContain('computing hello');
      },
      { timeout: 30_000, interval: 20 },
    );
    const marker = await admin.get(key);
    // Kept alive by its holder: the same lease is still there after more than lease.ttl.
    await sleep(LEASE_TTL_MS + 500);
    expect(await admin.get(key)).toBe(marker);

    const { getPost, seen } = cachedPosts(new RedisStore({ client: client(server) }), prefix);
    const pttl = await admin.pttl(key);
    const killedAt = performance.now();
    process.kill(holder.pid, 'SIGKILL');
    const { ms, value } = await timed(() => getPost('hello'));
    const sinceKill = performance.now() - killedAt;
    await holder.exited;
    const { value: again } = await timed(() => getPost('hello'));

    console.log(
      `[fault] lease holder killed (SIGKILL, another process): the caller got its value after ${Math.round(ms)} ms (${Math.round(sinceKill)} ms after the kill; lease.ttl ${LEASE_TTL_MS} ms, the lease had ${pttl} ms left at the kill); waited ${seen.waits}x, computed ${seen.computed}x; next call ${seen.hits > 0 ? 'a hit' : 'a miss'}`,
    );
    expect(value).toEqual(postOf('hello'));
    expect(seen.waits).toBe(1);
    expect(seen.computed).toBe(1);
    expect(sinceKill).toBeLessThan(LEASE_TTL_MS + MARGIN_MS);
    expect(again).toEqual(postOf('hello'));
    expect(seen.hits).toBe(1);
  }, 60_000);

  it('a live lease holder that never finishes delays each caller by lease.wait plus its function, once', async () => {
    const LEASE_WAIT_MS = 1000;
    const FN_MS = 50;
    const server = await ownServer();
    const prefix = newPrefix();
    const lease = { wait: LEASE_WAIT_MS };
    // The holder: another instance whose function never returns (its lease is kept alive).
    const holder = createCache<Store>({
      store: new RedisStore({ client: client(server) }),
      prefix,
      logger: quietLogger,
      lease,
    });
    const hang = holder.cacheable((_slug: string): Promise<Post> => new Promise(() => undefined), {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    void hang('hello');
    const admin = adminClient(server, cleanups);
    await vi.waitFor(
      async () => expect((await admin.get(`${prefix}:posts:hello`))?.charCodeAt(0)).toBe(2),
      { timeout: 5000, interval: 5 },
    );
    const x = cachedPosts(new RedisStore({ client: client(server) }), prefix, { lease }, FN_MS);
    const y = cachedPosts(new RedisStore({ client: client(server) }), prefix, { lease }, FN_MS);

    // C1 and C2 (joining C1's computation) in instance X, C3 in instance Y, staggered.
    const c1 = timed(() => x.getPost('hello'));
    await sleep(300);
    const c2 = timed(() => x.getPost('hello'));
    await sleep(300);
    const c3 = timed(() => y.getPost('hello'));
    const calls = await Promise.all([c1, c2, c3]);
    const slowest = Math.max(...calls.map((c) => c.ms));

    console.log(
      `[fault] live lease holder that never finishes (lease.wait ${LEASE_WAIT_MS} ms, function ${FN_MS} ms): callers arriving at 0, 300 and 600 ms took ${calls.map((c) => Math.round(c.ms)).join(', ')} ms; the function ran ${x.seen.computed}x in X, ${y.seen.computed}x in Y`,
    );
    for (const call of calls) expect(call.value).toEqual(postOf('hello'));
    expect(slowest).toBeLessThan(LEASE_WAIT_MS + FN_MS + MARGIN_MS);
    // C2 joined C1's computation in X.
    expect(x.seen.computed).toBe(1);
  });

  it.each([
    { label: 'breaker on', breaker: { failures: 5, cooldown: 2000 } },
    { label: 'breaker off', breaker: false as const },
  ])(
    '200 concurrent callers of one hot key on a frozen Redis all get the value within about timeout plus the function, which runs once ($label)',
    async ({ label, breaker }) => {
      const CALLERS = 200;
      const FN_MS = 50;
      const server = await ownServer();
      const { getPost, seen } = cachedPosts(
        new RedisStore({ client: client(server) }),
        newPrefix(),
        { breaker },
        FN_MS,
      );
      // The hot key is cached, the connection established.
      expect(await getPost('hot')).toEqual(postOf('hot'));
      expect(await getPost('hot')).toEqual(postOf('hot'));
      const computedBefore = seen.computed;

      await pauseServer(server, cleanups);
      const calls = await Promise.all(
        Array.from({ length: CALLERS }, () => timed(() => getPost('hot'))),
      );
      const ms = calls.map((c) => c.ms).sort((p, q) => p - q);
      const slowest = ms.at(-1) ?? 0;
      const runs = seen.computed - computedBefore;

      console.log(
        `[fault] frozen hot key (${label}; ${CALLERS} callers, timeout ${TIMEOUT_MS} ms, function ${FN_MS} ms): slowest ${slowest.toFixed(1)} ms, fastest ${(ms[0] ?? 0).toFixed(1)} ms, median ${(ms[CALLERS / 2] ?? 0).toFixed(1)} ms; the function ran ${runs}x; breaker ${seen.breaker.join(', ') || 'never opened'}`,
      );
      for (const call of calls) expect(call.value).toEqual(postOf('hot'));
      expect(runs).toBeGreaterThanOrEqual(1);
      expect(runs).toBeLessThanOrEqual(3);
      expect(slowest).toBeLessThan(TIMEOUT_MS + FN_MS + MARGIN_MS);
    },
  );

  /** A cache whose connection's ACL user may not run scripts (`-@scripting`), on a server of its own. */
  async function withoutScripting() {
    const server = await ownServer();
    const admin = adminClient(server, cleanups);
    await admin.call('ACL', 'SETUSER', 'noscript', 'on', '>pw', '~*', '+@all', '-@scripting');
    const noscript = client(server, { username: 'noscript', password: 'pw' });
    await expect(noscript.evalsha('0'.repeat(40), 0)).rejects.toThrow(/^NOPERM/);
    const logger = recordingLogger();
    const prefix = newPrefix();
    const posts = cachedPosts(new RedisStore({ client: noscript }), prefix, { logger });
    return { admin, prefix, logger, ...posts };
  }

  it('without script permission (an ACL user with -@scripting) cached functions never wait, cache without leases, and one error line names EVAL/EVALSHA', async () => {
    const { admin, prefix, logger, getPost, seen } = await withoutScripting();

    const first = await timed(() => getPost('hello'));
    const second = await timed(() => getPost('hello'));
    const third = await timed(() => getPost('hello'));
    const hitsOnHello = seen.hits;
    const computedOnHello = seen.computed;
    // More keys, concurrently, then again: misses, then hits.
    const slugs = ['a', 'b', 'c', 'd', 'e'];
    const others = await Promise.all(slugs.map((slug) => timed(() => getPost(slug))));
    const hitsBefore = seen.hits;
    await Promise.all(slugs.map((slug) => getPost(slug)));
    const otherHits = seen.hits - hitsBefore;
    const stored = await admin.get(`${prefix}:posts:hello`);
    const slowest = Math.max(first.ms, second.ms, third.ms, ...others.map((o) => o.ms));

    console.log(
      `[fault] NOPERM (ACL user without @scripting): calls 1–3 on one key took ${[first, second, third].map((c) => c.ms.toFixed(1)).join(', ')} ms (computed ${computedOnHello}x, ${hitsOnHello} hits); 5 more keys concurrently: ${otherHits} hits on the second round; slowest call ${slowest.toFixed(1)} ms; error lines ${logger.lines.error.length}, warn lines ${logger.lines.warn.length}; stored: ${stored === null ? 'nothing' : stored.charCodeAt(0) === 2 ? 'a lease marker' : 'an entry'}; error line: ${logger.lines.error[0]?.slice(0, 120)}…`,
    );
    for (const call of [first, second, third]) expect(call.value).toEqual(postOf('hello'));
    // No call waits for a lease that can never be filled (lease.wait is 5 s).
    expect(slowest).toBeLessThan(1000);
    expect(logger.lines.error).toHaveLength(1);
    expect(logger.lines.error[0]).toMatch(/EVALSHA/);
    expect(logger.lines.error[0]).toMatch(/\bEVAL\b/);
    // Lease-free caching: the key ends up a hit, its entry stored as a plain value.
    expect(seen.hits).toBeGreaterThanOrEqual(1);
    expect(third.value).toEqual(postOf('hello'));
    expect(stored?.charCodeAt(0)).toBe(1);
    expect(otherHits).toBe(slugs.length);
  });

  // The call that discovers the missing permission already caches, lease-free (it used to compute
  // without storing, so the first hit came at the third call).
  it('without script permission the very first call already stores its value: a miss, then a hit', async () => {
    const { getPost, seen } = await withoutScripting();
    expect(await getPost('hello')).toEqual(postOf('hello'));
    expect(await getPost('hello')).toEqual(postOf('hello'));
    expect({ computed: seen.computed, hits: seen.hits }).toEqual({ computed: 1, hits: 1 });
  });

  // A user that may run scripts and touch the cache's entries, whose access to the index keys is
  // taken away while the cache runs: the index is given up (pattern deletes scan) and leases go
  // on, whichever command first meets the refusal (here the one script of a lone miss).
  it('keeps storing values under leases when an ACL change takes the index keys away', async () => {
    const server = await ownServer();
    const admin = adminClient(server, cleanups);
    const prefix = newPrefix();
    await admin.call('ACL', 'SETUSER', 'noindex', 'on', '>pw', '~*', '+@all');
    const noindex = client(server, { username: 'noindex', password: 'pw' });
    const store = new RedisStore({ client: noindex, index: true });
    const { getPost, seen } = cachedPosts(store, prefix, { logger: recordingLogger() });
    // Two misses: leases are allowed, and the next miss is a one-script leasing read.
    await getPost('warm-1');
    await getPost('warm-2');
    await admin.call('ACL', 'SETUSER', 'noindex', 'resetkeys', `~${prefix}:*`);
    const computed = seen.computed;
    for (const slug of ['a', 'b', 'c']) {
      expect(await getPost(slug)).toEqual(postOf(slug));
      expect(await getPost(slug)).toEqual(postOf(slug));
    }
    expect(seen.computed - computed).toBe(3);
    expect((await admin.get(`${prefix}:posts:c`))?.charCodeAt(0)).toBe(1);
    // Pattern deletes scan instead, and still find the entries.
    expect(await store.deletePattern(`${prefix}:posts:*`)).toBe(5);
  });

  it.each([
    { label: 'the first GET sees no lease, SET NX finds one', plantBefore: false },
    { label: 'the first GET sees a lease', plantBefore: true },
  ])(
    'a GET that fails while SET NX answers does not make the lease loop spin ($label)',
    async ({ label, plantBefore }) => {
      const server = await ownServer();
      const admin = adminClient(server, cleanups);
      const prefix = newPrefix();
      const key = `${prefix}:posts:hello`;
      const chaos = new ChaosStore(new RedisStore({ client: client(server) }));
      // Every GET after the first fails.
      chaos.fail('get', { when: () => chaos.calls.get > 1 });
      const { getPost, seen } = cachedPosts(chaos, prefix);
      // Another process's lease, planted before the first GET or between it and the SET NX.
      const plant = () => admin.set(key, '\x02another-holder', 'PX', 10_000);
      let held: ReturnType<ChaosStore['hold']> | undefined;
      if (plantBefore) await plant();
      else held = chaos.hold('get');

      const call = timed(() => getPost('hello'));
      if (held !== undefined) {
        await held.reached;
        await plant();
        held.release();
      }
      const { ms, value } = await call;
      const calls = Object.entries(chaos.calls).filter(([, n]) => n > 0);
      const total = calls.reduce((sum, [, n]) => sum + n, 0);

      console.log(
        `[fault] GET failing while SET NX answers (${label}): the call returned in ${ms.toFixed(1)} ms after ${total} store calls (${calls.map(([m, n]) => `${m} ${n}`).join(', ')}); computed ${seen.computed}x`,
      );
      expect(value).toEqual(postOf('hello'));
      expect(seen.computed).toBe(1);
      expect(total).toBeLessThanOrEqual(6);
      expect(ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
      // The other holder's lease is left alone.
      expect(await admin.get(key)).toBe('\x02another-holder');
    },
  );
});
