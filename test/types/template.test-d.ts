import { describe, expectTypeOf, it } from 'vitest';
import {
  type CheckedTemplate,
  type CompiledTemplate,
  type ContextArgs,
  type ContextFor,
  type ContextValue,
  compilePattern,
  compileTemplate,
  type PlaceholderNames,
  type TemplateContext,
  type TemplateError,
  type TemplateMode,
} from '../../src/index.js';
import type { TemplateCase } from '../helpers/template-cases.js';

describe('template types', () => {
  it('find the placeholders of a literal template', () => {
    expectTypeOf<PlaceholderNames<'posts:{{slug}}:{{user_id}}'>>().toEqualTypeOf<
      'slug' | 'user_id'
    >();
    expectTypeOf<PlaceholderNames<'posts:all'>>().toEqualTypeOf<never>();
    expectTypeOf<PlaceholderNames<'{{a}}{{b}}:{{a}}'>>().toEqualTypeOf<'a' | 'b'>();
    expectTypeOf<PlaceholderNames<string>>().toEqualTypeOf<string>();
  });

  it('require every placeholder in the context', () => {
    expectTypeOf<TemplateContext<'posts:{{slug}}:{{page}}'>>().toEqualTypeOf<{
      readonly slug: ContextValue;
      readonly page: ContextValue;
    }>();
    const render = compileTemplate('posts:{{slug}}:{{user_id}}');
    expectTypeOf(render).toEqualTypeOf<CompiledTemplate<'posts:{{slug}}:{{user_id}}'>>();
    expectTypeOf(render({ slug: 'a', user_id: 1 })).toEqualTypeOf<string>();
    // @ts-expect-error user_id is missing
    render({ slug: 'a' });
    // @ts-expect-error undefined is not a context value
    render({ slug: 'a', user_id: undefined });
    // @ts-expect-error null is not a context value
    render({ slug: null, user_id: 1 });
  });

  it('accept objects, numbers, booleans and bigints as values', () => {
    const render = compileTemplate('list:{{filters}}:{{page}}:{{draft}}:{{id}}');
    render({ filters: { tag: 'a' }, page: 1, draft: false, id: 10n });
  });

  it('accept any record for a template only known at run time', () => {
    const template: string = 'posts:{{slug}}';
    const render = compileTemplate(template);
    expectTypeOf(render).parameter(0).toEqualTypeOf<Readonly<Record<string, ContextValue>>>();
  });
});

/** The compiler's verdict on a template: `'ok'`, or its error message. */
type Verdict<T extends string, M extends TemplateMode> = [TemplateError<T, M>] extends [never]
  ? 'ok'
  : TemplateError<T, M>;

/** Whether a verdict is the expected one: `'ok'`, or an error containing the expected phrase. */
type Agrees<Got extends string, Expected extends string> = Expected extends 'ok'
  ? Got extends 'ok'
    ? true
    : false
  : Got extends `${string}${Expected}${string}`
    ? true
    : false;

/** The rows of the shared table where the compiler disagrees with the parser, by mode. */
type Disagreements<Row extends TemplateCase> = Row extends TemplateCase
  ?
      | (Agrees<Verdict<Row['template'], 'key'>, Row['key']> extends true
          ? never
          : `${Row['template']} (key)`)
      | (Agrees<Verdict<Row['template'], 'pattern'>, Row['pattern']> extends true
          ? never
          : `${Row['template']} (pattern)`)
  : never;

describe('the type-level grammar', () => {
  it('agrees with the runtime parser on the shared table (test/helpers/template-cases.ts)', () => {
    expectTypeOf<Disagreements<TemplateCase>>().toEqualTypeOf<never>();
  });

  it('explains each problem in the parameter type', () => {
    expectTypeOf<TemplateError<''>>().toEqualTypeOf<'template error: a template cannot be empty'>();
    expectTypeOf<
      TemplateError<'x:{{a'>
    >().toEqualTypeOf<"template error: '{{' is never closed by '}}'">();
    expectTypeOf<
      TemplateError<'x:{{}}'>
    >().toEqualTypeOf<'template error: a placeholder needs a name, as in {{slug}}'>();
    expectTypeOf<
      TemplateError<'{{1a}}'>
    >().toEqualTypeOf<"template error: '1a' is not a valid placeholder name (letters, digits and _, not starting with a digit)">();
    expectTypeOf<
      TemplateError<'x:{a}'>
    >().toEqualTypeOf<"template error: a lone '{' is not allowed; braces only appear as {{name}} placeholders">();
    expectTypeOf<
      TemplateError<'x: y'>
    >().toEqualTypeOf<'template error: whitespace and control characters are not allowed'>();
    expectTypeOf<
      TemplateError<'x:[a]'>
    >().toEqualTypeOf<"template error: '[' is a wildcard character; it belongs in invalidation patterns, not in key templates">();
    expectTypeOf<
      TemplateError<'x:{{a}}{{b}}'>
    >().toEqualTypeOf<"template error: {{a}} and {{b}} need a separator that values cannot contain, such as ':'">();
    expectTypeOf<TemplateError<'x:[a]', 'pattern'>>().toEqualTypeOf<never>();
  });

  it('is the template itself when valid, the reason otherwise', () => {
    expectTypeOf<CheckedTemplate<'posts:{{slug}}'>>().toEqualTypeOf<'posts:{{slug}}'>();
    expectTypeOf<CheckedTemplate<'posts:*'>>().toEqualTypeOf<TemplateError<'posts:*'>>();
    expectTypeOf<CheckedTemplate<'posts:*', 'pattern'>>().toEqualTypeOf<'posts:*'>();
    expectTypeOf<CheckedTemplate<string>>().toEqualTypeOf<string>();
  });

  it('leaves templates the compiler cannot read to the run-time check', () => {
    expectTypeOf<TemplateError<string>>().toEqualTypeOf<never>();
    expectTypeOf<TemplateError<`posts:${string}`>>().toEqualTypeOf<never>();
    expectTypeOf<TemplateError<`{{a}}${number}{{b}}`>>().toEqualTypeOf<never>();
  });

  it('leaves names that cannot be placeholders out of the context', () => {
    expectTypeOf<PlaceholderNames<'x:{{a}}:{{}}:{{1b}}'>>().toEqualTypeOf<'a'>();
  });
});

describe('compileTemplate and compilePattern', () => {
  it('reject every malformed key template at compile time', () => {
    // @ts-expect-error empty
    compileTemplate('');
    // @ts-expect-error unclosed
    compileTemplate('posts:{{slug');
    // @ts-expect-error empty name
    compileTemplate('posts:{{}}');
    // @ts-expect-error a name cannot start with a digit
    compileTemplate('posts:{{1a}}');
    // @ts-expect-error a name holds letters, digits and _ only
    compileTemplate('posts:{{a-b}}');
    // @ts-expect-error lone brace
    compileTemplate('posts:{slug}');
    // @ts-expect-error lone brace
    compileTemplate('posts:slug}');
    // @ts-expect-error whitespace
    compileTemplate('posts: {{slug}}');
    // @ts-expect-error control character
    compileTemplate('posts:\u0000');
    // @ts-expect-error a wildcard in a key template
    compileTemplate('posts:*');
    // @ts-expect-error a wildcard in a key template
    compileTemplate('posts:?');
    // @ts-expect-error a wildcard in a key template
    compileTemplate('posts:[a-z]');
    // @ts-expect-error an escape in a key template
    compileTemplate('posts:\\*');
    // @ts-expect-error adjacent placeholders
    compileTemplate('x:{{a}}{{b}}');
    // @ts-expect-error separated only by a character values can contain
    compileTemplate('x:{{a}}-{{b}}');
    // @ts-expect-error separated only by a character values can contain
    compileTemplate('x:{{a}}.{{b}}');
    // @ts-expect-error separated only by a character values can contain
    compileTemplate('x:{{a}}%{{b}}');
  });

  it('reject malformed patterns, but accept wildcards in them', () => {
    // @ts-expect-error unclosed
    compilePattern('posts:{{slug');
    // @ts-expect-error whitespace
    compilePattern('posts :*');
    // @ts-expect-error adjacent placeholders
    compilePattern('x:{{a}}{{b}}:*');
    // @ts-expect-error separated only by a character values can contain
    compilePattern('x:{{a}}.{{b}}');
    compilePattern('posts:*');
    compilePattern('posts:{{slug}}:?');
    compilePattern('posts:[a-z]:{{slug}}');
    compilePattern('posts:\\*');
    compilePattern('{{a}}*{{b}}');
  });

  it('accept valid templates and infer their context as before', () => {
    expectTypeOf(compileTemplate('posts:{{slug}}')).toEqualTypeOf<
      CompiledTemplate<'posts:{{slug}}'>
    >();
    expectTypeOf(compileTemplate('a:{{x}}:{{y}}')).parameter(0).toEqualTypeOf<{
      readonly x: ContextValue;
      readonly y: ContextValue;
    }>();
    compileTemplate('{{a}}/{{b}}');
    expectTypeOf(compilePattern('posts:{{slug}}:*')).parameter(0).toEqualTypeOf<{
      readonly slug: ContextValue;
    }>();
  });

  it('check a long template without running into the compiler’s depth limits', () => {
    const long = compileTemplate(
      'blog:v2:posts:by-author:{{author}}:by-year:{{year}}:by-month:{{month}}:by-day:{{day}}:tag:{{tag}}:category:{{category}}:language:{{language}}:region:{{region}}:page:{{page}}:size:{{size}}:sort:{{sort}}:order:{{order}}:filter:{{filter}}:format:{{format}}:version:{{version}}:{{a1}}/{{a2}}/{{a3}}/{{a4}}/{{a5}}/{{a6}}',
    );
    expectTypeOf(long).parameter(0).toHaveProperty('a6');
    compileTemplate(
      // @ts-expect-error the same long template with two adjacent placeholders at its end
      'blog:v2:posts:by-author:{{author}}:by-year:{{year}}:by-month:{{month}}:by-day:{{day}}:tag:{{tag}}:category:{{category}}:language:{{language}}:region:{{region}}:page:{{page}}:size:{{size}}:sort:{{sort}}:order:{{order}}:filter:{{filter}}:format:{{format}}:version:{{version}}:{{a1}}/{{a2}}/{{a3}}/{{a4}}/{{a5}}{{a6}}',
    );
  });
});

describe('ContextFor', () => {
  type Shapes = { required: 'required'; none: 'none'; runtime: 'runtime' };

  it('picks one shape by whether the template has placeholders', () => {
    expectTypeOf<ContextFor<'posts:{{slug}}', Shapes>>().toEqualTypeOf<'required'>();
    expectTypeOf<ContextFor<'posts:all', Shapes>>().toEqualTypeOf<'none'>();
    expectTypeOf<ContextFor<string, Shapes>>().toEqualTypeOf<'runtime'>();
  });

  it('leaves the context optional for a malformed template, so its own error is the one shown', () => {
    expectTypeOf<ContextFor<'x:{{a}}{{b}}', Shapes>>().toEqualTypeOf<'runtime'>();
    expectTypeOf<ContextFor<'x:{{a}}:*', Shapes>>().toEqualTypeOf<'runtime'>();
    expectTypeOf<ContextFor<'x:{{a}}:*', Shapes, 'pattern'>>().toEqualTypeOf<'required'>();
  });

  it('is what ContextArgs is built on', () => {
    expectTypeOf<ContextArgs<'posts:{{slug}}'>>().toEqualTypeOf<
      [context: { readonly slug: ContextValue }]
    >();
    expectTypeOf<ContextArgs<'posts:all'>>().toEqualTypeOf<[]>();
    expectTypeOf<ContextArgs<string>>().toEqualTypeOf<
      [context?: Readonly<Record<string, ContextValue>>]
    >();
  });
});
