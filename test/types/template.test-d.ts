import { describe, expectTypeOf, it } from 'vitest';
import {
  type CompiledTemplate,
  type ContextValue,
  compileTemplate,
  type PlaceholderNames,
  type TemplateContext,
} from '../../src/index.js';

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
