import { expect, it } from 'vitest';
import type { Cache, Store } from '../../src/index.js';

/** User-controlled values an attacker (or an unlucky user) can put into keys. */
export const HOSTILE_VALUES: readonly string[] = [
  '*',
  '?',
  '[a-z]',
  '[^x]',
  '\\',
  '\\*',
  ':',
  'x:*',
  '{x}',
  '{{x}}',
  '',
  ' ',
  'a'.repeat(10_000),
  'ünïcödé 😀',
  '\u0000',
  '%2A',
  '~',
];

/**
 * Tests that hostile key values can neither read another entry nor make an invalidation delete
 * other users' or other posts' keys. `newCache` gives an empty cache (its own prefix) per test.
 */
export function hostileValueTests(newCache: () => Cache<Store>): void {
  const bystanders = ['alice', 'bob', 'my-post', 'a', 'x'];

  it('gives every hostile value its own entry, never another one’s', async () => {
    const cache = newCache();
    const calls: string[] = [];
    const getPost = cache.cacheable(
      async (slug: string) => {
        calls.push(slug);
        return `post:${slug}`;
      },
      { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
    );
    for (const slug of [...bystanders, ...HOSTILE_VALUES])
      expect(await getPost(slug)).toBe(`post:${slug}`);
    for (const slug of [...bystanders, ...HOSTILE_VALUES])
      expect(await getPost(slug)).toBe(`post:${slug}`);
    expect(calls).toHaveLength(bystanders.length + HOSTILE_VALUES.length);
  });

  it('lets a hostile value invalidate only its own keys', async () => {
    const cache = newCache();
    const keys = (id: string): [string, Record<string, string | number>][] => [
      ['posts:{{slug}}', { slug: id }],
      ['posts:{{slug}}:comments', { slug: id }],
      ['users:{{user}}:posts:{{page}}', { user: id, page: 1 }],
    ];
    for (const id of bystanders) {
      for (const [template, context] of keys(id)) await cache.set(template, id, { context });
    }
    const mutate = cache.invalidating(async (_user: string, _slug: string) => true, {
      patterns: ['posts:{{slug}}:*', 'users:{{user}}:posts:*'],
      context: (user, slug) => ({ user, slug }),
    });
    for (const value of HOSTILE_VALUES) await mutate(value, value);
    for (const id of bystanders) {
      for (const [template, context] of keys(id))
        expect(await cache.get(template, context)).toBe(id);
    }
    expect(await cache.deletePattern('posts:{{slug}}:*', { slug: '*' })).toBe(0);
  });
}
