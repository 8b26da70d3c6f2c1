import { TemplateSyntaxError } from '../errors.js';
import type { TemplateMode } from './types.js';

/** A parsed template: literal text around each placeholder (`texts.length === names.length + 1`). */
export interface ParsedTemplate {
  readonly texts: readonly string[];
  readonly names: readonly string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Text made only of characters an encoded value can contain (see encode.ts). */
const VALUE_CHARS_ONLY = /^[A-Za-z0-9_.%~-]*$/;
const GLOB_CHARS = /[*?[\]\\]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const SPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f]/;

/**
 * Parses `{{name}}` placeholders out of a template. Literal text may not hold braces (they are
 * reserved for placeholders, and Redis Cluster reads `{...}` as a hash tag), whitespace or control
 * characters; in `key` mode it may not hold glob characters either, since a key containing `*`
 * would be matched by patterns in surprising ways.
 */
export function parseTemplate(template: string, mode: TemplateMode): ParsedTemplate {
  if (typeof template !== 'string') {
    throw new TemplateSyntaxError(
      String(template),
      0,
      `a template must be a string, got ${typeof template}`,
    );
  }
  if (template.length === 0)
    throw new TemplateSyntaxError(template, 0, 'a template cannot be empty');
  const texts: string[] = [];
  const names: string[] = [];
  let textStart = 0;
  let i = 0;
  while (i < template.length) {
    const ch = template[i];
    if (ch === '{' && template[i + 1] === '{') {
      checkText(template, textStart, i, mode);
      const close = template.indexOf('}}', i + 2);
      if (close === -1) throw new TemplateSyntaxError(template, i, '"{{" is never closed by "}}"');
      const name = template.slice(i + 2, close);
      if (name.length === 0)
        throw new TemplateSyntaxError(template, i, 'a placeholder needs a name');
      if (!NAME.test(name)) {
        throw new TemplateSyntaxError(
          template,
          i + 2,
          `"${name}" is not a valid placeholder name (letters, digits and _, not starting with a digit)`,
        );
      }
      const text = template.slice(textStart, i);
      if (names.length > 0 && VALUE_CHARS_ONLY.test(text)) {
        throw new TemplateSyntaxError(
          template,
          i,
          `{{${names[names.length - 1]}}} and {{${name}}} need a separator that values cannot contain, such as ":", between them; otherwise ("ab", "c") and ("a", "bc") would give the same key`,
        );
      }
      texts.push(text);
      names.push(name);
      i = close + 2;
      textStart = i;
    } else {
      i += 1;
    }
  }
  checkText(template, textStart, template.length, mode);
  texts.push(template.slice(textStart));
  return { texts, names };
}

function checkText(template: string, start: number, end: number, mode: TemplateMode): void {
  for (let i = start; i < end; i += 1) {
    const ch = template[i] as string;
    if (ch === '{' || ch === '}') {
      throw new TemplateSyntaxError(
        template,
        i,
        `a lone "${ch}" is not allowed; braces only appear as {{name}} placeholders`,
      );
    }
    if (SPACE_OR_CONTROL.test(ch)) {
      throw new TemplateSyntaxError(
        template,
        i,
        'whitespace and control characters are not allowed',
      );
    }
    if (mode === 'key' && GLOB_CHARS.test(ch)) {
      throw new TemplateSyntaxError(
        template,
        i,
        `"${ch}" is a wildcard character; it belongs in invalidation patterns, not in key templates`,
      );
    }
  }
}
