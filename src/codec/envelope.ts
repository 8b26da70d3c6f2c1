import { fromTagged, needsTags, toTagged } from './lossless.js';

/**
 * Stored entry format, version 1:
 *
 *     \x01 1 <kind> | <expiresAt> | <computeMs> | <payload>
 *
 * - `\x01` first: JSON never starts with a control character, so an entry is told apart from
 *   anything else under the same key (a lease marker, a foreign value) by one character.
 * - `1`: the format version. An unknown version is a miss, never a misread.
 * - kind: `j` plain JSON, `t` lossless tagged JSON (see lossless.ts), `c` custom serializer.
 * - expiresAt: logical expiry in epoch milliseconds; computeMs: how long the value took to
 *   compute. Both are there for stale-while-revalidate and early refresh, and cost a hit nothing:
 *   a hit finds the payload with three `indexOf` calls.
 * - payload: the serialized value, readable with `redis-cli GET`.
 */

/** Turns values into text and back; used in place of the built-in lossless JSON. */
export interface Serializer {
  /** Returns the stored text for a value; throw if the value cannot be stored. */
  serialize(value: unknown): string;
  /** Returns the value for a stored text; throw if the text is corrupt (the read becomes a miss). */
  deserialize(text: string): unknown;
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
    if (kind === KIND_JSON) return JSON.parse(payload);
    if (kind === KIND_TAGGED) return fromTagged(JSON.parse(payload));
    if (kind === KIND_CUSTOM && serializer !== undefined) return serializer.deserialize(payload);
  } catch {
    return UNREADABLE;
  }
  return UNREADABLE;
}
