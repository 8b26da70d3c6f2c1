import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type CacheHealth,
  type ChangeListener,
  createCache,
  MemoryStore,
  StoreUnavailableError,
} from '../../src/index.js';
import { ChaosStore } from '../../src/testing/index.js';
import { AsyncMemoryStore, quietLogger } from '../helpers/stores.js';

afterEach(() => {
  vi.useRealTimers();
});

/** Lets the cache start watching its store (a promise callback away). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A MemoryStore whose change notifications the test controls: it keeps the listener. */
class WatchedStore extends MemoryStore {
  listener: ChangeListener | undefined;
  override watch(prefix: string, listener: ChangeListener) {
    this.listener = listener;
    return super.watch(prefix, listener);
  }
}

describe('cache.health()', () => {
  it('is ok on a working store, with every part at rest', async () => {
    const cache = createCache({ store: new MemoryStore() });
    const health: CacheHealth = await cache.health();
    expect(health).toEqual({
      status: 'ok',
      ok: true,
      store: { reachable: true, latencyMs: expect.any(Number) },
      breaker: { state: 'off', failures: 0 },
      invalidations: { pending: 0, retrying: 0, oldestMs: undefined },
      l1: { state: 'off', since: expect.any(Number) },
    });
    const remote = await createCache({ store: new AsyncMemoryStore() }).health();
    expect(remote.breaker).toEqual({ state: 'closed', failures: 0 });
  });

  it('is down when the store does not answer the probe within `timeout`, and says why', async () => {
    const store = new ChaosStore(new MemoryStore());
    const cache = createCache({ store, logger: quietLogger });
    store.hang('get');
    const health = await cache.health({ timeout: 20 });
    expect(health).toMatchObject({
      status: 'down',
      ok: false,
      store: { reachable: false, error: expect.stringContaining('did not answer within 20 ms') },
    });
    expect(health.store.latencyMs).toBeGreaterThanOrEqual(15);
    expect((await cache.health({ timeout: '20ms' })).store.error).toContain('within 20 ms');
    store.fail('get', { error: new Error('NOAUTH Authentication required') });
    expect((await cache.health()).store.error).toBe('NOAUTH Authentication required');
    store.heal();
    expect((await cache.health()).status).toBe('ok');
  });

  it('rejects a bad `timeout` with an InvalidOptionError naming it', async () => {
    const cache = createCache();
    await expect(cache.health({ timeout: -1 })).rejects.toThrow(
      /`timeout` of health\(\) must be a positive number of milliseconds, or a duration such as '500ms'/,
    );
    await expect(cache.health({ timeout: '5 s' as never })).rejects.toMatchObject({
      option: 'timeout',
    });
  });

  it('is degraded while the breaker is open, the probe going around it', async () => {
    const store = new ChaosStore(new MemoryStore());
    const cache = createCache({
      store,
      logger: quietLogger,
      breaker: { failures: 2, cooldown: 60_000 },
    });
    const get = cache.cacheable(async () => 1, { key: 'k' });
    store.fail('get');
    await get();
    await get();
    store.heal();
    const before = store.calls.get;
    const health = await cache.health();
    expect(store.calls.get).toBe(before + 1);
    expect(health).toMatchObject({
      status: 'degraded',
      ok: true,
      store: { reachable: true },
      breaker: { state: 'open', failures: 2 },
    });
    // The probe is not one of the breaker's: it neither closed it nor counts.
    await expect(cache.get('k')).resolves.toBeUndefined();
    expect((await cache.health()).breaker.state).toBe('open');
  });

  it('counts pending invalidations, those retrying, and how long the oldest has waited', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new ChaosStore(new MemoryStore());
    const cache = createCache({ store, logger: quietLogger, invalidationWait: 0 });
    cache.cacheable(async (slug: string) => slug, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    const update = cache.invalidating(async (_slug: string) => undefined, {
      patterns: ['posts:{{slug}}'],
      context: (slug) => ({ slug }),
    });
    store.fail('delete', { error: new StoreUnavailableError('timeout', 150) });
    const requested = Date.now();
    await update('a');
    await vi.waitFor(() => expect(store.calls.delete).toBeGreaterThan(0));
    vi.setSystemTime(requested + 1500);
    expect((await cache.health()).invalidations).toEqual({
      pending: 1,
      retrying: 1,
      oldestMs: 1500,
    });
    expect((await cache.health()).status).toBe('degraded');
    store.heal();
    await vi.waitFor(async () => expect((await cache.health()).invalidations.pending).toBe(0));
    expect(await cache.health()).toMatchObject({
      status: 'ok',
      invalidations: { pending: 0, retrying: 0, oldestMs: undefined },
    });
  });

  it('follows the in-process tier: starting, live, lost, live again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new WatchedStore();
    const cache = createCache({ store, l1: true });
    const made = Date.now();
    expect((await cache.health()).l1).toEqual({ state: 'starting', since: made });
    await settle();
    expect(await cache.health()).toMatchObject({ status: 'ok', l1: { state: 'live' } });
    vi.setSystemTime(made + 1000);
    store.listener?.lost();
    expect(await cache.health()).toMatchObject({
      status: 'degraded',
      l1: { state: 'lost', since: made + 1000 },
    });
    vi.setSystemTime(made + 3000);
    store.listener?.ready();
    expect((await cache.health()).l1).toEqual({ state: 'live', since: made + 3000 });
  });

  it('reports a tier whose change notifications could not start as failed', async () => {
    const store = new WatchedStore();
    store.watch = () => {
      throw new Error('no CLIENT TRACKING here');
    };
    const cache = createCache({ store, l1: true, logger: quietLogger });
    await settle();
    expect(await cache.health()).toMatchObject({ status: 'degraded', l1: { state: 'failed' } });
  });

  it('reports a tier on a store without change notifications as live from the start', async () => {
    const cache = createCache({ store: new AsyncMemoryStore(), l1: true });
    expect((await cache.health()).l1.state).toBe('live');
  });

  it('serves the README’s readiness endpoint: 200 while the store answers, 503 while it does not', async () => {
    const store = new ChaosStore(new MemoryStore());
    const cache = createCache({ store, logger: quietLogger });
    const server = createServer(async (request, response) => {
      if (request.url !== '/ready') {
        response.writeHead(404).end();
        return;
      }
      const health = await cache.health({ timeout: 50 });
      response.writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json' });
      response.end(JSON.stringify(health));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ready`;
      const up = await fetch(url);
      expect(up.status).toBe(200);
      expect(await up.json()).toMatchObject({ status: 'ok', store: { reachable: true } });
      store.hang('get');
      const down = await fetch(url);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ status: 'down', store: { reachable: false } });
    } finally {
      server.close();
    }
  });
});
