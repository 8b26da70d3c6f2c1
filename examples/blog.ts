/**
 * QuickPost blog demo: the cache layer of a small blog platform, on the default in-memory store,
 * or on Redis. Run it with `npm run demo` (in memory), `npm run demo -- --redis` (Redis on
 * 127.0.0.1:6379) or `REDIS_URL=redis://host:port npm run demo`, and read the `[Cache]` lines
 * next to each step.
 */
import { Redis } from 'ioredis';
import { type Cache, compilePattern, createCache } from '../src/index.js';
import { RedisStore } from '../src/redis.js';

// ---- A fake database: plain Maps, and a counter of the queries that reach it ----

interface Post {
  slug: string;
  title: string;
  tags: string[];
  authorId: number;
  createdAt: Date;
}
interface Comment {
  author: string;
  text: string;
}
interface User {
  id: number;
  name: string;
  bio: string;
}
/** What a web handler receives; here only who is calling. */
interface Req {
  userId: number;
}
interface PostFilters {
  tag?: string;
  page: number;
}

const posts = new Map<string, Post>([
  ['hello-redis', post('hello-redis', 'Hello, Redis', ['redis'])],
  ['node-streams', post('node-streams', 'Node streams in practice', ['node'])],
]);
const comments = new Map<string, Comment[]>([['hello-redis', [{ author: 'bob', text: 'Nice!' }]]]);
const likes = new Map<string, Set<number>>([['hello-redis', new Set([2])]]);
const users = new Map<number, User>([
  [1, { id: 1, name: 'alice', bio: 'Writes about caches.' }],
  [2, { id: 2, name: 'bob', bio: 'Reads everything.' }],
]);
let queries = 0;

function post(slug: string, title: string, tags: string[]): Post {
  return { slug, title, tags, authorId: 1, createdAt: new Date('2024-05-01T10:00:00Z') };
}

// ---- The cache: prefix 'quickpost', every HIT / MISS / SET / INVALIDATE logged ----

const redisUrl =
  process.env.REDIS_URL ||
  (process.argv.includes('--redis') ? 'redis://127.0.0.1:6379' : undefined);
// A connection of the cache's own, with the options the README recommends for RedisStore.
const redis = redisUrl === undefined ? undefined : new Redis(redisUrl, { maxRetriesPerRequest: 1 });
redis?.on('error', (error: Error) => console.warn(`[demo] Redis: ${error.message}`));
// A bare `Cache` is a cache on any store: its results are values or promises, so the demo awaits
// them all. On MemoryStore they are plain values (awaiting them is harmless); on Redis, promises.
const cache: Cache =
  redis === undefined
    ? createCache({ debug: true, prefix: 'quickpost' })
    : createCache({ debug: true, prefix: 'quickpost', store: new RedisStore({ client: redis }) });

if (redis !== undefined) {
  // Entries of an earlier run would answer the first reads: start from an empty prefix.
  const left = await cache.deletePattern('*');
  console.log(
    `On Redis at ${redisUrl}: removed ${left} keys under quickpost: left by an earlier run.`,
  );
} else {
  console.log('On the in-memory store (`npm run demo -- --redis` runs the same on Redis).');
}

// Cached reads. `context` picks the template's values out of the handler's arguments.
const getPost = cache.cacheable(
  async function getPost(_req: Req, slug: string): Promise<Post | null> {
    queries += 1;
    return posts.get(slug) ?? null;
  },
  { key: 'posts:{{slug}}', context: (_req, slug) => ({ slug }), ttl: 600 },
);

const listPosts = cache.cacheable(
  async function listPosts(_req: Req, filters: PostFilters): Promise<string[]> {
    queries += 1;
    const all = [...posts.values()].filter((p) => !filters.tag || p.tags.includes(filters.tag));
    return all.slice((filters.page - 1) * 10, filters.page * 10).map((p) => p.slug);
  },
  // An object becomes a hash of its content, so the order of its properties does not matter.
  { key: 'posts:list:{{filters}}', context: (_req, filters) => ({ filters }) },
);

const getComments = cache.cacheable(
  async function getComments(_req: Req, slug: string): Promise<Comment[]> {
    queries += 1;
    return comments.get(slug) ?? [];
  },
  { key: 'posts:{{slug}}:comments', context: (_req, slug) => ({ slug }) },
);

const getLikes = cache.cacheable(
  async function getLikes(_req: Req, slug: string): Promise<number> {
    queries += 1;
    return likes.get(slug)?.size ?? 0;
  },
  { key: 'posts:{{slug}}:likes', context: (_req, slug) => ({ slug }), ttl: 30 },
);

// A synchronous function: on the (synchronous) memory store its wrapper stays synchronous.
const getProfile = cache.cacheable(
  function getProfile(_req: Req, userId: number): User | null {
    queries += 1;
    return users.get(userId) ?? null;
  },
  { key: 'users:{{user_id}}:profile', context: (_req, userId) => ({ user_id: userId }) },
);

// Mutations: once they succeed, the matching keys are deleted.
const updatePost = cache.invalidating(
  async function updatePost(_req: Req, slug: string, title: string): Promise<Post> {
    const current = posts.get(slug);
    if (current === undefined) throw new Error(`no post ${slug}`);
    const updated = { ...current, title };
    posts.set(slug, updated);
    return updated;
  },
  // `posts:{{slug}}:*` also removes `posts:{{slug}}` itself (the post, not only its sub-keys).
  { patterns: ['posts:{{slug}}:*', 'posts:list:*'], context: (_req, slug) => ({ slug }) },
);

const addComment = cache.invalidating(
  async function addComment(req: Req, slug: string, text: string): Promise<void> {
    const author = users.get(req.userId)?.name ?? 'anonymous';
    comments.set(slug, [...(comments.get(slug) ?? []), { author, text }]);
  },
  { patterns: ['posts:{{slug}}:comments'], context: (_req, slug) => ({ slug }) },
);

const likePost = cache.invalidating(
  async function likePost(req: Req, slug: string): Promise<void> {
    likes.set(slug, (likes.get(slug) ?? new Set()).add(req.userId));
  },
  { patterns: ['posts:{{slug}}:likes'], context: (_req, slug) => ({ slug }) },
);

// The new post's slug is only known from the result: `contextFromResult` receives it.
const createPost = cache.invalidating(
  async function createPost(req: Req, title: string, tags: string[]): Promise<Post> {
    const slug = title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    const created = { ...post(slug, title, tags), authorId: req.userId };
    posts.set(slug, created);
    return created;
  },
  { patterns: ['posts:{{slug}}:*', 'posts:list:*'], contextFromResult: (p) => ({ slug: p.slug }) },
);

const deletePost = cache.invalidating(
  async function deletePost(_req: Req, slug: string): Promise<boolean> {
    return posts.delete(slug);
  },
  { patterns: ['posts:{{slug}}:*', 'posts:list:*'], context: (_req, slug) => ({ slug }) },
);

// ---- The scenario ----

const req: Req = { userId: 1 };

console.log('\n== 1. First read: MISS then SET ==');
console.log('title:', (await getPost(req, 'hello-redis'))?.title, '| db queries:', queries);

console.log('\n== 2. Same read again: HIT, the database is not queried ==');
console.log('title:', (await getPost(req, 'hello-redis'))?.title, '| db queries:', queries);

console.log(
  '\n== 3. A sync function stays sync on a sync store (in memory); on Redis, a promise ==',
);
const profile = getProfile(req, 2);
console.log('is a promise?', profile instanceof Promise, '| name:', (await profile)?.name);
console.log('again:', (await getProfile(req, 2))?.name, '| db queries:', queries);

console.log('\n== 4. Update a post: INVALIDATE, then MISS returns the new title ==');
await getComments(req, 'hello-redis');
// `posts:hello-redis:*` removes 2 keys: the comments and the post itself (the key without `:*`).
await updatePost(req, 'hello-redis', 'Hello, Redis (2nd edition)');
console.log('title:', (await getPost(req, 'hello-redis'))?.title);

console.log('\n== 5. Comments and likes: each mutation clears only its own key ==');
console.log('comments:', (await getComments(req, 'hello-redis')).length);
console.log('likes:', await getLikes(req, 'hello-redis'));
await addComment(req, 'hello-redis', 'Thanks for the update');
await likePost(req, 'hello-redis');
console.log('comments:', (await getComments(req, 'hello-redis')).length);
console.log('likes:', await getLikes(req, 'hello-redis'));
console.log('the post itself is still cached:');
await getPost(req, 'hello-redis');

console.log('\n== 6. List filters: same filters in another order hit the same entry ==');
console.log('tag redis:', await listPosts(req, { tag: 'redis', page: 1 }));
console.log('same, reordered:', await listPosts(req, { page: 1, tag: 'redis' }));
console.log('tag node:', await listPosts(req, { tag: 'node', page: 1 }));

console.log('\n== 7. Create a post: its slug comes from the result (contextFromResult) ==');
// Someone asks for the post before it exists: getPost returns `null`, and `null` is cached like
// any other result, under the post's key, for getPost's ttl (600 s). Caching it spares the
// database repeated lookups of a missing slug. It is safe because createPost invalidates
// `posts:{{slug}}:*`, which also covers `posts:{{slug}}` itself: without that, the new post
// would stay invisible for up to 600 s. Not wanted? `shouldCache: (post) => post !== null`.
console.log('before:', await getPost(req, 'cache-stampedes'));
console.log('(null is now cached for 600 s, until createPost invalidates posts:cache-stampedes:*)');
const created = await createPost(req, 'Cache stampedes', ['redis']);
console.log('after:', (await getPost(req, created.slug))?.title);
console.log('tag redis:', await listPosts(req, { tag: 'redis', page: 1 }));

console.log('\n== 8. The manual API: get, set, getOrSet, deletePattern ==');
await cache.set('stats:homepage', { visitors: 1234, updatedAt: new Date() }, { ttl: 60 });
const stats = await cache.get<{ visitors: number; updatedAt: Date }>('stats:homepage');
console.log('visitors:', stats?.visitors, '| Date kept?', stats?.updatedAt instanceof Date);
const countPosts = (): number => {
  queries += 1;
  return posts.size;
};
console.log('post count:', await cache.getOrSet('stats:post-count', countPosts));
console.log('post count:', await cache.getOrSet('stats:post-count', countPosts), '(computed once)');
// Manual keys are templates too: a context fills them with the wrappers' encoding.
const cachedPost = (await cache.get('posts:{{slug}}', { slug: 'hello-redis' })) as Post | undefined;
console.log('read what getPost cached:', cachedPost?.title);
console.log('deleted stats keys:', await cache.deletePattern('stats:*'));
console.log('after deletePattern:', await cache.get('stats:homepage'));

console.log('\n== 9. A hostile slug "*" does not wipe other posts ==');
await getPost(req, 'node-streams');
// Rendered values are always literal: `*` becomes `%2A`, never a wildcard.
console.log('pattern:', compilePattern('posts:{{slug}}:*')({ slug: '*' }));
// `DELETE /posts/*` removes 0 post keys (the lists go, as after any delete).
console.log('deleted?', await deletePost(req, '*'));
console.log('other posts are still cached:');
await getPost(req, 'hello-redis');
await getPost(req, 'node-streams');

console.log(`\nDone: ${queries} database queries in total.`);
await cache.close();
await redis?.quit();
