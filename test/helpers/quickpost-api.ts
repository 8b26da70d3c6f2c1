/**
 * The QuickPost example app's HTTP contract, driven over real HTTP on loopback: the same tests on
 * every store (test/unit/quickpost-app.test.ts on MemoryStore, test/redis/quickpost-app.test.ts
 * on Redis and Redis Cluster).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QuickPostEnv, type RunningApp, start } from '../../examples/quickpost/index.js';
import type { Cache } from '../../src/index.js';

/** One answer of the API. */
export interface Answer {
  status: number;
  /** The `x-cache` header. */
  cache: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers are read field by field in tests
  body: any;
}

/** Options of one request. */
export interface CallOptions {
  /** The `x-user-id` header. */
  user?: string;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is, with `contentType` (default application/json). */
  raw?: string;
  contentType?: string;
}

/** A client of a running app. */
export type Client = (method: string, path: string, options?: CallOptions) => Promise<Answer>;

/** A client of the app at `base`. */
export function clientOf(base: string): Client {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = {};
    if (options.user !== undefined) headers['x-user-id'] = options.user;
    const init: RequestInit = { method, headers };
    if (options.json !== undefined || options.raw !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      init.body = options.raw ?? JSON.stringify(options.json);
    }
    const response = await fetch(`${base}${path}`, init);
    const text = await response.text();
    return {
      status: response.status,
      cache: response.headers.get('x-cache'),
      body: text === '' ? undefined : JSON.parse(text),
    };
  };
}

/** Makes the cache of one app (each gets a fresh prefix, so apps never share entries). */
export type CacheFactory = (prefix: string) => Cache | Promise<Cache>;

/**
 * The contract's tests on caches from `makeCache`; `dispose` closes what a cache holds (its
 * Redis connection) after the app is stopped. The app reads its database from `env` (asked
 * when it starts): embedded PGlite by default, a server with `DATABASE_URL`.
 */
export function describeQuickPostApi(
  name: string,
  makeCache: CacheFactory,
  dispose: (cache: Cache) => Promise<void> = async (cache) => cache.close(),
  env: () => QuickPostEnv = () => ({}),
): void {
  describe(`the QuickPost example app over HTTP, ${name}`, () => {
    let app: RunningApp;
    let call: Client;

    beforeAll(async () => {
      const cache = await makeCache(`qp-${randomUUID().slice(0, 8)}`);
      app = await start({ cache, port: 0, host: '127.0.0.1', env: env() });
      call = clientOf(app.url);
      // Embedded PGlite starts in seconds on a busy machine.
    }, 60_000);

    afterAll(async () => {
      await app?.close();
      if (app !== undefined) await dispose(app.cache);
    });

    /** A slug no other test uses. */
    const fresh = (base: string): string => `${base}-${randomUUID().slice(0, 8)}`;

    it('listens on loopback', () => {
      expect(app.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    });

    it('creates a post (201), then reads it: a miss, then a hit', async () => {
      const slug = fresh('hello');
      const created = await call('POST', '/posts', {
        user: 'alice',
        json: { slug, title: 'Hello', body: 'First post', tags: ['redis'] },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        slug,
        title: 'Hello',
        body: 'First post',
        tags: ['redis'],
        author: 'alice',
        commentCount: 0,
        likeCount: 0,
      });
      const first = await call('GET', `/posts/${slug}`);
      const second = await call('GET', `/posts/${slug}`);
      expect([first.status, first.cache]).toEqual([200, 'miss']);
      expect([second.status, second.cache]).toEqual([200, 'hit']);
      expect(second.body).toEqual(first.body);
      expect(second.body).toMatchObject({ slug, commentCount: 0, likeCount: 0 });
    });

    it('answers 409 to a taken slug, and keeps the first post', async () => {
      const slug = fresh('taken');
      await call('POST', '/posts', { json: { slug, title: 'First' } });
      const again = await call('POST', '/posts', { json: { slug, title: 'Second' } });
      expect(again.status).toBe(409);
      expect(again.body.error).toContain(slug);
      expect((await call('GET', `/posts/${slug}`)).body.title).toBe('First');
    });

    it('counts a new comment in the post (a miss, then a hit) and lists comments both ways', async () => {
      const slug = fresh('commented');
      await call('POST', '/posts', { json: { slug, title: 'Talk' } });
      await call('GET', `/posts/${slug}`);
      expect((await call('GET', `/posts/${slug}`)).cache).toBe('hit');
      expect((await call('GET', `/posts/${slug}/comments`)).body).toEqual({ comments: [] });

      const first = await call('POST', `/posts/${slug}/comments`, {
        user: 'bob',
        json: { text: 'First!' },
      });
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ author: 'bob', text: 'First!' });
      const afterComment = await call('GET', `/posts/${slug}`);
      expect([afterComment.cache, afterComment.body.commentCount]).toEqual(['miss', 1]);
      const again = await call('GET', `/posts/${slug}`);
      expect([again.cache, again.body.commentCount]).toEqual(['hit', 1]);

      await call('POST', `/posts/${slug}/comments`, { json: { text: 'Second' } });
      const asc = await call('GET', `/posts/${slug}/comments?sort=asc`);
      const desc = await call('GET', `/posts/${slug}/comments?sort=desc`);
      expect(asc.cache).toBe('miss');
      expect(asc.body.comments.map((c: { text: string }) => c.text)).toEqual(['First!', 'Second']);
      expect(desc.body.comments.map((c: { text: string }) => c.text)).toEqual(['Second', 'First!']);
      expect(asc.body.comments[1].author).toBeNull();
      expect((await call('GET', `/posts/${slug}/comments`)).cache).toBe('hit');
      expect((await call('GET', `/posts/${slug}`)).body.commentCount).toBe(2);
    });

    it('toggles a user’s like, counted in the post and in its likes', async () => {
      const slug = fresh('liked');
      await call('POST', '/posts', { json: { slug, title: 'Like me' } });
      await call('GET', `/posts/${slug}`);
      await call('GET', `/posts/${slug}/likes`);

      const liked = await call('POST', `/posts/${slug}/like`, { user: 'u1' });
      expect([liked.status, liked.body]).toEqual([200, { liked: true, likeCount: 1 }]);
      await call('POST', `/posts/${slug}/like`, { user: 'u2' });
      const post = await call('GET', `/posts/${slug}`);
      expect([post.cache, post.body.likeCount]).toEqual(['miss', 2]);
      const likes = await call('GET', `/posts/${slug}/likes`);
      expect([likes.cache, likes.body]).toEqual(['miss', { likeCount: 2, users: ['u1', 'u2'] }]);
      expect((await call('GET', `/posts/${slug}/likes`)).cache).toBe('hit');

      const unliked = await call('POST', `/posts/${slug}/like`, { user: 'u1' });
      expect(unliked.body).toEqual({ liked: false, likeCount: 1 });
      expect((await call('GET', `/posts/${slug}`)).body.likeCount).toBe(1);
      expect((await call('GET', `/posts/${slug}/likes`)).body.users).toEqual(['u2']);

      const anonymous = await call('POST', `/posts/${slug}/like`);
      expect(anonymous.status).toBe(401);
    });

    it('keeps each user’s profile to that user, cached per user', async () => {
      const alice = fresh('alice');
      const bob = fresh('bob');
      const saved = await call('PUT', '/profile', {
        user: alice,
        json: { fullName: 'Alice A.', bio: 'Writes.' },
      });
      expect(saved.body).toEqual({ userId: alice, fullName: 'Alice A.', bio: 'Writes.' });

      const first = await call('GET', '/profile', { user: alice });
      expect([first.cache, first.body.fullName]).toEqual(['miss', 'Alice A.']);
      expect((await call('GET', '/profile', { user: alice })).cache).toBe('hit');
      const other = await call('GET', '/profile', { user: bob });
      expect([other.cache, other.body]).toEqual([
        'miss',
        { userId: bob, fullName: null, bio: null },
      ]);

      await call('PUT', '/profile', { user: bob, json: { fullName: 'Bob B.' } });
      const aliceAgain = await call('GET', '/profile', { user: alice });
      expect([aliceAgain.cache, aliceAgain.body.fullName]).toEqual(['hit', 'Alice A.']);
      const bobAgain = await call('GET', '/profile', { user: bob });
      expect([bobAgain.cache, bobAgain.body]).toEqual([
        'miss',
        { userId: bob, fullName: 'Bob B.', bio: null },
      ]);

      await call('PUT', '/profile', { user: alice, json: { bio: 'Writes more.' } });
      expect((await call('GET', '/profile', { user: alice })).body).toEqual({
        userId: alice,
        fullName: 'Alice A.',
        bio: 'Writes more.',
      });
      expect((await call('GET', '/profile')).status).toBe(401);
      expect((await call('PUT', '/profile', { json: { bio: 'x' } })).status).toBe(401);
    });

    it('lists posts by tag and page, each filter set its own cached entry', async () => {
      const tag = fresh('tag');
      const slugs: string[] = [];
      for (let i = 0; i < 12; i += 1) {
        const slug = fresh(`listed-${i}`);
        slugs.push(slug);
        await call('POST', '/posts', { json: { slug, title: `Post ${i}`, tags: [tag] } });
      }
      // Each POST invalidated the list's tag; a list computed within the tag check's margin (a
      // few ms) of that is not stored (README "Tags"): read it later, so that it is.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const page1 = await call('GET', `/posts?tag=${tag}&page=1`);
      expect(page1.cache).toBe('miss');
      expect(page1.body.posts.map((p: { slug: string }) => p.slug)).toEqual(
        slugs.slice(2).reverse(),
      );
      // The same filters in another order, or the default page, are the same entry.
      expect((await call('GET', `/posts?page=1&tag=${tag}`)).cache).toBe('hit');
      expect((await call('GET', `/posts?tag=${tag}`)).cache).toBe('hit');
      const page2 = await call('GET', `/posts?tag=${tag}&page=2`);
      expect(page2.cache).toBe('miss');
      expect(page2.body.posts.map((p: { slug: string }) => p.slug)).toEqual(
        slugs.slice(0, 2).reverse(),
      );
      expect((await call('GET', `/posts?tag=${tag}&page=3`)).body).toEqual({ posts: [] });

      // A comment or a like changes no list (lists carry no counts)…
      await call('POST', `/posts/${slugs[11]}/comments`, { json: { text: 'hi' } });
      await call('POST', `/posts/${slugs[11]}/like`, { user: 'u1' });
      expect((await call('GET', `/posts?tag=${tag}`)).cache).toBe('hit');
      // …an edit of a post's tags does, and the post leaves the list.
      const edited = await call('PUT', `/posts/${slugs[11]}`, { json: { tags: ['other'] } });
      expect(edited.body).toMatchObject({ tags: ['other'], commentCount: 1, likeCount: 1 });
      const after = await call('GET', `/posts?tag=${tag}`);
      expect(after.cache).toBe('miss');
      expect(after.body.posts[0].slug).toBe(slugs[10]);
    });

    it('edits a post: the post and lists change, its comments stay cached', async () => {
      const slug = fresh('edited');
      await call('POST', '/posts', { json: { slug, title: 'Before' } });
      await call('POST', `/posts/${slug}/comments`, { json: { text: 'Nice' } });
      await call('GET', `/posts/${slug}`);
      await call('GET', `/posts/${slug}/comments`);
      const edited = await call('PUT', `/posts/${slug}`, {
        json: { title: 'After', body: 'New body' },
      });
      expect([edited.status, edited.body.title, edited.body.commentCount]).toEqual([
        200,
        'After',
        1,
      ]);
      const read = await call('GET', `/posts/${slug}`);
      expect([read.cache, read.body.title, read.body.body]).toEqual(['miss', 'After', 'New body']);
      expect((await call('GET', `/posts/${slug}/comments`)).cache).toBe('hit');
    });

    it('answers 404 for unknown posts, caches that, and forgets it once the post exists', async () => {
      const slug = fresh('later');
      const first = await call('GET', `/posts/${slug}`);
      const second = await call('GET', `/posts/${slug}`);
      expect([first.status, first.cache, second.status, second.cache]).toEqual([
        404,
        'miss',
        404,
        'hit',
      ]);
      expect(first.body.error).toContain(slug);
      expect((await call('GET', `/posts/${slug}/comments`)).status).toBe(404);
      expect((await call('GET', `/posts/${slug}/likes`)).status).toBe(404);
      expect((await call('POST', `/posts/${slug}/comments`, { json: { text: 'hi' } })).status).toBe(
        404,
      );
      expect((await call('PUT', `/posts/${slug}`, { json: { title: 'x' } })).status).toBe(404);
      expect((await call('POST', `/posts/${slug}/like`, { user: 'u1' })).status).toBe(404);

      await call('POST', '/posts', { json: { slug, title: 'Now here' } });
      const found = await call('GET', `/posts/${slug}`);
      expect([found.status, found.cache, found.body.title]).toEqual([200, 'miss', 'Now here']);
      expect((await call('GET', `/posts/${slug}/comments`)).body).toEqual({ comments: [] });
      expect((await call('GET', `/posts/${slug}/likes`)).body).toEqual({
        likeCount: 0,
        users: [],
      });
    });

    it('answers 400 with a JSON error to bad bodies, queries and headers', async () => {
      const slug = fresh('valid');
      await call('POST', '/posts', { json: { slug, title: 'Valid' } });
      const cases: [string, string, CallOptions][] = [
        ['POST', '/posts', { json: { title: 'no slug' } }],
        ['POST', '/posts', { json: { slug: 'a b', title: 'space in slug' } }],
        ['POST', '/posts', { json: { slug: fresh('x'), title: '' } }],
        ['POST', '/posts', { json: { slug: fresh('x'), title: 'x', tags: 'redis' } }],
        ['POST', '/posts', { json: ['not', 'an', 'object'] }],
        ['POST', '/posts', { raw: '{"slug": ' }],
        ['POST', '/posts', { raw: 'slug=x', contentType: 'application/x-www-form-urlencoded' }],
        ['POST', '/posts', {}],
        ['PUT', `/posts/${slug}`, { json: { title: 42 } }],
        ['POST', `/posts/${slug}/comments`, { json: { text: '   ' } }],
        ['PUT', '/profile', { user: 'u1', json: { fullName: 7 } }],
        ['GET', '/posts?page=0', {}],
        ['GET', '/posts?page=abc', {}],
        ['GET', `/posts/${slug}/comments?sort=sideways`, {}],
        ['GET', '/profile', { user: 'u'.repeat(101) }],
      ];
      for (const [method, path, options] of cases) {
        const answer = await call(method, path, options);
        expect(answer.status, `${method} ${path} ${JSON.stringify(options)}`).toBe(400);
        expect(typeof answer.body.error).toBe('string');
        expect(answer.cache).toBe('miss');
      }
      const issues = (await call('POST', '/posts', { json: { title: 'no slug' } })).body.issues;
      expect(issues).toEqual([expect.objectContaining({ path: 'slug' })]);
      expect((await call('GET', `/posts/${slug}`)).body.title).toBe('Valid');
    });

    it('answers 404 for unknown routes, and `miss` to requests without cached reads', async () => {
      const unknown = await call('GET', '/nowhere');
      expect([unknown.status, unknown.cache]).toEqual([404, 'miss']);
      const created = await call('POST', '/posts', { json: { slug: fresh('w'), title: 'W' } });
      expect([created.status, created.cache]).toEqual([201, 'miss']);
    });

    it('finds no post whose slug holds U+0000, and refuses to store text that holds it (Postgres text cannot)', async () => {
      const slug = fresh('nul');
      await call('POST', '/posts', { json: { slug, title: 'Plain' } });
      const nul = encodeURIComponent(`${slug}\u0000`);
      const first = await call('GET', `/posts/${nul}`);
      const second = await call('GET', `/posts/${nul}`);
      expect([first.status, first.cache, second.status, second.cache]).toEqual([
        404,
        'miss',
        404,
        'hit',
      ]);
      expect((await call('GET', `/posts?tag=${encodeURIComponent('a\u0000')}`)).body).toEqual({
        posts: [],
      });
      for (const [method, path, options] of [
        ['GET', `/posts/${nul}/comments`, {}],
        ['GET', `/posts/${nul}/likes`, {}],
        ['PUT', `/posts/${nul}`, { json: { title: 'x' } }],
        ['POST', `/posts/${nul}/comments`, { json: { text: 'x' } }],
        ['POST', `/posts/${nul}/like`, { user: 'u1' }],
      ] as [string, string, CallOptions][]) {
        expect((await call(method, path, options)).status, `${method} ${path}`).toBe(404);
      }
      for (const [method, path, options] of [
        ['POST', '/posts', { json: { slug: `${fresh('n')}\u0000`, title: 'x' } }],
        ['POST', '/posts', { json: { slug: fresh('n'), title: 'a\u0000b' } }],
        ['PUT', `/posts/${slug}`, { json: { body: '\u0000' } }],
        ['PUT', `/posts/${slug}`, { json: { tags: ['a\u0000'] } }],
        ['POST', `/posts/${slug}/comments`, { json: { text: 'a\u0000' } }],
        ['PUT', '/profile', { user: fresh('u'), json: { bio: '\u0000' } }],
      ] as [string, string, CallOptions][]) {
        const answer = await call(method, path, options);
        expect([answer.status, answer.body.issues[0].message], `${method} ${path}`).toEqual([
          400,
          'must not contain U+0000',
        ]);
      }
      expect((await call('GET', `/posts/${slug}`)).body).toMatchObject({
        title: 'Plain',
        body: '',
      });
    });

    it('keeps hostile slugs literal: a comment on `a*` leaves `ab` cached', async () => {
      const stem = fresh('s');
      const star = `${stem}*`;
      const plain = `${stem}b`;
      for (const slug of [star, plain])
        await call('POST', '/posts', { json: { slug, title: slug } });
      await call('GET', `/posts/${encodeURIComponent(star)}`);
      await call('GET', `/posts/${plain}`);
      await call('POST', `/posts/${encodeURIComponent(star)}/comments`, { json: { text: 'x' } });
      expect((await call('GET', `/posts/${plain}`)).cache).toBe('hit');
      const starred = await call('GET', `/posts/${encodeURIComponent(star)}`);
      expect([starred.cache, starred.body.slug, starred.body.commentCount]).toEqual([
        'miss',
        star,
        1,
      ]);
    });
  });
}
