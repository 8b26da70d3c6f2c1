import { pino } from 'pino';
import { describe, expectTypeOf, it } from 'vitest';
import winston from 'winston';
import {
  type CacheLogger,
  createCache,
  type Duration,
  type DurationString,
  type DurationUnit,
} from '../../src/index.js';

describe('the logger option', () => {
  it('takes console, pino (and its child loggers) and winston as they are', () => {
    createCache({ logger: console });
    createCache({ logger: pino() });
    createCache({ logger: pino().child({ module: 'cache' }) });
    createCache({ logger: winston.createLogger() });
    expectTypeOf(pino()).toExtend<CacheLogger>();
    expectTypeOf(winston.createLogger()).toExtend<CacheLogger>();
  });

  it('needs debug, warn and error; info is optional', () => {
    const write = (_message: string) => undefined;
    createCache({ logger: { debug: write, warn: write, error: write } });
    createCache({ logger: { debug: write, info: write, warn: write, error: write } });
    // @ts-expect-error error is missing
    createCache({ logger: { debug: write, warn: write } });
  });
});

describe('durations', () => {
  const cache = createCache();

  it('take strings with a unit wherever they take numbers', () => {
    createCache({
      ttl: '10m',
      timeout: '150ms',
      invalidationTimeout: '5s',
      invalidationWait: '0ms',
      breaker: { cooldown: '2s' },
      lease: { ttl: '2s', wait: '1.5s' },
      l1: { ttl: '1s' },
    });
    createCache({ ttl: 300, timeout: 150, lease: { ttl: 2000 } });
    cache.cacheable(() => 1, { key: 'k', ttl: '1h', staleTtl: '1d' });
    cache.set('k', 1, { ttl: '90s' });
    cache.getOrSet('k', () => 1, { ttl: '1h' });
    void cache.close({ timeout: '2s' });
    expectTypeOf<'10m'>().toExtend<Duration>();
    expectTypeOf<'150ms'>().toExtend<DurationString>();
  });

  it('reject a string without a known unit', () => {
    // @ts-expect-error not a unit
    createCache({ ttl: '10 minutes' });
    // @ts-expect-error not a unit
    createCache({ timeout: '10x' });
    // @ts-expect-error a number needs its unit
    createCache({ ttl: '600' });
    // @ts-expect-error not a unit
    createCache({ lease: { ttl: '2 seconds' } });
    // @ts-expect-error not a unit
    createCache({ breaker: { cooldown: '2sec' } });
    // @ts-expect-error not a unit
    cache.cacheable(() => 1, { key: 'k', ttl: '1y' });
    // @ts-expect-error not a unit
    cache.cacheable(() => 1, { key: 'k', staleTtl: 'forever' });
    // @ts-expect-error not a unit
    cache.set('k', 1, { ttl: '1 hour' });
    // @ts-expect-error not a unit
    void cache.close({ timeout: 'soon' });
    expectTypeOf<'10 minutes'>().not.toExtend<Duration>();
    expectTypeOf<DurationUnit>().toEqualTypeOf<'ms' | 's' | 'm' | 'h' | 'd'>();
  });
});
