/**
 * A miss answers its caller once its fill is sent, not once Redis confirms it: Redis applies what
 * one connection sends in order, so every later command of this instance, reads included, comes
 * after the fill. Tested the hard way: replies delayed by 100 ms (the fill's answer is still on
 * its way when the caller goes on), Redis without the fill's script, and Redis frozen while the
 * fill is in flight.
 */
import { randomUUID } from 'node:crypto';
import { type Cluster, Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { type CacheEventMap, createCache, type StoreUnavailableError } from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { adminClient, Cleanups, pauseServer } from '../helpers/faults.js';
import {
  clusterClient,
  type DelayedClient,
  delayedClusterClient,
  delayedStandaloneClient,
  standaloneClient,
} from '../helpers/redis-clients.js';
import { startFaultRedis } from '../helpers/redis-servers.js';
import { quietLogger } from '../helpers/stores.js';

const DELAY_MS = 100;

/** A cache on `client`, what it computed, its `set` events and its errors. */
function postCache(client: Redis | Cluster, timeout: number) {
  const prefix = `sent-${randomUUID().slice(0, 8)}`;
  const cache = createCache({
    store: new RedisStore({ client }),
    prefix,
    timeout,
    logger: quietLogger,
  });
  const computed: string[] = [];
  const sets: string[] = [];
  const errors: CacheEventMap['error'][] = [];
  cache.on('set', ({ key }) => sets.push(key));
  cache.on('error', (event) => errors.push(event));
  const getPost = cache.cacheable(
    async (slug: string) => {
      computed.push(slug);
      return { slug, title: `Post ${slug}` };
    },
    { key: 'posts:{{slug}}', context: (slug) => ({ slug }), ttl: 600 },
  );
  return { cache, prefix, computed, sets, errors, getPost };
}

describe.each([
  ['a standalone Redis', delayedStandaloneClient, standaloneClient],
  ['a 3-master Redis Cluster', delayedClusterClient, clusterClient],
] as const)('a miss on %s, every reply 100 ms late', (_name, connectDelayed, connectDirect) => {
  const cleanups = new Cleanups();
  afterEach(() => cleanups.runAll());

  async function setUp() {
    const delayed: DelayedClient<Redis | Cluster> = await connectDelayed(() => DELAY_MS);
    cleanups.add(() => delayed.closeProxies());
    cleanups.add(() => delayed.client.quit());
    const admin = connectDirect();
    cleanups.add(() => admin.quit());
    const cached = postCache(delayed.client, 5_000);
    // The first miss settles whether leases are allowed; leasing reads start with the second.
    await cached.getPost('warm-1');
    await cached.getPost('warm-2');
    await cached.cache.settled();
    cached.computed.length = 0;
    cached.sets.length = 0;
    return { admin, ...cached };
  }

  it('answers before Redis confirms the fill; this instance reads the value from then on', async () => {
    const { admin, cache, prefix, computed, sets, getPost } = await setUp();
    const key = `${prefix}:posts:a`;
    expect(await getPost('a')).toEqual({ slug: 'a', title: 'Post a' });
    // The fill's answer is still 100 ms away: no `set` yet.
    expect(sets).toEqual([]);
    // Sent after the fill on the same connection, so answered from the value, not the lease.
    const [manual, again] = await Promise.all([cache.get('posts:a'), getPost('a')]);
    expect(manual).toEqual({ slug: 'a', title: 'Post a' });
    expect(again).toEqual({ slug: 'a', title: 'Post a' });
    expect(computed).toEqual(['a']);
    await cache.settled();
    expect(sets).toEqual([key]);
    expect(await admin.get(key)).toContain('"title":"Post a"');
  });

  it('settled() waits for the fills sent before it, not for those sent after', async () => {
    const { cache, prefix, sets, getPost } = await setUp();
    await getPost('f');
    const settling = cache.settled();
    // Its lease is read first, so its fill is sent 100 ms from now and answered 100 ms later.
    const later = getPost('g');
    await settling;
    expect(sets).toEqual([`${prefix}:posts:f`]);
    await later;
    await cache.settled();
    expect(sets).toEqual([`${prefix}:posts:f`, `${prefix}:posts:g`]);
  });

  it('close() waits for the fills already sent', async () => {
    const { admin, cache, prefix, sets, getPost } = await setUp();
    await Promise.all(['b', 'c'].map((slug) => getPost(slug)));
    expect(sets).toEqual([]);
    await cache.close();
    expect(sets.sort()).toEqual([`${prefix}:posts:b`, `${prefix}:posts:c`]);
    expect(await admin.get(`${prefix}:posts:b`)).toContain('"title":"Post b"');
  });
});

describe('a miss on a standalone Redis that forgot its scripts, every reply 100 ms late', () => {
  const cleanups = new Cleanups();
  afterEach(() => cleanups.runAll());

  it('still reads its own fill: the fill goes by its text, so no NOSCRIPT answer reorders it', async () => {
    const delayed = await delayedStandaloneClient(() => DELAY_MS);
    cleanups.add(() => delayed.closeProxies());
    cleanups.add(() => delayed.client.quit());
    const admin = standaloneClient();
    cleanups.add(() => admin.quit());
    const { cache, computed, getPost } = postCache(delayed.client, 5_000);
    await getPost('warm-1');
    await getPost('warm-2');
    await cache.settled();
    await admin.script('FLUSH');
    expect(await getPost('d')).toEqual({ slug: 'd', title: 'Post d' });
    expect(await cache.get('posts:d')).toEqual({ slug: 'd', title: 'Post d' });
    expect(computed).toEqual(['warm-1', 'warm-2', 'd']);
  });
});

describe('a miss whose fill meets a frozen Redis', () => {
  const cleanups = new Cleanups();
  afterEach(() => cleanups.runAll());

  it('answers its caller without waiting for the fill; the late fill stores the value or nothing', async () => {
    const server = await startFaultRedis();
    cleanups.add(() => server.stop());
    const client = new Redis({ host: server.host, port: server.port });
    client.on('error', () => undefined);
    cleanups.add(() => client.disconnect());
    const { cache, prefix, computed, errors, sets, getPost } = postCache(client, 150);
    await getPost('warm-1');
    await getPost('warm-2');
    await cache.settled();
    sets.length = 0;
    let unpause: (() => Promise<void>) | undefined;
    const frozen = cache.cacheable(
      async (slug: string) => {
        computed.push(slug);
        // The lease is taken; Redis freezes before the fill is sent.
        unpause = await pauseServer(server, cleanups);
        return { slug, title: `Post ${slug}` };
      },
      { key: 'posts:{{slug}}', context: (slug) => ({ slug }), ttl: 600 },
    );
    expect(await frozen('e')).toEqual({ slug: 'e', title: 'Post e' });
    // Answered before the fill's timeout (150 ms) ran out: nothing reported yet.
    expect(errors).toEqual([]);
    await cache.settled();
    expect(
      errors.map(({ operation, error }) => [operation, (error as StoreUnavailableError).reason]),
    ).toEqual([['set', 'timeout']]);
    expect(sets).toEqual([]);
    await unpause?.();
    // The fill reached Redis late: the key holds the value, or nothing (its lease released),
    // never a lease nobody will fill.
    const admin = adminClient(server, cleanups);
    await expect
      .poll(async () => {
        const text = await admin.get(`${prefix}:posts:e`);
        return text === null || text.includes('"title":"Post e"');
      })
      .toBe(true);
    expect(await getPost('e')).toEqual({ slug: 'e', title: 'Post e' });
  });
});
