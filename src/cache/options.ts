import { z } from 'zod';
import type { Serializer } from '../codec/index.js';
import type { Store } from '../stores/store.js';
import { checkOptions, describe } from '../util/options.js';
import type { BreakerOptions } from './guard.js';

/** Where log lines go; `console` fits, and so do most loggers (pino, winston, consola). */
export interface CacheLogger {
  debug(message: string, ...details: unknown[]): void;
  info(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
}

/** Options of {@link createCache}. */
export interface CacheOptions<S extends Store = Store> {
  /**
   * Where entries live.
   * @default new MemoryStore()
   */
  store?: S | undefined;
  /**
   * Put in front of every key as `${prefix}:`; use one per application sharing a Redis. `''`
   * means no prefix. It may not contain whitespace, wildcards (`* ? [ ] \`) or braces.
   * @default 'quickpost'
   */
  prefix?: string | undefined;
  /**
   * Default time to live of an entry, in seconds (fractions allowed).
   * @default 300
   */
  ttl?: number | undefined;
  /**
   * Log every HIT / MISS / SET / INVALIDATE through `logger.debug`.
   * @default false
   */
  debug?: boolean | undefined;
  /**
   * Receives debug lines and failure reports.
   * @default console
   */
  logger?: CacheLogger | undefined;
  /**
   * Turns values into stored text and back, replacing the built-in lossless JSON.
   * @default built-in JSON that also keeps Date, BigInt, Map, Set and undefined
   */
  serializer?: Serializer | undefined;
  /**
   * Longest wait for any one store call, in ms. A call that takes longer is abandoned: a read
   * becomes a miss (the function runs), a manual write throws `StoreUnavailableError`.
   * @default 150
   */
  timeout?: number | undefined;
  /**
   * Longest wait for one pattern delete, in ms. A pattern delete walks the whole keyspace (SCAN),
   * so it takes longer than single-key calls: about 0.1 s per 100,000 keys in Redis.
   * @default 5000
   */
  invalidationTimeout?: number | undefined;
  /**
   * Circuit breaker: after `failures` consecutive failed store calls, the store is skipped for
   * `cooldown` ms (reads are misses at once), then probed by one call. `false` turns it off.
   * @default { failures: 5, cooldown: 2000 }
   */
  breaker?: BreakerOptions | false | undefined;
  /**
   * Leases on stores with atomic writes (MemoryStore, RedisStore): `ttl` is how long a lease lives
   * unless its holder extends it (ms); `wait` is how long other callers wait for the holder's
   * value before computing themselves (ms). `false` turns leases off (in-process protection only).
   * @default { ttl: 10000, wait: 5000 }
   */
  lease?: { ttl?: number | undefined; wait?: number | undefined } | false | undefined;
  /**
   * What `invalidating` does when its mutation succeeded but the deletes failed: `'report'`
   * returns the mutation's result and reports (logger.error, `error` event); `'throw'` rejects
   * with `InvalidationError` (carrying the result).
   * @default 'report'
   */
  invalidationErrors?: 'report' | 'throw' | undefined;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const TEMPLATE_FREE_TEXT = /^[^\s\u0000-\u001f\u007f-\u009f*?[\]\\{}]*$/;

function methods(names: readonly string[], what: string) {
  return z
    .unknown()
    .superRefine((value, ctx) => {
      const missing =
        typeof value === 'object' && value !== null
          ? names.filter((name) => typeof (value as Record<string, unknown>)[name] !== 'function')
          : names;
      if (missing.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `must be ${what} (missing: ${missing.join(', ')}), got ${describe(value)}`,
        });
      }
    })
    .optional();
}

/** Rules shared by every options object, with the sentence used when a value breaks one. */
export const optionRules = {
  ttl: [z.number().positive().optional(), 'must be a positive number of seconds'],
  debug: [z.boolean().optional(), 'must be true or false'],
  name: [z.string().min(1).optional(), 'must be a non-empty string'],
  func: [z.function().optional(), 'must be a function'],
} as const;

const cacheOptionsSchema = z.strictObject({
  store: methods(
    ['get', 'set', 'delete', 'deletePattern'],
    'a Store with get, set, delete and deletePattern methods',
  ),
  prefix: z.string().regex(TEMPLATE_FREE_TEXT).optional(),
  ttl: optionRules.ttl[0],
  debug: optionRules.debug[0],
  logger: methods(['debug', 'info', 'warn', 'error'], 'a logger with debug, info, warn and error'),
  serializer: methods(['serialize', 'deserialize'], 'a Serializer with serialize and deserialize'),
  timeout: z.number().positive().optional(),
  invalidationTimeout: z.number().positive().optional(),
  breaker: z
    .union([
      z.literal(false),
      z.strictObject({
        failures: z.int().positive().optional(),
        cooldown: z.number().positive().optional(),
      }),
    ])
    .optional(),
  lease: z
    .union([
      z.literal(false),
      z.strictObject({
        ttl: z.number().positive().optional(),
        wait: z.number().nonnegative().optional(),
      }),
    ])
    .optional(),
  invalidationErrors: z.enum(['report', 'throw']).optional(),
});

const cacheOptionSentences: Record<string, string> = {
  prefix:
    'must be a string without whitespace, control characters, wildcards (* ? [ ] \\) or braces',
  ttl: optionRules.ttl[1],
  debug: optionRules.debug[1],
  timeout: 'must be a positive number of milliseconds',
  invalidationTimeout: 'must be a positive number of milliseconds',
  breaker: 'must be false or { failures?: positive integer, cooldown?: positive ms }',
  lease: 'must be false or { ttl?: positive ms, wait?: ms }',
  invalidationErrors: "must be 'report' or 'throw'",
};

/** Checks `createCache` options; throws {@link InvalidOptionError} naming the first bad option. */
export function checkCacheOptions(options: unknown): void {
  checkOptions(cacheOptionsSchema, options, cacheOptionSentences, 'createCache');
}
