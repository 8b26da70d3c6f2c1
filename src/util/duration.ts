/**
 * Durations as strings with their unit (`'150ms'`, `'10m'`), so that the unit of an option can
 * never be mistaken. The grammar is tiny and must match the type below exactly where the type can
 * say it, so it is parsed here rather than by a general library (`ms` also takes `'10 minutes'`,
 * `'1y'` and `'-5s'`, which this type rejects or cannot express).
 */

/** The unit of a duration string: milliseconds, seconds, minutes, hours or days. */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

/**
 * A duration with its unit: a number right before `ms`, `s`, `m`, `h` or `d`, such as `'150ms'`,
 * `'2s'`, `'10m'`, `'1.5h'`, `'1d'`. `'10 minutes'` or `'10x'` is a compile error; what the type
 * cannot rule out (a sign, an exponent, spaces: `'-5s'`, `'1e3ms'`, `'10 m'`) is refused when the
 * option is checked.
 */
export type DurationString = `${number}${DurationUnit}`;

/**
 * A duration: a {@link DurationString} such as `'10m'`, or a number in the option's own unit
 * (seconds for `ttl` and `staleTtl`, milliseconds for every other duration).
 */
export type Duration = number | DurationString;

const MS_PER_UNIT: Readonly<Record<DurationUnit, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Digits with an optional fraction, then a unit; nothing else (no sign, exponent or space). */
const DURATION = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d)$/;

/**
 * A duration in milliseconds: a string by its unit, a number taken in `numberUnit`. `undefined`
 * for anything else: a malformed string, a value that is neither, or a number that is not finite.
 */
export function durationMs(
  value: unknown,
  numberUnit: 'seconds' | 'milliseconds',
): number | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    return numberUnit === 'seconds' ? value * 1000 : value;
  }
  if (typeof value !== 'string') return undefined;
  const match = DURATION.exec(value);
  if (match === null) return undefined;
  return Number(match[1]) * MS_PER_UNIT[match[2] as DurationUnit];
}

/** How error messages describe a duration option: "a positive number of seconds or …". */
export function durationExpectation(
  numberUnit: 'seconds' | 'milliseconds',
  zero: 'positive' | 'zero or more',
  example: DurationString,
): string {
  const number =
    zero === 'positive'
      ? `a positive number of ${numberUnit}`
      : `a number of ${numberUnit} (0 or more)`;
  return `${number}, or a duration such as '${example}' (a number right before ms, s, m, h or d)`;
}
