/** What the benchmarks cache, and the naive read-through they measure misses against. */
import type { Redis } from 'ioredis';

/** A blog post of 905 bytes of JSON (for `i` of one digit). */
export function post(i: number) {
  return {
    slug: `post-${i}`,
    title: 'Caching in front of any function',
    author: { id: 42, name: 'Alice Example', avatar: 'https://example.invalid/a.png' },
    tags: ['redis', 'typescript', 'cache'],
    body: 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(12),
    likes: 1234,
    published: true,
  };
}

/**
 * A naive read-through of `value` under `bench:naive:<slug>` on `raw`: GET, and on a miss compute,
 * then SET with a TTL (no lease, no index). The floor misses are measured against.
 */
export function naiveReadThrough(raw: Redis, value: object): (slug: string) => Promise<unknown> {
  return async (slug) => {
    const key = `bench:naive:${slug}`;
    const found = await raw.get(key);
    if (found !== null) return JSON.parse(found);
    const computed = await (async () => ({ ...value, slug }))();
    await raw.set(key, JSON.stringify(computed), 'PX', 3_600_000);
    return computed;
  };
}
