/**
 * The QuickPost example app's writes and their transactions, over HTTP: each write runs in one
 * transaction inside `deferInvalidations`, so a write that fails after its statement reached the
 * database rolls back and invalidates nothing, and a write that succeeds invalidates after its
 * COMMIT. Run on embedded PGlite (test/unit/quickpost-app.test.ts) and on a Postgres server
 * (test/redis/quickpost-postgres.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type Database,
  PostgresRepository,
  type Query,
  type Repository,
  type RunningApp,
  start,
} from '../../examples/quickpost/index.js';
import type { Cache } from '../../src/index.js';
import { type CallOptions, type Client, clientOf } from './quickpost-api.js';

/**
 * `database` with a fault switch and a log: `failAfter(pattern)` makes the next statement of a
 * transaction that matches `pattern` run, then throw (as a lost connection or a later failing
 * statement would); `log` gets `'commit'` when a transaction has committed.
 */
function faultyDatabase(database: Database) {
  let failing: RegExp | undefined;
  const log: string[] = [];
  const faulty: Database = {
    kind: database.kind,
    query: database.query,
    close: () => database.close(),
    async transaction(work) {
      const result = await database.transaction((query) => {
        const checked: Query = async <Row>(sql: string, params?: readonly unknown[]) => {
          const rows = await query<Row>(sql, params);
          if (failing?.test(sql)) {
            failing = undefined;
            throw new Error(`injected failure after: ${sql.split('\n')[0]}`);
          }
          return rows;
        };
        return work(checked);
      });
      log.push('commit');
      return result;
    },
  };
  return {
    database: faulty,
    log,
    failAfter(pattern: RegExp): void {
      failing = pattern;
    },
  };
}

/** One kind of write, with the reads it changes and the data it writes. */
interface WriteCase {
  name: string;
  /** The write's own statement, after which the fault throws. */
  statement: RegExp;
  /** What the write needs before it (a post to comment on, say). */
  setup?: (call: Client, slug: string, tag: string) => Promise<unknown>;
  /** The write: method, path, options. */
  write: (slug: string, tag: string, user: string) => [string, string, CallOptions];
  /** The cached reads the write changes: path and options. */
  reads: (slug: string, tag: string, user: string) => [string, CallOptions][];
  /** What the database holds of the write's data (read without the cache). */
  stored: (repository: Repository, slug: string, user: string) => Promise<unknown>;
}

const createPostFirst = (call: Client, slug: string, tag: string) =>
  call('POST', '/posts', { json: { slug, title: 'Before', tags: [tag] } });

const CASES: WriteCase[] = [
  {
    name: 'POST /posts',
    statement: /^INSERT INTO posts/,
    write: (slug, tag) => ['POST', '/posts', { json: { slug, title: 'New', tags: [tag] } }],
    reads: (slug, tag) => [
      [`/posts/${slug}`, {}],
      [`/posts?tag=${tag}`, {}],
    ],
    stored: (repository, slug) => repository.findPost(slug),
  },
  {
    name: 'PUT /posts/:slug',
    statement: /^UPDATE posts/,
    setup: createPostFirst,
    write: (slug) => ['PUT', `/posts/${slug}`, { json: { title: 'After' } }],
    reads: (slug, tag) => [
      [`/posts/${slug}`, {}],
      [`/posts?tag=${tag}`, {}],
    ],
    stored: (repository, slug) => repository.findPost(slug),
  },
  {
    name: 'POST /posts/:slug/comments',
    statement: /^INSERT INTO comments/,
    setup: createPostFirst,
    write: (slug) => ['POST', `/posts/${slug}/comments`, { json: { text: 'Hi' } }],
    reads: (slug) => [
      [`/posts/${slug}`, {}],
      [`/posts/${slug}/comments`, {}],
    ],
    stored: (repository, slug) => repository.listComments(slug, 'asc'),
  },
  {
    name: 'POST /posts/:slug/like',
    statement: /^INSERT INTO likes/,
    setup: createPostFirst,
    write: (slug, _tag, user) => ['POST', `/posts/${slug}/like`, { user }],
    reads: (slug) => [
      [`/posts/${slug}`, {}],
      [`/posts/${slug}/likes`, {}],
    ],
    stored: (repository, slug) => repository.listLikers(slug),
  },
  {
    name: 'PUT /profile',
    statement: /^INSERT INTO profiles/,
    write: (_slug, _tag, user) => ['PUT', '/profile', { user, json: { bio: 'Changed' } }],
    reads: (_slug, _tag, user) => [['/profile', { user }]],
    stored: (repository, _slug, user) => repository.findProfile(user),
  },
];

/**
 * The transaction tests on the database `open` gives (closed by `close` after the tests) and
 * caches from `makeCache` (closed by `dispose`).
 */
export function describeQuickPostTransactions(
  name: string,
  open: () => Promise<Database>,
  makeCache: (prefix: string) => Cache,
  dispose: (cache: Cache) => Promise<void> = (cache) => cache.close(),
): void {
  describe(`the QuickPost example app's writes in transactions, ${name}`, () => {
    let fault: ReturnType<typeof faultyDatabase>;
    let repository: Repository;
    let app: RunningApp;
    let call: Client;
    let invalidations = 0;

    beforeAll(async () => {
      const database = await open();
      fault = faultyDatabase(database);
      repository = new PostgresRepository(database);
      const cache = makeCache(`qp-${randomUUID().slice(0, 8)}`);
      cache.on('invalidate', () => {
        invalidations += 1;
        fault.log.push('invalidate');
      });
      app = await start({ cache, database: fault.database, port: 0, env: {} });
      call = clientOf(app.url);
    }, 60_000);

    afterAll(async () => {
      await app?.close();
      if (app !== undefined) await dispose(app.cache);
      await fault?.database.close();
    });

    it.each(CASES)(
      '$name: a failure after its statement rolls back and invalidates nothing; once it commits, its keys go after the COMMIT',
      async (write) => {
        const id = randomUUID().slice(0, 8);
        const [slug, tag, user] = [`tx-${id}`, `tag-${id}`, `user-${id}`];
        await write.setup?.(call, slug, tag);
        const reads = write.reads(slug, tag, user);
        const before = [];
        for (const [path, options] of reads) {
          await call('GET', path, options);
          const cached = await call('GET', path, options);
          expect(cached.cache, path).toBe('hit');
          before.push(cached.body);
        }
        const stored = await write.stored(repository, slug, user);
        const [method, path, options] = write.write(slug, tag, user);

        const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
        invalidations = 0;
        fault.failAfter(write.statement);
        let failed: Awaited<ReturnType<Client>>;
        try {
          failed = await call(method, path, options);
          expect(errors).toHaveBeenCalledWith(
            '[quickpost]',
            expect.objectContaining({ message: expect.stringMatching(/^injected failure/) }),
          );
        } finally {
          errors.mockRestore();
        }
        expect([failed.status, failed.body]).toEqual([500, { error: 'internal error' }]);
        expect(invalidations).toBe(0);
        expect(await write.stored(repository, slug, user)).toEqual(stored);
        for (const [index, [readPath, readOptions]] of reads.entries()) {
          const read = await call('GET', readPath, readOptions);
          expect([read.cache, read.body], readPath).toEqual(['hit', before[index]]);
        }

        fault.log.length = 0;
        const succeeded = await call(method, path, options);
        expect(succeeded.status).toBeLessThan(300);
        expect(await write.stored(repository, slug, user)).not.toEqual(stored);
        expect(fault.log[0]).toBe('commit');
        expect(fault.log.slice(1)).toContain('invalidate');
        expect(fault.log.slice(1)).not.toContain('commit');
        for (const [readPath, readOptions] of reads) {
          expect((await call('GET', readPath, readOptions)).cache, readPath).toBe('miss');
        }
      },
    );
  });
}
