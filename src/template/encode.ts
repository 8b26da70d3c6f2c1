import { createHash } from 'node:crypto';
import objectHash from 'object-hash';

/**
 * Turns one context value into key text. The result only ever contains `A-Z a-z 0-9 - _ . % ~`,
 * so no value can add a `:` separator, a glob wildcard, a Cluster hash tag or whitespace to a key,
 * and a rendered value is always literal inside a Redis glob pattern.
 *
 * - Strings: kept when they consist of `A-Z a-z 0-9 - _ .` only; otherwise every UTF-8 byte outside
 *   that set becomes `%XX` (upper-case hex). Unpaired UTF-16 surrogates become `%uXXXX`.
 * - Numbers, booleans, bigints: their text (`String(value)`), then as strings. So `1` and `'1'`
 *   render the same, as they would in a string template.
 * - Objects and arrays (Date, Map and Set included): `~` followed by the object-hash SHA-1 of the
 *   content, which ignores property order.
 * - Text longer than {@link MAX_VALUE_LENGTH} after encoding: its first {@link LONG_VALUE_PREFIX}
 *   characters, `~`, then the SHA-1 of the whole encoded text.
 *
 * The mapping is injective for strings (percent-encoding is), and the `~` marker keeps hashed
 * values apart from plain ones, since no plain encoded value contains `~`.
 *
 * Returns `undefined` for values that have no key text (null, undefined, functions, symbols).
 */
export function encodeKeyValue(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return encodeText(value);
    case 'number':
    case 'bigint':
    case 'boolean':
      return encodeText(String(value));
    case 'object':
      return value === null ? undefined : hashObject(value);
    default:
      return undefined;
  }
}

/** `~` and the content hash; `undefined` for objects object-hash cannot read (a Promise, say). */
function hashObject(value: object): string | undefined {
  try {
    return `~${objectHash(value)}`;
  } catch {
    return undefined;
  }
}

/** Encoded values longer than this are shortened to a readable prefix plus a hash. */
export const MAX_VALUE_LENGTH = 128;
/** How many encoded characters of a long value stay readable in front of its hash. */
export const LONG_VALUE_PREFIX = 64;

const SAFE = /^[A-Za-z0-9_.-]*$/;
const LEFT_BY_URI_ENCODING = /[!'()*~]/g;
// With the `u` flag a surrogate pair is one code point, so this finds unpaired surrogates only.
const LONE_SURROGATE = /\p{Cs}/u;

function encodeText(text: string): string {
  if (text.length <= MAX_VALUE_LENGTH && SAFE.test(text)) return text;
  const encoded = LONE_SURROGATE.test(text) ? encodeIllFormed(text) : percentEncode(text);
  if (encoded.length <= MAX_VALUE_LENGTH) return encoded;
  return `${cutBeforeEscape(encoded, LONG_VALUE_PREFIX)}~${createHash('sha1').update(encoded).digest('hex')}`;
}

function percentEncode(text: string): string {
  return encodeURIComponent(text).replace(LEFT_BY_URI_ENCODING, percentByte);
}

function percentByte(ch: string): string {
  return `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Encodes well-formed runs as UTF-8 and each unpaired surrogate as `%uXXXX`. */
function encodeIllFormed(text: string): string {
  let out = '';
  let run = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (ch.length === 1 && code >= 0xd800 && code <= 0xdfff) {
      out += percentEncode(run);
      run = '';
      out += `%u${code.toString(16).toUpperCase()}`;
    } else {
      run += ch;
    }
  }
  return out + percentEncode(run);
}

/** Cuts `text` to at most `length` characters without splitting a `%XX` escape. */
function cutBeforeEscape(text: string, length: number): string {
  const cut = text.slice(0, length);
  const lastEscape = cut.lastIndexOf('%');
  return lastEscape !== -1 && lastEscape > length - 6 ? cut.slice(0, lastEscape) : cut;
}
