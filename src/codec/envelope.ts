import { fromTagged, leadsToPrototype, needsTags, toTagged } from './lossless.js';

/**
 * Stored entry format, version 1:
 *
 *     \x01 1 <kind> | <expiresAt> | <computeMs> | <payload>
 *
 * - `\x01` first: JSON never starts with a control character, so an entry is told apart from
 *   anything else under the same key (a lease marker, a foreign value) by one character.
 * - `1`: the format version. An unknown version is a miss, never a misread.
 * - kind: `j` plain JSON, `t` lossless tagged JSON (see lossless.ts), `c` custom serializer.
 * - expiresAt: logical expiry in epoch milliseconds (after it, the value is stale); computeMs:
 *   how long the value took to compute (for early refresh). A hit reads both from the header with
 *   two `indexOf` calls, without parsing the payload.
 * - payload: the serialized value, readable with `redis-cli GET`.
 */

/** Turns values into text and back; used in place of the built-in lossless JSON. */
export interface Serializer {
  /** Returns the stored text for a value; throw if the value cannot be stored. */
  serialize(value: unknown): string;
  /** Returns the value for a stored text; throw if the text is corrupt (the read becomes a miss). */
  deserialize(text: string): unknown;
}

/**
 * A lease marker: `\x02` and a random token, written into a key by the one caller computing its
 * value. Never decodes as a value.
 */
export const LEASE_MARK = '\x02';

/** Whether stored text is a lease marker. */
export function isLease(raw: string): boolean {
  return raw.charCodeAt(0) === 2;
}

/** Whether stored text is an entry of any format version (it may still be unreadable). */
export function isEntry(raw: string): boolean {
  return raw.charCodeAt(0) === MARK;
}

/** Returned by {@link decodeEntry} when the text is not a readable entry. */
export const UNREADABLE: unique symbol = Symbol('quickpost-cache.unreadable');

const MARK = 1;
const VERSION = 49; // '1'
const KIND_JSON = 106; // 'j'
const KIND_TAGGED = 116; // 't'
const KIND_CUSTOM = 99; // 'c'

/** Metadata written in front of a value. */
export interface EntryMeta {
  /** Logical expiry, epoch milliseconds. */
  readonly expiresAt: number;
  /** Time the value took to compute, milliseconds. */
  readonly computeMs: number;
}

/** Encodes a value with its metadata. Throws what the serializer (or JSON) throws. */
export function encodeEntry(value: unknown, meta: EntryMeta, serializer?: Serializer): string {
  let kind: string;
  let payload: string;
  if (serializer !== undefined) {
    kind = 'c';
    payload = serializer.serialize(value);
  } else if (needsTags(value)) {
    kind = 't';
    payload = JSON.stringify(toTagged(value));
  } else {
    kind = 'j';
    payload = JSON.stringify(value);
  }
  if (typeof payload !== 'string') {
    throw new TypeError(`a ${typeof value} has no serialized form`);
  }
  return `\x011${kind}|${Math.round(meta.expiresAt)}|${Math.round(meta.computeMs)}|${payload}`;
}

/**
 * Decodes an entry's value, or returns {@link UNREADABLE} for text that is not an entry, has an
 * unknown version or kind, or whose payload does not parse. Never throws.
 */
export function decodeEntry(raw: string, serializer?: Serializer): unknown {
  if (raw.charCodeAt(0) !== MARK || raw.charCodeAt(1) !== VERSION) return UNREADABLE;
  const kind = raw.charCodeAt(2);
  const afterExpiry = raw.indexOf('|', 4);
  const payloadStart = raw.indexOf('|', afterExpiry + 1) + 1;
  if (afterExpiry === -1 || payloadStart === 0) return UNREADABLE;
  const payload = raw.slice(payloadStart);
  try {
    if (kind === KIND_JSON) return parseJson(payload);
    if (kind === KIND_TAGGED) return fromTagged(parseJson(payload));
    if (kind === KIND_CUSTOM && serializer !== undefined) return serializer.deserialize(payload);
  } catch {
    return UNREADABLE;
  }
  return UNREADABLE;
}

/**
 * JSON.parse, dropping what prototype pollution works through: `__proto__` keys, and
 * `constructor` keys whose value has a `prototype` (`{"constructor":{"prototype":{…}}}` reaches
 * Object.prototype through a naive deep merge). JSON.parse alone keeps them as own properties,
 * harmless until an application merges the value somewhere. The reviver runs only when such a
 * key may appear (escapes included: `"\u005f_proto__"` is `"__proto__"` too).
 */
function parseJson(payload: string): unknown {
  if (
    !payload.includes('__proto__') &&
    !payload.includes('prototype') &&
    !payload.includes('\\u')
  ) {
    return JSON.parse(payload);
  }
  return JSON.parse(payload, (key, value: unknown) =>
    leadsToPrototype(key, value) ? undefined : value,
  );
}

/** An entry's header and its payload as stored, for tools that show entries (the command line). */
export interface EntryHeader {
  /** The format version (the second character): always 1 here, since others are not read. */
  readonly version: 1;
  /** How the payload is encoded: plain JSON, lossless tagged JSON, or a custom serializer's text. */
  readonly encoding: 'json' | 'tagged' | 'custom';
  /** Logical expiry, epoch milliseconds: after it the value is stale. */
  readonly expiresAt: number;
  /** How long the value took to compute, milliseconds. */
  readonly computeMs: number;
  /** The serialized value. */
  readonly payload: string;
}

const ENCODINGS: Readonly<Record<number, EntryHeader['encoding']>> = {
  [KIND_JSON]: 'json',
  [KIND_TAGGED]: 'tagged',
  [KIND_CUSTOM]: 'custom',
};

/** The header of a version-1 entry; `undefined` for other text or an unknown version or kind. */
export function readEntryHeader(raw: string): EntryHeader | undefined {
  if (raw.charCodeAt(0) !== MARK || raw.charCodeAt(1) !== VERSION) return undefined;
  const encoding = ENCODINGS[raw.charCodeAt(2)];
  const afterExpiry = raw.indexOf('|', 4);
  const payloadStart = raw.indexOf('|', afterExpiry + 1) + 1;
  if (encoding === undefined || raw[3] !== '|' || afterExpiry === -1 || payloadStart === 0) {
    return undefined;
  }
  return {
    version: 1,
    encoding,
    expiresAt: entryExpiresAt(raw),
    computeMs: entryComputeMs(raw),
    payload: raw.slice(payloadStart),
  };
}

/** The logical expiry of an entry, in epoch ms; `NaN` when the header is not version 1. */
export function entryExpiresAt(raw: string): number {
  if (raw.charCodeAt(1) !== VERSION) return Number.NaN;
  const end = raw.indexOf('|', 4);
  return end === -1 ? Number.NaN : Number(raw.slice(4, end));
}

/** How long an entry's value took to compute, in ms (0 when unknown). */
export function entryComputeMs(raw: string): number {
  const start = raw.indexOf('|', 4) + 1;
  const end = raw.indexOf('|', start);
  return start === 0 || end === -1 ? 0 : Number(raw.slice(start, end)) || 0;
}

/** The same entry with another logical expiry (used to claim the refresh of a stale entry). */
export function withExpiresAt(raw: string, expiresAt: number): string {
  const end = raw.indexOf('|', 4);
  return `${raw.slice(0, 4)}${Math.round(expiresAt)}${raw.slice(end)}`;
}
