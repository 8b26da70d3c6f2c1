import { inspect } from 'node:util';
import { z } from 'zod';
import type { Serializer } from '../codec/index.js';
import { InvalidOptionError } from '../errors.js';
import type { Store } from '../stores/store.js';

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
  store?: S;
  /**
   * Put in front of every key as `${prefix}:`; use one per application sharing a Redis. `''`
   * means no prefix. It may not contain whitespace, wildcards (`* ? [ ] \`) or braces.
   * @default 'quickpost'
   */
  prefix?: string;
  /**
   * Default time to live of an entry, in seconds (fractions allowed).
   * @default 300
   */
  ttl?: number;
  /**
   * Log every HIT / MISS / SET / INVALIDATE through `logger.debug`.
   * @default false
   */
  debug?: boolean;
  /**
   * Receives debug lines and failure reports.
   * @default console
   */
  logger?: CacheLogger;
  /**
   * Turns values into stored text and back, replacing the built-in lossless JSON.
   * @default built-in JSON that also keeps Date, BigInt, Map, Set and undefined
   */
  serializer?: Serializer;
}

const TEMPLATE_FREE_TEXT = /^[^\s*?[\]\\{}]*$/;

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
});

const cacheOptionSentences: Record<string, string> = {
  prefix: 'must be a string without whitespace, wildcards (* ? [ ] \\) or braces',
  ttl: optionRules.ttl[1],
  debug: optionRules.debug[1],
};

/** Checks `createCache` options; throws {@link InvalidOptionError} naming the first bad option. */
export function checkCacheOptions(options: unknown): void {
  checkOptions(cacheOptionsSchema, options, cacheOptionSentences, 'createCache');
}

/**
 * Runs `schema` over `options` and turns the first problem into an {@link InvalidOptionError}
 * whose message names the option, says what it must be and shows what it got.
 */
export function checkOptions(
  schema: z.ZodType,
  options: unknown,
  sentences: Record<string, string>,
  where: string,
): void {
  const result = schema.safeParse(options);
  if (result.success) return;
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  if (issue.code === 'unrecognized_keys') {
    const known = Object.keys((schema as z.ZodObject).shape ?? {}).join('`, `');
    throw new InvalidOptionError(
      String(issue.keys[0]),
      `\`${issue.keys[0]}\` is not an option of ${where}; known options are \`${known}\``,
    );
  }
  if (issue.path.length === 0) {
    throw new InvalidOptionError(
      '',
      `${where} options must be an object, got ${describe(options)}`,
    );
  }
  const option = issue.path.join('.');
  const value = issue.path.reduce<unknown>(
    (parent, segment) => (parent as Record<PropertyKey, unknown>)?.[segment],
    options,
  );
  const rule = sentences[option] ?? sentences[String(issue.path[0])];
  const sentence =
    rule === undefined && issue.code === 'custom'
      ? issue.message
      : `${rule ?? issue.message}, got ${describe(value)}`;
  throw new InvalidOptionError(option, `\`${option}\` ${sentence}`);
}

/** A short, safe rendering of a value for error messages. */
export function describe(value: unknown): string {
  return inspect(value, { depth: 0, breakLength: Number.POSITIVE_INFINITY, maxStringLength: 60 });
}
