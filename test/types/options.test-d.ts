import { pino } from 'pino';
import { describe, expectTypeOf, it } from 'vitest';
import winston from 'winston';
import { type CacheLogger, createCache } from '../../src/index.js';

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
