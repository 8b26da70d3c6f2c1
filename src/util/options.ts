import { inspect } from 'node:util';
import { z } from 'zod';
import { InvalidOptionError } from '../errors.js';
import { type Duration, type DurationString, durationExpectation, durationMs } from './duration.js';

/**
 * One option, defined once: its runtime check, the sentence that says what it must be, and its
 * default. Its type and documentation live on the options interface; `OptionSpecs<O>` ties each
 * spec to that interface, so a missing, extra or mistyped option is a compile error.
 */
export interface OptionSpec<T> {
  /** Checks a value given for the option (`undefined` included: every option is optional here). */
  readonly schema: z.ZodType<T | undefined>;
  /** What a valid value is, completing "`name` …" in error messages: "must be a positive number". */
  readonly expect: string;
  /** The value used when the option is left out; none when leaving it out has its own meaning. */
  readonly default?: Exclude<T, undefined>;
}

/** Specs for every option of the options type `O`. */
export type OptionSpecs<O> = { readonly [K in keyof O]-?: OptionSpec<O[K]> };

/** Options with every default filled in (options without a default stay as given). */
export type Resolved<O, Specs extends OptionSpecs<O>> = {
  readonly [K in keyof O]-?: Specs[K] extends { readonly default: infer D }
    ? WithDefault<Exclude<O[K], undefined>, D>
    : O[K];
};

/** A value with its default filled in: objects merged over an object default have every key. */
type WithDefault<V, D> = D extends object
  ? V extends object
    ? { readonly [P in keyof V]-?: Exclude<V[P], undefined> }
    : V
  : V;

const schemas = new WeakMap<object, z.ZodType>();

/** The strict object schema made of `specs`' schemas, built once per specs object. */
function schemaOf(specs: Readonly<Record<string, OptionSpec<unknown>>>): z.ZodType {
  let schema = schemas.get(specs);
  if (schema === undefined) {
    const shape: Record<string, z.ZodType> = {};
    for (const [name, spec] of Object.entries(specs)) shape[name] = spec.schema;
    schema = z.strictObject(shape);
    schemas.set(specs, schema);
  }
  return schema;
}

/**
 * Checks `options` against `specs` and throws an {@link InvalidOptionError} naming the first bad
 * option, saying what it must be and showing what it got.
 */
export function checkOptions<O>(specs: OptionSpecs<O>, options: unknown, where: string): void {
  const table = specs as Readonly<Record<string, OptionSpec<unknown>>>;
  const result = schemaOf(table).safeParse(options);
  if (result.success) return;
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  if (issue.code === 'unrecognized_keys') {
    throw new InvalidOptionError(
      String(issue.keys[0]),
      `\`${issue.keys[0]}\` is not an option of ${where}; known options are \`${Object.keys(table).join('`, `')}\``,
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
  // `hasMethods` words its own message; the others get the spec's.
  const sentence =
    issue.code === 'custom' && issue.params?.worded === true
      ? issue.message
      : `${table[String(issue.path[0])]?.expect ?? issue.message}, got ${describe(value)}`;
  throw new InvalidOptionError(option, `\`${option}\` ${sentence}`);
}

/**
 * `options` with the defaults of `specs` filled in. A plain-object default is merged under a
 * plain-object value (`{ cooldown: 500 }` keeps the default `failures`); any other value replaces
 * it (a pino or winston `logger` replaces the default `console`, never merged into a copy of it).
 */
export function withDefaults<O, Specs extends OptionSpecs<O>>(
  specs: Specs,
  options: O,
): Resolved<O, Specs> {
  const resolved: Record<string, unknown> = { ...(options as object) };
  for (const [name, spec] of Object.entries(
    specs as Readonly<Record<string, OptionSpec<unknown>>>,
  )) {
    const given = resolved[name];
    const fallback = spec.default;
    if (given === undefined) resolved[name] = fallback;
    else if (isPlainObject(fallback) && isPlainObject(given)) {
      resolved[name] = { ...fallback, ...withoutUndefined(given) };
    }
  }
  return resolved as Resolved<O, Specs>;
}

/** An object literal (or made with `Object.create(null)`), not an instance of a class. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function withoutUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

/** A short, safe rendering of a value for error messages. */
export function describe(value: unknown): string {
  return inspect(value, { depth: 0, breakLength: Number.POSITIVE_INFINITY, maxStringLength: 60 });
}

/** Checks that an object has the methods `names`; for options that take an object with behaviour. */
export function hasMethods<T>(names: readonly string[], what: string): z.ZodType<T | undefined> {
  return z
    .custom<T>()
    .superRefine((value, ctx) => {
      const missing =
        typeof value === 'object' && value !== null
          ? names.filter((name) => typeof (value as Record<string, unknown>)[name] !== 'function')
          : names;
      if (missing.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `must be ${what} (missing: ${missing.join(', ')}), got ${describe(value)}`,
          params: { worded: true },
        });
      }
    })
    .optional();
}

/** An optional function-valued option. */
export function optionalFunction<F>(): z.ZodType<F | undefined> {
  return z.custom<F>((value) => typeof value === 'function').optional();
}

/**
 * Checks a duration: a number in `numberUnit`, or a duration string (`'10m'`); positive, or 0 or
 * more.
 */
export function durationSchema(
  numberUnit: 'seconds' | 'milliseconds',
  zero: 'positive' | 'zero or more',
): z.ZodType<Duration | undefined> {
  return z
    .custom<Duration>((value) => {
      const ms = durationMs(value, numberUnit);
      return ms !== undefined && (zero === 'positive' ? ms > 0 : ms >= 0);
    })
    .optional();
}

/** The spec of a duration option without a default (see {@link durationSchema}). */
export function durationSpec(
  numberUnit: 'seconds' | 'milliseconds',
  zero: 'positive' | 'zero or more',
  example: DurationString,
): { schema: z.ZodType<Duration | undefined>; expect: string } {
  return {
    schema: durationSchema(numberUnit, zero),
    expect: `must be ${durationExpectation(numberUnit, zero, example)}`,
  };
}

/** Specs shared by the options of several functions. */
export const sharedSpecs = {
  ttl: durationSpec('seconds', 'positive', '10m'),
  debug: { schema: z.boolean().optional(), expect: 'must be true or false' },
  name: { schema: z.string().min(1).optional(), expect: 'must be a non-empty string' },
  strict: { schema: z.boolean().optional(), expect: 'must be true or false' },
} as const;
