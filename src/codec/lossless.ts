/**
 * Lossless JSON for the types plain JSON loses: Date, BigInt, Map, Set, `undefined` (as a value,
 * in objects and arrays), NaN and ±Infinity. Such values become small tagged objects
 * `{"$qc":"D","v":"2024-01-01T00:00:00.000Z"}`; a user object that itself has a `$qc` property is
 * wrapped (`{"$qc":"O","v":{...}}`) so it is never mistaken for a tag.
 *
 * Tagging is only used for values that need it: `needsTags` walks the value once on write, and a
 * plain value is stored as plain JSON, decoded without a reviver.
 */

const TAG = '$qc';

type Tagged = { [TAG]: string; v?: unknown };

/** Whether plain JSON would lose something in `value`; throws TypeError on a circular structure. */
export function needsTags(value: unknown): boolean {
  return walkNeedsTags(value, new Set());
}

function walkNeedsTags(value: unknown, ancestors: Set<object>): boolean {
  switch (typeof value) {
    case 'undefined':
    case 'bigint':
      return true;
    case 'number':
      return !Number.isFinite(value);
    case 'object': {
      if (value === null) return false;
      if (value instanceof Date || value instanceof Map || value instanceof Set) return true;
      if (ancestors.has(value)) throw new TypeError('Converting circular structure to JSON');
      ancestors.add(value);
      if (hasToJSON(value)) {
        try {
          return walkNeedsTags((value as { toJSON(): unknown }).toJSON(), ancestors);
        } finally {
          ancestors.delete(value);
        }
      }
      try {
        if (Array.isArray(value)) {
          for (let i = 0; i < value.length; i += 1) {
            if (!(i in value) || walkNeedsTags(value[i], ancestors)) return true;
          }
          return false;
        }
        if (Object.hasOwn(value, TAG)) return true;
        for (const key of Object.keys(value)) {
          if (walkNeedsTags((value as Record<string, unknown>)[key], ancestors)) return true;
        }
        return false;
      } finally {
        ancestors.delete(value);
      }
    }
    default:
      return false;
  }
}

function hasToJSON(value: object): boolean {
  return typeof (value as { toJSON?: unknown }).toJSON === 'function';
}

/** Returns a JSON-safe copy of `value` in which every lossy value is replaced by its tag. */
export function toTagged(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'undefined':
      return { [TAG]: 'U' };
    case 'bigint':
      return { [TAG]: 'B', v: value.toString() };
    case 'number':
      return Number.isFinite(value) ? value : { [TAG]: 'N', v: String(value) };
    case 'object': {
      if (value === null) return null;
      if (value instanceof Date) {
        return { [TAG]: 'D', v: Number.isNaN(value.getTime()) ? null : value.toISOString() };
      }
      if (value instanceof Map) {
        return { [TAG]: 'M', v: Array.from(value, ([k, v]) => [toTagged(k), toTagged(v)]) };
      }
      if (value instanceof Set) return { [TAG]: 'S', v: Array.from(value, toTagged) };
      if (hasToJSON(value)) return toTagged((value as { toJSON(): unknown }).toJSON());
      if (Array.isArray(value)) return Array.from(value, toTagged);
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        const child = (value as Record<string, unknown>)[key];
        if (typeof child === 'function' || typeof child === 'symbol') continue;
        Object.defineProperty(out, key, {
          value: toTagged(child),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return Object.hasOwn(out, TAG) ? { [TAG]: 'O', v: out } : out;
    }
    default:
      return undefined;
  }
}

/**
 * Restores tagged values in a freshly parsed JSON tree, in place. Assignments go to own properties
 * that JSON.parse created, so a `__proto__` key stays an ordinary own property and never reaches
 * a prototype. Keys that prototype pollution works through are dropped after unwrapping too (the
 * parser's filter cannot see inside a tag: `{"constructor":{"$qc":"O","v":{"prototype":…}}}`).
 * Throws on an unknown tag (the entry is then treated as corrupt).
 */
export function fromTagged(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) value[i] = fromTagged(value[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  if (Object.hasOwn(record, TAG)) return revive(record as Tagged);
  return reviveProperties(record);
}

/** Revives each property of a plain object, dropping those that lead to a prototype. */
function reviveProperties(record: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(record)) {
    const child = record[key];
    const revived = typeof child === 'object' && child !== null ? fromTagged(child) : child;
    if (leadsToPrototype(key, revived)) delete record[key];
    else if (revived !== child) record[key] = revived;
  }
  return record;
}

/** Whether a property could carry pollution into a naive deep merge. */
export function leadsToPrototype(key: string, value: unknown): boolean {
  return (
    key === '__proto__' ||
    (key === 'constructor' &&
      typeof value === 'object' &&
      value !== null &&
      Object.hasOwn(value, 'prototype'))
  );
}

function revive(tagged: Tagged): unknown {
  const { v } = tagged;
  switch (tagged[TAG]) {
    case 'U':
      return undefined;
    case 'B':
      return BigInt(v as string);
    case 'N':
      return Number(v);
    case 'D':
      return new Date(v === null ? Number.NaN : (v as string));
    case 'M':
      return new Map(
        (v as [unknown, unknown][]).map(([k, val]) => [fromTagged(k), fromTagged(val)]),
      );
    case 'S':
      return new Set((v as unknown[]).map(fromTagged));
    case 'O':
      return reviveProperties(v as Record<string, unknown>);
    default:
      throw new TypeError(`unknown tag ${JSON.stringify(tagged[TAG])}`);
  }
}
