// Issue 10: with pino as `logger` the error of a failure line was lost (pino takes an object first
// and treats arguments after the message as printf values). Each logger here is the real library
// writing to a stream the test reads.
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import winston from 'winston';
import { type CacheLogger, createCache, InvalidOptionError, MemoryStore } from '../../src/index.js';
import { ChaosStore } from '../../src/testing/index.js';
import { RepeatFilter } from '../../src/util/logger.js';

/** A stream that keeps what is written to it. */
function captured(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/** One failure line (a GET that fails is a miss, reported) and one debug line, through `logger`. */
async function failAndDebug(logger: CacheLogger): Promise<Error> {
  const store = new ChaosStore(new MemoryStore());
  const failure = new Error('chaos: the store is down');
  store.fail('get', { error: failure });
  const cache = createCache({ store, logger, debug: true, breaker: false });
  const get = cache.cacheable(async () => 1, { key: 'one', name: 'getOne' });
  expect(await get()).toBe(1);
  return failure;
}

/** The JSON lines written to a stream. */
function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('loggers', () => {
  it('console: the message, then the error', async () => {
    const out = captured();
    const logger = new Console({ stdout: out.stream, stderr: out.stream });
    const failure = await failAndDebug(logger);
    const text = out.text();
    expect(text).toContain('[Cache] ERROR: get quickpost:one failed; continuing without the cache');
    expect(text).toContain(failure.stack?.split('\n')[0]);
    expect(text).toContain('[Cache] getOne | Context: {} | Key: quickpost:one');
  });

  it('pino: the error as its `err` object, with message and stack', async () => {
    const out = captured();
    const logger = pino({ level: 'debug' }, out.stream);
    const failure = await failAndDebug(logger);
    const lines = jsonLines(out.text());
    const warning = lines.find((line) => line.level === 40);
    expect(warning).toMatchObject({
      msg: '[Cache] ERROR: get quickpost:one failed; continuing without the cache',
      err: { type: 'Error', message: failure.message, stack: failure.stack },
    });
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 20,
        msg: '[Cache] getOne | Context: {} | Key: quickpost:one',
      }),
    );
  });

  it('pino: a child logger too, and a detail that is not an Error', async () => {
    const out = captured();
    const logger = pino({ level: 'debug' }, out.stream).child({ module: 'cache' });
    const store = new ChaosStore(new MemoryStore());
    store.fail('get', { error: 'a string, not an Error' });
    const cache = createCache({ store, logger, breaker: false });
    await cache.get('one');
    expect(jsonLines(out.text())).toContainEqual(
      expect.objectContaining({
        level: 40,
        module: 'cache',
        err: 'a string, not an Error',
        msg: '[Cache] ERROR: get quickpost:one failed; continuing without the cache',
      }),
    );
  });

  it('winston: the message with the error’s message, and its stack', async () => {
    const out = captured();
    const logger = winston.createLogger({
      level: 'debug',
      transports: [new winston.transports.Stream({ stream: out.stream })],
    });
    const failure = await failAndDebug(logger);
    const lines = jsonLines(out.text());
    expect(lines).toContainEqual({
      level: 'warn',
      message: `[Cache] ERROR: get quickpost:one failed; continuing without the cache ${failure.message}`,
      stack: failure.stack,
    });
    expect(lines).toContainEqual({
      level: 'debug',
      message: '[Cache] getOne | Context: {} | Key: quickpost:one',
    });
  });

  it('needs debug, warn and error, and not info', () => {
    const lines: string[] = [];
    const write = (message: string) => {
      lines.push(message);
    };
    expect(() =>
      createCache({ logger: { debug: write, warn: write, error: write } }),
    ).not.toThrow();
    expect(() =>
      createCache({ logger: { debug: write, warn: write } as unknown as CacheLogger }),
    ).toThrow(InvalidOptionError);
    expect(() =>
      createCache({ logger: { debug: write, warn: write } as unknown as CacheLogger }),
    ).toThrow('must be a logger with debug, warn and error (missing: error)');
  });
});

describe('RepeatFilter (identical connection errors of a store)', () => {
  it('lets the first line through, holds identical ones for the window, then counts them', () => {
    let now = 1000;
    const filter = new RepeatFilter(60_000, () => now);
    expect(filter.pass('refused')).toBe(0);
    expect(filter.pass('other')).toBe(0);
    now += 59_999;
    expect(filter.pass('refused')).toBeUndefined();
    expect(filter.pass('refused')).toBeUndefined();
    now += 1;
    expect(filter.pass('refused')).toBe(2);
    expect(filter.pass('refused')).toBeUndefined();
    now += 60_000;
    expect(filter.pass('refused')).toBe(1);
    expect(filter.pass('other')).toBe(0);
  });
});

describe('stores that log (`useLogger`)', () => {
  it('receive the logger of each cache made on them (RedisStore keeps the first)', () => {
    const given: CacheLogger[] = [];
    const store = Object.assign(new MemoryStore(), {
      useLogger: (logger: CacheLogger) => given.push(logger),
    });
    const first = new Console({ stdout: captured().stream });
    createCache({ store, logger: first });
    expect(given).toEqual([first]);
    createCache({ store });
    expect(given).toEqual([first, console]);
  });
});
