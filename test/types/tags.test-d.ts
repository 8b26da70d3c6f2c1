import { describe, expectTypeOf, it } from 'vitest';
import { createCache, renderTag } from '../../src/index.js';

type Post = { id: number; author: string };
const cache = createCache();

describe('tags', () => {
  it('make `context` give the placeholders of the tags too', () => {
    cache.cacheable(async (slug: string, author: string) => ({ slug, author }), {
      key: 'posts:{{slug}}',
      tags: ['author:{{author}}'],
      context: (slug, author) => ({ slug, author }),
    });
    cache.cacheable(async (slug: string) => slug, {
      key: 'posts:{{slug}}',
      tags: ['author:{{author}}'],
      // @ts-expect-error `author` is a placeholder of a tag, and `context` leaves it out
      context: (slug) => ({ slug }),
    });
    // A tag with placeholders needs `context` even when the key has none.
    // @ts-expect-error `context` is required: the tag has a placeholder
    cache.cacheable(async () => 1, { key: 'one', tags: ['author:{{author}}'] });
    cache.cacheable(async () => 1, { key: 'one', tags: ['everything'] });
  });

  it('check tag templates like key templates', () => {
    cache.cacheable(async (id: number) => id, {
      key: 'n:{{id}}',
      // @ts-expect-error a tag is a key template: no wildcards
      tags: ['post:*'],
      context: (id) => ({ id }),
    });
  });

  it('give `tagsFromResult` the awaited result and the arguments, and want strings', () => {
    cache.cacheable(async (_ids: number[]): Promise<Post[]> => [], {
      key: 'posts:list:{{ids}}',
      context: (ids) => ({ ids }),
      tagsFromResult: (page, ids) => {
        expectTypeOf(page).toEqualTypeOf<Post[]>();
        expectTypeOf(ids).toEqualTypeOf<number[]>();
        return page.map((post) => renderTag('post:{{id}}', post));
      },
    });
    cache.cacheable(async (): Promise<Post[]> => [], {
      key: 'posts:all',
      // @ts-expect-error tags are strings
      tagsFromResult: (page) => page.map((post) => post.id),
    });
  });

  it('let `invalidating` take tags alone, with their placeholders in `context`', () => {
    cache.invalidating(async (id: number) => id, {
      tags: ['post:{{id}}'],
      context: (id) => ({ id }),
    });
    cache.invalidating(async (post: Post) => post, {
      patterns: ['posts:{{id}}:*'],
      tags: ['author:{{author}}'],
      context: (post) => ({ id: post.id, author: post.author }),
    });
    cache.invalidating(async (id: number) => id, {
      tags: ['post:{{id}}'],
      // @ts-expect-error `context` leaves out the tag's placeholder
      context: (id) => ({ post: id }),
    });
    cache.invalidating(async (): Promise<Post> => ({ id: 1, author: 'ada' }), {
      tagsFromResult: (post) => [renderTag('author:{{author}}', post)],
    });
  });

  it('make cache.invalidateTags and renderTag want the values of their placeholders', () => {
    expectTypeOf(cache.invalidateTags(['post:{{id}}'], { id: 1 })).toEqualTypeOf<number>();
    // @ts-expect-error the tag has a placeholder: its value is needed
    cache.invalidateTags(['post:{{id}}']);
    expectTypeOf(renderTag('post:{{id}}', { id: 1 })).toEqualTypeOf<string>();
    // @ts-expect-error `id` is missing
    renderTag('post:{{id}}', { slug: 'a' });
  });
});
