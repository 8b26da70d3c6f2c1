/**
 * How many cached list pages of the QuickPost example app survive a write, with list
 * invalidation by tags (the app: each page carries the tags of the posts it shows and of its
 * list) against by pattern (the app before: every create and edit cleared `posts:list:*`).
 *
 * Two apps, each on a fresh embedded database and its own cache, get the same 100 posts (each
 * with 2 of 5 tags: 10 pages of all posts, 4 pages per tag, 30 list pages in all). For each
 * write below, every page is cached, the write is made, then every page is read again: a hit is
 * a page that survived. The "patterns" app follows each write with `posts:list:*`, what the
 * app's create and edit invalidated before. Every page read after a write, hit or miss, must
 * equal the database's page: surviving is only worth counting if it is never stale.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PAGE_SIZE,
  PostgresRepository,
  type RunningApp,
  start,
} from '../../examples/quickpost/index.js';
import type { Cache } from '../../src/index.js';
import { type Answer, type Client, clientOf } from './quickpost-api.js';

const POSTS = 100;
const TAGS = 5;

/** One app of the comparison. */
interface Side {
  app: RunningApp;
  call: Client;
  /** What runs after each write: nothing (tags), or the old list pattern. */
  after(): unknown;
}

/** A write of the comparison, on the posts `slugs` tagged from `tags`. */
interface Write {
  name: string;
  run(call: Client, slugs: string[], tags: string[]): Promise<Answer>;
  /** The pages that show what the write changed: they must not survive. */
  gone(slugs: string[], tags: string[]): string[];
}

/** The tags of post `i`: 2 of the 5. */
const tagsOf = (i: number, tags: string[]): string[] => [
  tags[i % TAGS] as string,
  tags[(i + 1) % TAGS] as string,
];

/** The page of `GET /posts` (or of `?tag=`) that shows post `i` (posts list newest first). */
function pageOf(i: number, tag?: { name: string; index: number }): string {
  if (tag === undefined) return `/posts?page=${Math.floor((POSTS - 1 - i) / PAGE_SIZE) + 1}`;
  // Newer posts with this tag come before post `i`.
  let before = 0;
  for (let j = i + 1; j < POSTS; j += 1) {
    if (j % TAGS === tag.index || (j + 1) % TAGS === tag.index) before += 1;
  }
  return `/posts?tag=${tag.name}&page=${Math.floor(before / PAGE_SIZE) + 1}`;
}

/** Every page of one list, whole tag lists included. */
function pagesOf(tag: string | undefined, count: number): string[] {
  return Array.from({ length: Math.ceil(count / PAGE_SIZE) }, (_, page) =>
    tag === undefined ? `/posts?page=${page + 1}` : `/posts?tag=${tag}&page=${page + 1}`,
  );
}

const EDITED = 54;

const WRITES: Write[] = [
  {
    name: 'edit the title of one post',
    run: (call, slugs) => call('PUT', `/posts/${slugs[EDITED]}`, { json: { title: 'Edited' } }),
    gone: (_slugs, tags) => [
      pageOf(EDITED),
      ...tagsOf(EDITED, tags).map((name) => pageOf(EDITED, { name, index: tags.indexOf(name) })),
    ],
  },
  {
    name: 'move one post from one tag to another',
    run: (call, slugs, tags) => {
      const [kept] = tagsOf(EDITED, tags);
      const moved = tags.find((tag) => !tagsOf(EDITED, tags).includes(tag)) as string;
      return call('PUT', `/posts/${slugs[EDITED]}`, { json: { tags: [kept, moved] } });
    },
    gone: (_slugs, tags) => {
      const [kept, left] = tagsOf(EDITED, tags) as [string, string];
      const entered = tags.find((tag) => !tagsOf(EDITED, tags).includes(tag)) as string;
      return [
        pageOf(EDITED),
        pageOf(EDITED, { name: kept, index: tags.indexOf(kept) }),
        ...pagesOf(left, (POSTS * 2) / TAGS),
        ...pagesOf(entered, (POSTS * 2) / TAGS),
      ];
    },
  },
  {
    name: 'create a post with one tag',
    run: (call, _slugs, tags) =>
      call('POST', '/posts', {
        json: { slug: `new-${randomUUID()}`, title: 'New', tags: [tags[0]] },
      }),
    gone: (_slugs, tags) => [...pagesOf(undefined, POSTS), ...pagesOf(tags[0], (POSTS * 2) / TAGS)],
  },
];

/** The figures of one write: list pages cached before it, and how many survived on each side. */
export interface Survival {
  write: string;
  cached: number;
  patterns: number;
  tags: number;
}

/**
 * The comparison on caches from `makeCache` (closed by `dispose`); `report` gets the figures.
 */
export function describeListSurvival(
  name: string,
  makeCache: (prefix: string) => Cache,
  dispose: (cache: Cache) => Promise<void> = (cache) => cache.close(),
  report: (figures: Survival[]) => void = (figures) => console.table(figures),
): void {
  describe(`list pages that survive a write, tags against patterns, ${name}`, () => {
    const sides: Record<'patterns' | 'tags', Side> = {} as Record<'patterns' | 'tags', Side>;
    const slugs: string[] = [];
    const tags = Array.from({ length: TAGS }, (_, i) => `t${i}-${randomUUID().slice(0, 6)}`);
    const lists = [
      ...pagesOf(undefined, POSTS),
      ...tags.flatMap((tag) => pagesOf(tag, (POSTS * 2) / TAGS)),
    ];
    for (let i = 0; i < POSTS; i += 1) slugs.push(`p${i}-${randomUUID().slice(0, 6)}`);

    beforeAll(async () => {
      for (const side of ['patterns', 'tags'] as const) {
        const cache = makeCache(`qp-${randomUUID().slice(0, 8)}`);
        const app = await start({ cache, port: 0, env: {} });
        const call = clientOf(app.url);
        const after = side === 'tags' ? () => 0 : () => cache.deletePattern('posts:list:*');
        sides[side] = { app, call, after };
        for (const [i, slug] of slugs.entries()) {
          await call('POST', '/posts', {
            json: { slug, title: `Post ${i}`, tags: tagsOf(i, tags) },
          });
        }
      }
    }, 120_000);

    afterAll(async () => {
      for (const side of Object.values(sides)) {
        await side.app.close();
        await dispose(side.app.cache);
      }
    });

    it('tags keep strictly more pages than patterns, never a stale one, and drop every page that shows the change', async () => {
      const figures: Survival[] = [];
      for (const write of WRITES) {
        const survived = { patterns: 0, tags: 0 };
        for (const side of ['patterns', 'tags'] as const) {
          const { app, call, after } = sides[side];
          for (const path of lists) await call('GET', path);
          for (const path of lists) expect((await call('GET', path)).cache, path).toBe('hit');
          expect((await write.run(call, slugs, tags)).status, write.name).toBeLessThan(300);
          await after();
          const database = new PostgresRepository(app.database);
          const gone = new Set(write.gone(slugs, tags));
          for (const path of lists) {
            const answer = await call('GET', path);
            if (answer.cache === 'hit') survived[side] += 1;
            if (side === 'tags' && gone.has(path)) expect(answer.cache, path).toBe('miss');
            const url = new URL(path, app.url);
            const tag = url.searchParams.get('tag') ?? undefined;
            const page = Number(url.searchParams.get('page'));
            const fresh = await database.listPosts({
              tag,
              offset: (page - 1) * PAGE_SIZE,
              limit: PAGE_SIZE,
            });
            expect(answer.body, path).toEqual(JSON.parse(JSON.stringify({ posts: fresh })));
          }
        }
        expect(survived.tags, write.name).toBeGreaterThan(survived.patterns);
        // Exactly the pages that show the change go: every other page survives.
        expect(survived.tags, write.name).toBe(
          lists.length - new Set(write.gone(slugs, tags)).size,
        );
        figures.push({ write: write.name, cached: lists.length, ...survived });
      }
      report(figures);
    }, 120_000);
  });
}
