/**
 * Redis glob matching (`KEYS`, `SCAN MATCH`), ported from `stringmatchlen` in Redis's util.c so
 * that an in-process store deletes exactly the keys Redis would:
 *
 * - `*` any run of bytes, `?` exactly one byte (one byte, not one character: `?` does not match
 *   a multi-byte UTF-8 character),
 * - `[abc]`, `[^abc]`, `[a-z]` (a reversed range `[z-a]` is swapped), `\x` inside a class,
 * - `\x` outside a class matches `x` literally,
 * - an unclosed `[` ends the pattern as a class over the remaining characters,
 * - more than 1000 nested `*` (separated by other characters) match nothing, as in Redis.
 *
 * Matching works on UTF-8 bytes read as signed chars, as Redis does on x86-64, which only matters
 * for ranges with non-ASCII bounds.
 */
export function createGlobMatcher(pattern: string): (key: string) => boolean {
  const literalPrefix = prefixBeforeTrailingStar(pattern);
  if (literalPrefix !== undefined) return (key) => key.startsWith(literalPrefix);
  const p = toSignedBytes(pattern);
  return (key) => matchBytes(p, 0, toSignedBytes(key), 0, { skipLonger: false }, 0);
}

/** Whether `key` matches the Redis glob `pattern`. Compile once with `createGlobMatcher` for many keys. */
export function matchGlob(pattern: string, key: string): boolean {
  return createGlobMatcher(pattern)(key);
}

/**
 * For `abc*` with no other special character, returns `abc`: matching is then `startsWith`.
 * A lone `*` matches every key, the empty one too (Redis special-cases it in KEYS and SCAN).
 */
function prefixBeforeTrailingStar(pattern: string): string | undefined {
  if (pattern === '*') return '';
  if (!pattern.endsWith('*')) return undefined;
  const body = pattern.replace(/\*+$/, '');
  return body === '' || /[*?[\\]/.test(body) ? undefined : body;
}

function toSignedBytes(text: string): Int8Array {
  const bytes = Buffer.from(text, 'utf8');
  return new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

const STAR = 42;
const QUESTION = 63;
const OPEN = 91;
const CLOSE = 93;
const CARET = 94;
const BACKSLASH = 92;
const DASH = 45;

/** Reads like a NUL-terminated C string: past the end is 0. */
function at(bytes: Int8Array, index: number): number {
  return index < bytes.length ? (bytes[index] as number) : 0;
}

function matchBytes(
  p: Int8Array,
  pi: number,
  s: Int8Array,
  si: number,
  state: { skipLonger: boolean },
  nesting: number,
): boolean {
  // Redis gives up past 1000 nested `*` (its "protection against abusive patterns"): no match.
  if (nesting > 1000) return false;
  while (pi < p.length && si < s.length) {
    switch (at(p, pi)) {
      case STAR: {
        while (at(p, pi + 1) === STAR) pi += 1;
        if (pi === p.length - 1) return true;
        while (si < s.length) {
          if (matchBytes(p, pi + 1, s, si, state, nesting + 1)) return true;
          if (state.skipLonger) return false;
          si += 1;
        }
        state.skipLonger = true;
        return false;
      }
      case QUESTION:
        si += 1;
        break;
      case OPEN: {
        pi += 1;
        const not = at(p, pi) === CARET;
        if (not) pi += 1;
        let match = false;
        const c = at(s, si);
        for (;;) {
          if (at(p, pi) === BACKSLASH && p.length - pi >= 2) {
            pi += 1;
            if (at(p, pi) === c) match = true;
          } else if (at(p, pi) === CLOSE) {
            break;
          } else if (pi >= p.length) {
            pi -= 1;
            break;
          } else if (p.length - pi >= 3 && at(p, pi + 1) === DASH) {
            let start = at(p, pi);
            let end = at(p, pi + 2);
            if (start > end) [start, end] = [end, start];
            pi += 2;
            if (c >= start && c <= end) match = true;
          } else if (at(p, pi) === c) {
            match = true;
          }
          pi += 1;
        }
        if (not) match = !match;
        if (!match) return false;
        si += 1;
        break;
      }
      case BACKSLASH:
        if (p.length - pi >= 2) pi += 1;
        if (at(p, pi) !== at(s, si)) return false;
        si += 1;
        break;
      default:
        if (at(p, pi) !== at(s, si)) return false;
        si += 1;
        break;
    }
    pi += 1;
    if (si === s.length) {
      while (at(p, pi) === STAR) pi += 1;
      break;
    }
  }
  return pi >= p.length && si === s.length;
}
