/**
 * The templates of a cache and the patterns that invalidate them, to catch the classic mistakes
 * of a cache layer: a mutation that forgets to invalidate something, and a pattern with a typo
 * that matches nothing (or that puts one value where keys hold another, such as
 * `posts:{{obj_id}}:*` for posts keyed by `posts:{{slug}}`).
 *
 * Whether a pattern can match a template's keys is decided exactly, on the templates as written:
 * a placeholder stands for any encoded value (any run of `A-Z a-z 0-9 _ . - % ~`), and the two
 * are walked together like two automata, looking for one key both accept.
 */
import { DIGITS, NAME_START, VALUE_EXTRA } from '../template/chars.js';
import { parseTemplate } from '../template/index.js';

/** Characters an encoded placeholder value is made of. */
const VALUE_CHARS = NAME_START + DIGITS + VALUE_EXTRA;
const IN_VALUE = new Set(VALUE_CHARS);

/** One step of a template or pattern. */
type Token =
  | { readonly kind: 'char'; readonly char: string }
  /** A placeholder: any run of value characters. */
  | { readonly kind: 'hole'; readonly name: string }
  /** `*`: any run of characters. */
  | { readonly kind: 'star' }
  /** `?` or `[...]`: one character that `accepts`. */
  | { readonly kind: 'one'; readonly accepts: (char: string) => boolean };

/** A registered key template and what is known about it. */
export interface TemplateCoverage {
  /** The key template as written, e.g. `posts:{{slug}}`. */
  readonly template: string;
  /** The registered invalidation patterns that can match its keys, as written. */
  readonly invalidatedBy: readonly string[];
}

/** What a check of a pattern found. */
export interface PatternFinding {
  /** The pattern as written. */
  readonly pattern: string;
  /** Why it looks wrong, as a sentence. */
  readonly problem: string;
}

/** The templates and patterns of one cache. */
export class Registry {
  readonly #templates = new Map<string, readonly Token[]>();
  readonly #patterns = new Map<string, readonly Token[][]>();

  /**
   * Records a `cacheable` key template. (Keys of the manual API are not recorded: code may pass
   * them as ever-new literal strings, which would grow the registry without bound.)
   */
  addTemplate(template: string): void {
    if (!this.#templates.has(template)) {
      this.#templates.set(template, tokenize(template, 'key'));
    }
  }

  /** Records an `invalidating` pattern (with the key it also covers when it ends in `:*`). */
  addPattern(pattern: string): void {
    if (this.#patterns.has(pattern)) return;
    const tokens = tokenize(pattern, 'pattern');
    const variants = [tokens];
    if (pattern.endsWith(':*') && !pattern.endsWith('\\:*')) variants.push(tokens.slice(0, -2));
    this.#patterns.set(pattern, variants);
  }

  /** Every registered template, with the patterns that can match its keys. */
  coverage(): TemplateCoverage[] {
    return [...this.#templates].map(([template, tokens]) => ({
      template,
      invalidatedBy: [...this.#patterns]
        .filter(([, variants]) => variants.some((variant) => intersects(tokens, variant)))
        .map(([pattern]) => pattern),
    }));
  }

  /** Whether `template` is a registered key template. */
  has(template: string): boolean {
    return this.#templates.has(template);
  }

  /** The registered key templates, in the order they were registered. */
  templates(): string[] {
    return [...this.#templates.keys()];
  }

  /**
   * The registered templates whose keys a rendered pattern (placeholders filled, without the
   * prefix; a trailing `:*` also covers the key without it) can match.
   */
  matching(rendered: string): string[] {
    const tokens = globTokens(rendered);
    const variants =
      rendered.endsWith(':*') && !rendered.endsWith('\\:*')
        ? [tokens, tokens.slice(0, -2)]
        : [tokens];
    return [...this.#templates]
      .filter(([, tokens]) => variants.some((variant) => intersects(tokens, variant)))
      .map(([template]) => template);
  }

  /**
   * What looks wrong with `pattern` against the templates registered now: it can match none of
   * them, or it can match one only by putting a placeholder where the template has another.
   */
  check(pattern: string): PatternFinding[] {
    this.addPattern(pattern);
    // Nothing to compare with (a cache used through the manual API alone, say): no finding.
    if (this.#templates.size === 0) return [];
    const variants = this.#patterns.get(pattern) as Token[][];
    const matched = [...this.#templates].filter(([, tokens]) =>
      variants.some((variant) => intersects(tokens, variant)),
    );
    if (matched.length === 0) {
      const known = [...this.#templates.keys()];
      return [
        {
          pattern,
          problem: `matches the keys of no template of this cache (known: ${known.join(', ')})`,
        },
      ];
    }
    const findings: PatternFinding[] = [];
    for (const [template] of matched) {
      const clash = namesClash(pattern, template);
      if (clash !== undefined) {
        findings.push({
          pattern,
          problem: `puts {{${clash[0]}}} where the template ${template} has {{${clash[1]}}}: check that they hold the same value`,
        });
      }
    }
    return findings;
  }
}

/** A template or pattern as tokens. */
function tokenize(text: string, mode: 'key' | 'pattern'): Token[] {
  const { texts, names } = parseTemplate(text, mode);
  const tokens: Token[] = [];
  texts.forEach((literal, index) => {
    if (mode === 'key') for (const char of literal) tokens.push({ kind: 'char', char });
    else tokens.push(...globTokens(literal));
    const name = names[index];
    if (name !== undefined) tokens.push({ kind: 'hole', name });
  });
  return tokens;
}

/** Redis glob syntax in a pattern's literal text. */
function globTokens(text: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i] as string;
    if (char === '*') tokens.push({ kind: 'star' });
    else if (char === '?') tokens.push({ kind: 'one', accepts: () => true });
    else if (char === '\\' && i + 1 < text.length) {
      i += 1;
      tokens.push({ kind: 'char', char: text[i] as string });
    } else if (char === '[') {
      const end = classEnd(text, i);
      const body = text.slice(i + 1, end);
      tokens.push({ kind: 'one', accepts: classMatcher(body) });
      i = end;
    } else tokens.push({ kind: 'char', char });
  }
  return tokens;
}

/** Where a `[...]` class that opens at `start` closes (Redis: an unclosed class runs to the end). */
function classEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i += 1) {
    if (text[i] === '\\') i += 1;
    else if (text[i] === ']') return i;
  }
  return text.length;
}

/** Redis's `[...]` rules: `^` negates, `a-z` ranges (either order), `\` escapes. */
function classMatcher(body: string): (char: string) => boolean {
  const negated = body.startsWith('^');
  const parts = negated ? body.slice(1) : body;
  const tests: ((char: string) => boolean)[] = [];
  for (let i = 0; i < parts.length; i += 1) {
    let char = parts[i] as string;
    if (char === '\\' && i + 1 < parts.length) {
      i += 1;
      char = parts[i] as string;
    }
    if (parts[i + 1] === '-' && i + 2 < parts.length) {
      const to = parts[i + 2] as string;
      const [low, high] = char <= to ? [char, to] : [to, char];
      tests.push((c) => c >= low && c <= high);
      i += 2;
    } else {
      const only = char;
      tests.push((c) => c === only);
    }
  }
  return (char) => tests.some((test) => test(char)) !== negated;
}

/** Whether some key is produced by the template `key` and matched by the pattern `glob`. */
function intersects(key: readonly Token[], glob: readonly Token[]): boolean {
  const seen = new Set<number>();
  const width = glob.length + 1;
  const stack: [number, number][] = [[0, 0]];
  while (stack.length > 0) {
    const [i, j] = stack.pop() as [number, number];
    if (seen.has(i * width + j)) continue;
    seen.add(i * width + j);
    if (i === key.length && j === glob.length) return true;
    const a = key[i];
    const b = glob[j];
    // A placeholder or `*` may end without consuming anything.
    if (a?.kind === 'hole') stack.push([i + 1, j]);
    if (b?.kind === 'hole' || b?.kind === 'star') stack.push([i, j + 1]);
    if (a === undefined || b === undefined) continue;
    // One character both accept: the template's side says which it can be.
    const candidates = a.kind === 'char' ? [a.char] : VALUE_CHARS;
    for (const char of candidates) {
      if (!accepts(b, char)) continue;
      stack.push([
        a.kind === 'hole' ? i : i + 1,
        b.kind === 'hole' || b.kind === 'star' ? j : j + 1,
      ]);
      break;
    }
  }
  return false;
}

function accepts(token: Token, char: string): boolean {
  switch (token.kind) {
    case 'char':
      return token.char === char;
    case 'hole':
      return IN_VALUE.has(char);
    case 'star':
      return true;
    case 'one':
      return token.accepts(char);
  }
}

/**
 * A placeholder of the pattern that stands where the template has a differently named one, in
 * the same `:`-separated segment position: `[patternName, templateName]`, or `undefined`.
 */
function namesClash(pattern: string, template: string): [string, string] | undefined {
  const ours = pattern.split(':');
  const theirs = template.split(':');
  for (let index = 0; index < Math.min(ours.length, theirs.length); index += 1) {
    const a = /^\{\{(\w+)\}\}$/.exec(ours[index] as string)?.[1];
    const b = /^\{\{(\w+)\}\}$/.exec(theirs[index] as string)?.[1];
    if (a !== undefined && b !== undefined && a !== b) return [a, b];
  }
  return undefined;
}
