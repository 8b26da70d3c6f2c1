import { describe, expect, it } from 'vitest';
import {
  compilePattern,
  compileTemplate,
  InvalidContextValueError,
  MissingContextValueError,
  matchGlob,
  TemplateSyntaxError,
} from '../../src/index.js';
import {
  BRACES,
  DIGITS,
  GLOB,
  NAME_START,
  SPACE_OR_CONTROL,
  VALUE_EXTRA,
} from '../../src/template/chars.js';
import { parseTemplate, type TemplateMode, widenPattern } from '../../src/template/index.js';
import { templateCases } from '../helpers/template-cases.js';

describe('compileTemplate', () => {
  it('renders placeholders in order, literal text as written', () => {
    const render = compileTemplate('posts:{{slug}}:comments:{{page}}');
    expect(render({ slug: 'my-post', page: 2 })).toBe('posts:my-post:comments:2');
    expect(render.placeholders).toEqual(['slug', 'page']);
    expect(render.template).toBe('posts:{{slug}}:comments:{{page}}');
  });

  it('renders a template without placeholders as itself', () => {
    expect(compileTemplate('posts:all')({})).toBe('posts:all');
  });

  it('accepts placeholders separated by a character values cannot contain', () => {
    expect(compileTemplate('x:{{a}}:{{b}}')({ a: 'ab', b: 'c' })).not.toBe(
      compileTemplate('x:{{a}}:{{b}}')({ a: 'a', b: 'bc' }),
    );
    expect(compileTemplate('x:{{a}}/{{b}}')({ a: 1, b: 2 })).toBe('x:1/2');
    expect(compileTemplate('v2-{{a}}')({ a: 1 })).toBe('v2-1');
  });

  it('renders a repeated placeholder each time', () => {
    expect(compileTemplate('{{a}}:{{a}}')({ a: 'x' })).toBe('x:x');
  });

  it.each([
    ['', 0, 'cannot be empty'],
    ['posts:{{slug', 6, 'never closed'],
    ['posts:{{}}', 6, 'needs a name'],
    ['posts:{{1slug}}', 8, 'not a valid placeholder name'],
    ['posts:{{sl-ug}}', 8, 'not a valid placeholder name'],
    ['posts:{{ slug }}', 8, 'not a valid placeholder name'],
    ['posts:{slug}', 6, 'lone "{"'],
    ['posts:slug}}', 10, 'lone "}"'],
    ['posts:{{slug}}}', 14, 'lone "}"'],
    ['posts: {{slug}}', 6, 'whitespace'],
    ['posts:\t{{slug}}', 6, 'whitespace'],
    ['posts:*', 6, 'wildcard'],
    ['posts:{{slug}}:[ab]', 15, 'wildcard'],
    ['posts:a\\b', 7, 'wildcard'],
    ['x:{{a}}{{b}}', 7, 'need a separator'],
    ['x:{{a}}-{{b}}', 8, 'need a separator'],
    ['x:{{a}}.v2.{{b}}', 11, 'need a separator'],
  ])('rejects %j at character %i (%s)', (template, position, problem) => {
    let error: unknown;
    try {
      compileTemplate(template);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TemplateSyntaxError);
    expect(error).toMatchObject({ code: 'E_TEMPLATE_SYNTAX', template, position });
    expect((error as Error).message).toContain(problem);
    expect((error as Error).message).toMatch(/^\[quickpost-cache\] /);
  });

  it('throws MissingContextValueError naming the template and placeholder', () => {
    const render = compileTemplate('posts:{{slug}}:{{page}}') as (context: object) => string;
    expect(() => render({ slug: 'a' })).toThrow(MissingContextValueError);
    expect(() => render({ slug: 'a', page: undefined })).toThrow(
      expect.objectContaining({
        code: 'E_MISSING_CONTEXT_VALUE',
        template: 'posts:{{slug}}:{{page}}',
        placeholder: 'page',
      }),
    );
  });

  it.each([
    [null, 'null'],
    [() => 1, 'a function'],
    [Symbol('s'), 'a symbol'],
    [Promise.resolve(1), 'an object that object-hash cannot hash'],
  ])('throws InvalidContextValueError for %s', (value, kind) => {
    const render = compileTemplate('posts:{{slug}}') as (context: object) => string;
    expect(() => render({ slug: value })).toThrow(
      expect.objectContaining({
        name: 'InvalidContextValueError',
        placeholder: 'slug',
        message: expect.stringContaining(`from ${kind}.`),
      }),
    );
    expect(() => render({ slug: value })).toThrow(InvalidContextValueError);
  });
});

describe('compilePattern', () => {
  it('keeps the template’s wildcards and makes rendered values literal', () => {
    const render = compilePattern('posts:{{slug}}:*');
    expect(render({ slug: 'my-post' })).toBe('posts:my-post:*');
    expect(render({ slug: '*' })).toBe('posts:%2A:*');
    expect(compilePattern('posts:?:[ab]:\\*')({})).toBe('posts:?:[ab]:\\*');
  });

  it('rejects malformed patterns like templates', () => {
    // @ts-expect-error a malformed literal pattern is a compile error too
    expect(() => compilePattern('posts:{{slug')).toThrow(TemplateSyntaxError);
    // @ts-expect-error a malformed literal pattern is a compile error too
    expect(() => compilePattern('posts :*')).toThrow(TemplateSyntaxError);
  });
});

/** The parser's verdict: `'ok'`, or the message of the error it throws. */
function verdict(template: string, mode: TemplateMode): string {
  try {
    parseTemplate(template, mode);
    return 'ok';
  } catch (error) {
    if (!(error instanceof TemplateSyntaxError)) throw error;
    return error.message;
  }
}

describe('the template grammar (the type-level grammar runs on the same table)', () => {
  it.each(templateCases)('$template: key $key, pattern $pattern', (row) => {
    for (const mode of ['key', 'pattern'] as const) {
      const expected = row[mode];
      const got = verdict(row.template, mode);
      if (expected === 'ok') expect(got, mode).toBe('ok');
      else expect(got, mode).toContain(expected);
    }
  });

  // types.ts reads its character classes from chars.ts; the parser has its own regular
  // expressions. Every UTF-16 code unit in each position proves they agree.
  it('accepts exactly the characters the type-level grammar accepts, in every position', () => {
    const nameStart = new Set(NAME_START);
    const nameChar = new Set(NAME_START + DIGITS);
    const valueChar = new Set(NAME_START + DIGITS + VALUE_EXTRA);
    const notInText = new Set([...BRACES, ...SPACE_OR_CONTROL]);
    const glob = new Set(GLOB);
    const disagreements: string[] = [];
    const check = (template: string, mode: TemplateMode, expected: boolean) => {
      if ((verdict(template, mode) === 'ok') !== expected)
        disagreements.push(JSON.stringify(template));
    };
    for (let code = 0; code <= 0xffff; code += 1) {
      const c = String.fromCharCode(code);
      const text = !notInText.has(c);
      check(`{{${c}}}`, 'pattern', nameStart.has(c));
      check(`{{a${c}}}`, 'pattern', nameChar.has(c));
      check(`x${c}`, 'pattern', text);
      check(`x${c}`, 'key', text && !glob.has(c));
      check(`{{a}}${c}{{b}}`, 'pattern', text && !valueChar.has(c));
    }
    expect(disagreements).toEqual([]);
  });
});

describe('widenPattern (what an invalidation falls back to when `contextFromResult` fails)', () => {
  it.each([
    ['posts:{{slug}}:*', 'posts:*:*'],
    ['users:{{id}}:profile', 'users:*:profile'],
    ['posts:list:*', 'posts:list:*'],
    ['{{tenant}}:posts:{{slug}}', '*:posts:*'],
    // A `*` after a `\` would be escaped, inside `[...]` a literal: the whole pattern widens.
    ['posts\\{{slug}}', '*'],
    ['posts:[{{letter}}]x:*', '*'],
  ])('widens %s to %s', (pattern, widened) => {
    expect(widenPattern(pattern)).toBe(widened);
  });

  it('matches every key that any rendering of the pattern matches', () => {
    const pattern = 'posts:{{slug}}:{{page}}:*';
    const widened = widenPattern(pattern);
    for (const context of [
      { slug: 'a', page: 1 },
      { slug: 'x:y*', page: 'z' },
      { slug: { tag: 'redis' }, page: '' },
    ]) {
      const key = `${compilePattern(pattern)(context).slice(0, -1)}comments`;
      expect(matchGlob(widened, key)).toBe(true);
    }
  });
});
