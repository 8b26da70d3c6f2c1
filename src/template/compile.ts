import {
  type ContextOrigin,
  InvalidContextValueError,
  MissingContextValueError,
  type RequestContextState,
} from '../errors.js';
import { encodeKeyValue } from './encode.js';
import { type ParsedTemplate, parseTemplate } from './parse.js';
import type {
  PlaceholderNames,
  TemplateContext,
  TemplateMode,
  ValidPattern,
  ValidTemplate,
} from './types.js';

/**
 * Where a render looks for a value its context lacks: the request context of a cache (see
 * request-context.ts), asked only when a value is missing.
 */
export interface AmbientSource {
  /** The current request's values, or `undefined` outside any request. */
  get(): Readonly<Record<string, unknown>> | undefined;
}

/**
 * A compiled template as the wrappers call it: values missing from `context` (or `undefined`
 * there) are taken from `ambient`, so explicit values win. Without `ambient`, a compiled
 * template is exactly a {@link CompiledTemplate}.
 */
export interface Renderer {
  (context: object, ambient: AmbientSource | undefined): string;
  /** The placeholder names, in order of appearance. */
  readonly placeholders: readonly string[];
}

/** A compiled template: call it with a context to get the rendered text (without any prefix). */
export interface CompiledTemplate<T extends string = string> {
  (context: TemplateContext<T>): string;
  /** The template as written. */
  readonly template: T;
  /** The placeholder names, in order of appearance (a name used twice appears twice). */
  readonly placeholders: readonly PlaceholderNames<T>[];
}

/**
 * Compiles a key template such as `posts:{{slug}}` into a render function. Parsing and validation
 * happen here, once (compiled templates are also memoized by text); rendering is string
 * concatenation of encoded values. A malformed template, or one containing glob wildcards, is a
 * compile error when its text is known to the compiler, and a `TemplateSyntaxError` at run time.
 *
 * @example
 * const render = compileTemplate('posts:{{slug}}:{{user_id}}');
 * render({ slug: 'hello world', user_id: 7 }); // 'posts:hello%20world:7'
 */
export function compileTemplate<const T extends string>(
  template: ValidTemplate<T>,
): CompiledTemplate<T> {
  return compile<T>(template, 'key');
}

/**
 * Compiles an invalidation pattern such as `posts:{{slug}}:*`. Its own `*`, `?`, `[...]` and `\`
 * are Redis glob syntax; rendered values are always literal (see `encodeKeyValue`).
 */
export function compilePattern<const T extends string>(
  pattern: ValidPattern<T>,
): CompiledTemplate<T> {
  return compile<T>(pattern, 'pattern');
}

/** The compiled key template (`'key'`) or pattern, as the wrappers call it. */
export function renderer(template: string, mode: TemplateMode): Renderer {
  return compile(template, mode) as unknown as Renderer;
}

/** Compiled templates by mode and text; cleared when full, since templates are few in practice. */
const compiled: Record<TemplateMode, Map<string, unknown>> = { key: new Map(), pattern: new Map() };
const MAX_COMPILED = 1000;

function compile<T extends string>(template: string, mode: TemplateMode): CompiledTemplate<T> {
  const memo = compiled[mode];
  const known = memo.get(template);
  if (known !== undefined) return known as CompiledTemplate<T>;
  if (memo.size >= MAX_COMPILED) memo.clear();
  const created = build<T>(template, mode);
  memo.set(template, created);
  return created;
}

function build<T extends string>(template: string, mode: TemplateMode): CompiledTemplate<T> {
  const parsed = parseTemplate(template, mode);
  const render = parsed.names.length === 0 ? constant(parsed) : buildRenderer(template, parsed);
  return Object.assign(render, {
    template: template as T,
    placeholders: parsed.names as readonly PlaceholderNames<T>[],
  }) as CompiledTemplate<T>;
}

function constant(parsed: ParsedTemplate): () => string {
  const text = parsed.texts[0] as string;
  return () => text;
}

function buildRenderer(
  template: string,
  { texts, names }: ParsedTemplate,
): (context: Readonly<Record<string, unknown>>, ambient?: AmbientSource) => string {
  return (context, ambient) => {
    if (typeof context !== 'object' || context === null) {
      throw new MissingContextValueError(template, names[0] as string);
    }
    let out = texts[0] as string;
    for (let i = 0; i < names.length; i += 1) {
      const name = names[i] as string;
      let value = context[name];
      // The request context is asked only for what the explicit context lacks.
      if (value === undefined && ambient !== undefined) value = ambient.get()?.[name];
      const text = encodeKeyValue(value);
      if (text === undefined) {
        if (value === undefined) throw missing(template, name, ambient);
        throw new InvalidContextValueError(template, name, describeUnrenderable(value));
      }
      out += text + (texts[i + 1] as string);
    }
    return out;
  };
}

function missing(
  template: string,
  name: string,
  ambient: AmbientSource | undefined,
): MissingContextValueError {
  return new MissingContextValueError(template, name, undefined, undefined, stateOf(ambient));
}

/** Where a missing value was also looked for: no request context, or one outside or inside a request. */
function stateOf(ambient: AmbientSource | undefined): RequestContextState {
  if (ambient === undefined) return 'none';
  return ambient.get() === undefined ? 'inactive' : 'lacking';
}

function describeUnrenderable(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object that object-hash cannot hash';
  return `a ${typeof value}`;
}

/**
 * Renders `template` from `context` and, for values it lacks, the request context (`ambient`);
 * a missing value's error says where the context came from (`origin`, supplied `by` a wrapper or
 * a method), so its hint points at the right code.
 */
export function renderFrom(
  template: Renderer,
  context: object,
  ambient: AmbientSource | undefined,
  origin: ContextOrigin,
  by: string,
): string {
  try {
    return template(context, ambient);
  } catch (error) {
    if (!(error instanceof MissingContextValueError)) throw error;
    throw new MissingContextValueError(
      error.template,
      error.placeholder,
      origin,
      by,
      stateOf(ambient),
    );
  }
}

/**
 * The pattern with every placeholder widened to `*`: it matches every key that any rendering of
 * the pattern matches (and more). When a `[` or `\` comes before a placeholder, a `*` there could
 * be escaped or inside a class, so the whole pattern widens to `*`.
 */
export function widenPattern(pattern: string): string {
  const { texts } = parseTemplate(pattern, 'pattern');
  const risky = texts.slice(0, -1).some((text) => /[[\\]/.test(text));
  return risky ? '*' : texts.join('*');
}
