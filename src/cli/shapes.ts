/**
 * Key templates recognised from keys alone, for `stats`. The command line does not know an
 * application's templates, so it reads their shape from the keys: split at `:`, a segment is a
 * placeholder's value when it
 *
 * - looks like one: a number, a UUID, or text holding `%` or `~`, which only encoded values
 *   contain (`hello%20world`, a hashed object `~3f2a…`); or
 * - has more than `siblings` other segments beside it in the same place (`posts:a`, `posts:b`,
 *   …), unless it has more than `siblings` segments under it itself: that is a name among values,
 *   like `list` in `posts:list:{{filters}}` beside `posts:{{slug}}`.
 *
 * Values in one place are merged, and so are the keys under them: `posts:a:comments` and
 * `posts:b:comments` give `posts:{{*}}:comments`.
 */

/** What stands for a placeholder's value in a recognised template. */
export const VALUE = '{{*}}';

/** Siblings beyond which segments in one place are taken for values. */
export const DEFAULT_SIBLINGS = 10;

const NUMBER = /^-?\d+(?:\.\d+)?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a key segment looks like a placeholder's value on its own (see the module comment). */
export function looksLikeValue(segment: string): boolean {
  return (
    NUMBER.test(segment) || UUID.test(segment) || segment.includes('%') || segment.includes('~')
  );
}

interface Node {
  readonly children: Map<string, Node>;
  /** Keys that end at this node. */
  readonly keys: string[];
}

function node(): Node {
  return { children: new Map(), keys: [] };
}

/** Moves `from`'s keys and children into `into`, merging children of the same name. */
function mergeInto(into: Node, from: Node): void {
  for (const key of from.keys) into.keys.push(key);
  for (const [segment, child] of from.children) {
    const existing = into.children.get(segment);
    if (existing === undefined) into.children.set(segment, child);
    else mergeInto(existing, child);
  }
}

/** Replaces the children of `parent` that are values by one {@link VALUE} child, recursively. */
function collapse(parent: Node, siblings: number): void {
  const many = parent.children.size > siblings;
  const values: Node[] = [];
  for (const [segment, child] of parent.children) {
    if (segment === VALUE || looksLikeValue(segment) || (many && child.children.size <= siblings)) {
      values.push(child);
      parent.children.delete(segment);
    }
  }
  if (values.length > 0) {
    const merged = node();
    for (const value of values) mergeInto(merged, value);
    parent.children.set(VALUE, merged);
  }
  for (const child of parent.children.values()) collapse(child, siblings);
}

/** Each template's keys, from a node down; `path` is the template so far. */
function collect(at: Node, path: string, out: Map<string, string[]>): void {
  if (at.keys.length > 0) out.set(path, at.keys);
  for (const [segment, child] of at.children) {
    collect(child, path === '' ? segment : `${path}:${segment}`, out);
  }
}

/**
 * Groups keys (given without the cache's prefix) by the template recognised from them all (see
 * the module comment): `posts:my-post` and `posts:other` under `posts:{{*}}` when there are more
 * than `siblings` posts, `profile:7` under `profile:{{*}}` at once.
 */
export function groupByTemplate(
  keys: Iterable<string>,
  siblings = DEFAULT_SIBLINGS,
): Map<string, string[]> {
  const root = node();
  for (const key of keys) {
    let at = root;
    for (const segment of key.split(':')) {
      let next = at.children.get(segment);
      if (next === undefined) {
        next = node();
        at.children.set(segment, next);
      }
      at = next;
    }
    at.keys.push(key);
  }
  // The first segment is the application's own name for a kind of key, never a value.
  for (const child of root.children.values()) collapse(child, siblings);
  const groups = new Map<string, string[]>();
  collect(root, '', groups);
  return groups;
}

/**
 * Groups keys (without the cache's prefix) by their first `depth` segments, labelled with the
 * pattern that matches the group: at depth 1, `posts:*` holds `posts`, `posts:a` and
 * `posts:a:comments` (a pattern ending in `:*` also covers the key without it). A key of fewer
 * segments is a group of its own, labelled with itself.
 */
export function groupByDepth(keys: Iterable<string>, depth: number): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const key of keys) {
    const segments = key.split(':');
    const label = segments.length < depth ? key : `${segments.slice(0, depth).join(':')}:*`;
    let group = groups.get(label);
    if (group === undefined) {
      group = [];
      groups.set(label, group);
    }
    group.push(key);
  }
  return groups;
}
