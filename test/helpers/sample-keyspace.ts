/**
 * A sample keyspace written through a real cache, as a blog would fill it: the command line's
 * tests and the README's sample output run on it. Every key is written by a `cacheable` wrapper
 * (or the manual API), so it has the encoding, header, TTL and key-index entries the library
 * gives it. TTLs range from 5 minutes to a week, none shorter, so that no key expires during the
 * tests.
 */
import type { Cache } from '../../src/index.js';

const ADJECTIVES = ['quiet', 'fast', 'plain', 'small', 'late', 'exact'] as const;
const NOUNS = ['cache', 'redis', 'keys', 'leases', 'templates'] as const;

/** 30 post slugs: `quiet-cache`, `quiet-redis`, …, `exact-templates`. */
export const SLUGS: readonly string[] = ADJECTIVES.flatMap((adjective) =>
  NOUNS.map((noun) => `${adjective}-${noun}`),
);

/** The posts that also have their comments cached. */
export const COMMENTED: readonly string[] = SLUGS.slice(0, 8);

/** The list filters cached (each hashed into the key). */
export const FILTERS: readonly { tag: string; page: number }[] = ['redis', 'node', 'cache'].flatMap(
  (tag) => [1, 2, 3, 4].map((page) => ({ tag, page })),
);

/** The profiles cached. */
export const USER_IDS: readonly number[] = Array.from({ length: 25 }, (_, i) => 1001 + i);

/** The searches cached (encoded into the key: `redis%20cluster`). */
export const QUERIES: readonly string[] = ['redis cluster', 'cache invalidation', 'key templates'];

/** How many keys of each kind the sample holds (entries only, not the key index). */
export const SAMPLE_COUNTS = {
  posts: SLUGS.length,
  comments: COMMENTED.length,
  lists: FILTERS.length,
  profiles: USER_IDS.length,
  searches: QUERIES.length,
  homepage: 1,
} as const;

/** Every entry of the sample. */
export const SAMPLE_TOTAL = Object.values(SAMPLE_COUNTS).reduce((sum, n) => sum + n, 0);

/** A post as the sample stores it. */
export interface SamplePost {
  slug: string;
  title: string;
  tags: string[];
  publishedAt: string;
}

/** The post stored for a slug. */
export function samplePost(slug: string): SamplePost {
  return {
    slug,
    title: slug
      .split('-')
      .map((word) => word[0]?.toUpperCase() + word.slice(1))
      .join(' '),
    tags: ['redis', 'cache'],
    publishedAt: '2025-01-15T09:30:00.000Z',
  };
}

/** The sample's cached functions on `cache`, counting their calls. */
export function sampleFunctions(cache: Cache) {
  const calls = { posts: 0, comments: 0, lists: 0, profiles: 0, searches: 0 };
  return {
    calls,
    getPost: cache.cacheable(
      async (slug: string) => {
        calls.posts += 1;
        return samplePost(slug);
      },
      { key: 'posts:{{slug}}', context: (slug) => ({ slug }), ttl: 600 },
    ),
    getComments: cache.cacheable(
      async (slug: string) => {
        calls.comments += 1;
        return [{ author: 'ada', text: `About ${slug}` }];
      },
      { key: 'posts:{{slug}}:comments', context: (slug) => ({ slug }), ttl: 900 },
    ),
    listPosts: cache.cacheable(
      async (filters: { tag: string; page: number }) => {
        calls.lists += 1;
        return SLUGS.slice((filters.page - 1) * 5, filters.page * 5);
      },
      { key: 'posts:list:{{filters}}', context: (filters) => ({ filters }), ttl: 300 },
    ),
    getProfile: cache.cacheable(
      async (userId: number) => {
        calls.profiles += 1;
        return { id: userId, name: `user ${userId}`, joined: new Date('2024-03-01T00:00:00Z') };
      },
      { key: 'profile:{{user_id}}', context: (userId) => ({ user_id: userId }), ttl: 3600 },
    ),
    search: cache.cacheable(
      async (query: string) => {
        calls.searches += 1;
        return { query, hits: 3 };
      },
      { key: 'search:{{query}}', context: (query) => ({ query }), ttl: 7200 },
    ),
  };
}

/** Fills the sample keyspace through `cache`'s wrappers and manual API. */
export async function writeSampleKeyspace(
  cache: Cache,
): Promise<ReturnType<typeof sampleFunctions>> {
  const functions = sampleFunctions(cache);
  await Promise.all([
    ...SLUGS.map((slug) => functions.getPost(slug)),
    ...COMMENTED.map((slug) => functions.getComments(slug)),
    ...FILTERS.map((filters) => functions.listPosts(filters)),
    ...USER_IDS.map((id) => functions.getProfile(id)),
    ...QUERIES.map((query) => functions.search(query)),
    cache.set('stats:homepage', { visitors: 1234 }, { ttl: 86_400 * 7 }),
  ]);
  return functions;
}
