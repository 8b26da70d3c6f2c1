import { describe, expect, it } from 'vitest';
import { createCache, MemoryStore, renderTag } from '../../src/index.js';

interface Post {
  readonly id: number;
  readonly slug: string;
  title: string;
}

function blog() {
  const posts: Post[] = [
    { id: 1, slug: 'a', title: 'A' },
    { id: 2, slug: 'b', title: 'B' },
    { id: 3, slug: 'c', title: 'C' },
  ];
  const cache = createCache({ store: new MemoryStore(), logger: silent });
  let loads = 0;
  const list = cache.cacheable(
    async (ids: number[]) => {
      loads += 1;
      return posts.filter((post) => ids.includes(post.id)).map((post) => ({ ...post }));
    },
    {
      key: 'posts:list:{{ids}}',
      context: (ids) => ({ ids: ids.join('-') }),
      tagsFromResult: (page) => page.map((post) => renderTag('post:{{id}}', { id: post.id })),
    },
  );
  const rename = cache.invalidating(
    async (id: number, title: string) => {
      const post = posts.find((p) => p.id === id) as Post;
      post.title = title;
      return post;
    },
    { tags: ['post:{{id}}'], context: (id) => ({ id }) },
  );
  return { cache, list, rename, loads: () => loads };
}

const silent = { debug() {}, warn() {}, error() {} };

describe('tags', () => {
  it('invalidates exactly the entries whose result carries the tag', async () => {
    const { list, rename, loads } = blog();
    await list([1, 2]);
    await list([2, 3]);
    await list([3]);
    expect(loads()).toBe(3);
    await rename(1, 'A2');
    expect((await list([1, 2]))[0]?.title).toBe('A2');
    await list([2, 3]);
    await list([3]);
    expect(loads()).toBe(4);
  });
});
