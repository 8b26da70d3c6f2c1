// Issue 10: `ttl` and `staleTtl` are seconds, `timeout`, `lease.ttl`, `breaker.cooldown`… are
// milliseconds; a duration string says its unit, so it cannot be mistaken.
import { describe, expect, it } from 'vitest';
import {
  createCache,
  type Duration,
  InvalidOptionError,
  MemoryStore,
  StoreUnavailableError,
} from '../../src/index.js';
import { ChaosStore } from '../../src/testing/index.js';
import { durationMs } from '../../src/util/duration.js';
import { recordingLogger } from '../helpers/stores.js';

/** A MemoryStore that keeps the TTL of each write it receives, by method. */
class TtlRecordingStore extends MemoryStore {
  readonly ttls: string[] = [];

  override set(key: string, value: string, ttlMs: number): void {
    this.ttls.push(`set ${ttlMs}`);
    super.set(key, value, ttlMs);
  }

  override setIfAbsent(key: string, value: string, ttlMs: number): boolean {
    this.ttls.push(`setIfAbsent ${ttlMs}`);
    return super.setIfAbsent(key, value, ttlMs);
  }

  override compareAndSet(
    key: string,
    expected: string,
    value: string,
    ttlMs: number | undefined,
  ): boolean {
    this.ttls.push(`compareAndSet ${ttlMs}`);
    return super.compareAndSet(key, expected, value, ttlMs);
  }
}

/** The InvalidOptionError `run` throws or rejects with. */
async function rejection(run: () => unknown): Promise<InvalidOptionError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return error as InvalidOptionError;
  }
  throw new Error('expected an InvalidOptionError');
}

describe('duration strings', () => {
  it.each([
    ['150ms', 150],
    ['0ms', 0],
    ['2s', 2000],
    ['1.5s', 1500],
    ['.5s', 500],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1.5h', 5_400_000],
    ['1d', 86_400_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(durationMs(text, 'seconds')).toBe(ms);
    expect(durationMs(text, 'milliseconds')).toBe(ms);
  });

  it('reads a number in the unit the option names', () => {
    expect(durationMs(300, 'seconds')).toBe(300_000);
    expect(durationMs(150, 'milliseconds')).toBe(150);
  });

  it.each([
    '10 minutes',
    '10x',
    '10',
    'ms',
    '',
    '-5s',
    '+5s',
    '1e3ms',
    '10 m',
    ' 10s',
    '10s ',
    '0x10s',
    '1.s',
    '10M',
    '10sec',
    '1y',
  ])('refuses %j', (text) => {
    expect(durationMs(text, 'seconds')).toBeUndefined();
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, null, {}])('refuses %j', (value) => {
    expect(durationMs(value, 'milliseconds')).toBeUndefined();
  });
});

describe('duration options', () => {
  it('take the TTLs of the cache, of a wrapper and of a manual write as strings', async () => {
    const store = new TtlRecordingStore();
    const cache = createCache({ store, ttl: '10m', lease: { ttl: '3s', wait: '1s' } });
    expect(cache.ttl).toBe(600);
    const sets: number[] = [];
    cache.on('set', ({ ttlMs }) => sets.push(ttlMs));
    cache.cacheable(() => 1, { key: 'cache-default' })();
    cache.cacheable(() => 1, { key: 'own', ttl: '1h', staleTtl: '30m' })();
    cache.cacheable(() => 1, { key: 'seconds', ttl: 90, staleTtl: 30 })();
    cache.set('manual', 1, { ttl: '1.5h' });
    cache.getOrSet('computed', () => 1, { ttl: '2s' });
    expect(sets).toEqual([600_000, 3_600_000, 90_000, 5_400_000, 2000]);
    // The lease's TTL, then the entry's in the store: its TTL plus the stale grace.
    expect(store.ttls).toEqual([
      'setIfAbsent 3000',
      'compareAndSet 600000',
      'setIfAbsent 3000',
      'compareAndSet 5400000',
      'setIfAbsent 3000',
      'compareAndSet 120000',
      'set 5400000',
      'setIfAbsent 3000',
      'compareAndSet 2000',
    ]);
  });

  it('bound store calls by a `timeout` string', async () => {
    const store = new ChaosStore(new MemoryStore());
    store.hang('set');
    const cache = createCache({ store, timeout: '20ms', breaker: false });
    const error = await cache.set('k', 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toContain('did not answer within 20 ms');
  });

  it('bound invalidation attempts by an `invalidationTimeout` string', async () => {
    const store = new ChaosStore(new MemoryStore());
    store.hang(['deletePattern', 'deleteTracked']);
    const cache = createCache({ store, invalidationTimeout: '30ms', logger: recordingLogger() });
    const error = await cache.deletePattern('posts:*').catch((e: unknown) => e);
    expect((error as Error).message).toContain('did not answer within 30 ms');
    await cache.close({ timeout: '0ms' });
  });

  it('skip a failing store for a `breaker.cooldown` string', async () => {
    const logger = recordingLogger();
    const store = new ChaosStore(new MemoryStore());
    store.fail('get');
    const cache = createCache({ store, logger, breaker: { failures: 1, cooldown: '2s' } });
    await cache.get('k');
    expect(logger.lines.warn).toContainEqual(
      expect.stringContaining('skipping the store for 2000 ms'),
    );
  });

  it.each<[string, Record<string, unknown>]>([
    ['invalidationWait', { invalidationWait: '0ms' }],
    ['l1.ttl', { l1: { ttl: '500ms' } }],
    ['lease.wait', { lease: { wait: '0s' } }],
    ['ttl in days', { ttl: '1d' }],
  ])('accept %s as a string', (_name, options) => {
    expect(() => createCache(options)).not.toThrow();
  });

  it.each<[Record<string, unknown>, string, string]>([
    [
      { ttl: '10 minutes' },
      'ttl',
      "`ttl` must be a positive number of seconds, or a duration such as '10m' (a number right before ms, s, m, h or d), got '10 minutes'",
    ],
    [{ ttl: '0s' }, 'ttl', "got '0s'"],
    [
      { timeout: '-5ms' },
      'timeout',
      "`timeout` must be a positive number of milliseconds, or a duration such as '150ms'",
    ],
    [{ invalidationTimeout: '5 s' }, 'invalidationTimeout', "got '5 s'"],
    [
      { invalidationWait: '1e3ms' },
      'invalidationWait',
      '`invalidationWait` must be a number of milliseconds (0 or more), or a duration',
    ],
    [{ lease: { ttl: '2x' } }, 'lease', "or durations such as '2s'), got { ttl: '2x' }"],
    [{ breaker: { cooldown: '0s' } }, 'breaker', "got { cooldown: '0s' }"],
    [{ l1: { ttl: '1 s' } }, 'l1', "ttl?: ms or a duration such as '1s'"],
  ])('refuse %j naming `%s`', async (options, option, message) => {
    const error = await rejection(() => createCache(options as never));
    expect(error.option).toBe(option);
    expect(error.message).toContain(message);
  });

  it('refuse malformed strings in wrappers, manual writes and close()', async () => {
    const cache = createCache();
    const wrapper = await rejection(() =>
      cache.cacheable(() => 1, { key: 'k', ttl: '10x' as Duration }),
    );
    expect(wrapper.option).toBe('ttl');
    const stale = await rejection(() =>
      cache.cacheable(() => 1, { key: 'k', staleTtl: '-1h' as Duration }),
    );
    expect(stale.message).toContain(
      "`staleTtl` must be a number of seconds (0 or more), or a duration such as '1h'",
    );
    const manual = await rejection(() => cache.set('k', 1, { ttl: '10 m' as Duration }));
    expect(manual.message).toContain('`ttl` must be a positive number of seconds, or a duration');
    expect(manual.message).toContain("got '10 m'");
    const close = await rejection(() => cache.close({ timeout: 'soon' as Duration }));
    expect(close.message).toContain('`timeout` of close() must be a number of milliseconds');
  });
});
