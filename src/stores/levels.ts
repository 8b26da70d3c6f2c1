/**
 * The levels of a key index: a key is tracked under each of its `:`-ending prefixes but the first
 * (the cache's prefix alone), so that a pattern whose literal start ends at a `:` finds exactly
 * the keys that can match it under one level. `blog:posts:a:comments` is tracked under
 * `blog:posts:` and `blog:posts:a:`; the pattern `blog:posts:a:*` is answered from the second,
 * `blog:posts:*:comments` from the first; `blog:*` and `blog:p*` cannot be answered (the cache's
 * prefix alone would hold every key).
 */

const GLOB_SPECIAL = /[*?[\\]/;

/** The levels `key` is tracked under, shortest first. */
export function levelsOf(key: string): string[] {
  const levels: string[] = [];
  let end = key.indexOf(':');
  if (end === -1) return levels;
  for (;;) {
    end = key.indexOf(':', end + 1);
    if (end === -1) return levels;
    levels.push(key.slice(0, end + 1));
  }
}

/**
 * The level that holds every key `pattern` can match: its literal start, up to the last `:`;
 * `undefined` when that is the cache's prefix alone (or less).
 */
export function levelOf(pattern: string): string | undefined {
  const special = pattern.search(GLOB_SPECIAL);
  const literal = special === -1 ? pattern : pattern.slice(0, special);
  const end = literal.lastIndexOf(':');
  if (end === -1 || end === literal.indexOf(':')) return undefined;
  return literal.slice(0, end + 1);
}
