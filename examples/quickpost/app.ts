/**
 * The QuickPost HTTP API on Express 5 (see the README, "The QuickPost example app"): JSON in and
 * out, the caller in `x-user-id`, and an `x-cache` header on every response.
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Cache } from '../../src/index.js';
import { cacheStatus } from './cache-status.js';
import { DuplicateSlugError, PostNotFoundError, type Repository } from './repository.js';
import { createQuickPost, type PostFilters } from './service.js';
import { InvalidUserIdError, isSignedIn, type SignedIn, viewerOf } from './viewer.js';

/** What the app is made of. */
export interface AppOptions {
  /** The cache in front of the repository, on a store with tags (MemoryStore, the Redis stores). */
  cache: Cache;
  /** Where the data lives (a `PostgresRepository` on a database that has the schema). */
  repository: Repository;
}

// ---- Request bodies and queries ----

/** Text Postgres can store: a `text` value cannot hold U+0000. */
const stored = () =>
  z.string().refine((value) => !value.includes('\u0000'), 'must not contain U+0000');

const slug = stored()
  .min(1)
  .max(100)
  .regex(/^[^\s/]+$/, 'must not contain whitespace or "/"');
const title = stored().trim().min(1).max(200);
const text = stored().max(10_000);
const tags = z.array(stored().trim().min(1).max(50)).max(20);

const newPostBody = z.object({ slug, title, body: text.default(''), tags: tags.default([]) });
const postPatchBody = z.object({
  title: title.optional(),
  body: text.optional(),
  tags: tags.optional(),
});
const newCommentBody = z.object({ text: stored().trim().min(1).max(2000) });
const profilePatchBody = z.object({
  fullName: stored().trim().max(200).optional(),
  bio: stored().max(2000).optional(),
});
const listQuery = z.object({
  // `?tag=` and `?page=` (empty) mean no tag and the first page.
  tag: z.string().max(50).optional(),
  page: z
    .string()
    .regex(/^([1-9][0-9]{0,5})?$/, 'must be a positive integer')
    .optional(),
});
const commentsQuery = z.object({ sort: z.enum(['asc', 'desc', '']).optional() });

/** A request the API refuses: its status and what is wrong. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly issues?: { path: string; message: string }[],
  ) {
    super(message);
  }
}

/** `input` checked by `schema`, or a 400 naming what is wrong (`what`: "body" or "query"). */
function parse<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  if (what === 'body' && (typeof input !== 'object' || input === null || Array.isArray(input))) {
    throw new HttpError(400, 'the body must be a JSON object (Content-Type: application/json)');
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new HttpError(
    400,
    `invalid ${what}`,
    result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
  );
}

/** The caller, who must be known by id for this route (else 401). */
function signedIn(req: Request): SignedIn {
  const viewer = viewerOf(req);
  if (!isSignedIn(viewer)) throw new HttpError(401, 'this route needs an x-user-id header');
  return viewer;
}

/** Builds the app: routes, validation and error answers on `cache` and `repository`. */
export function createApp({ cache, repository }: AppOptions): Express {
  const quickpost = createQuickPost(cache, repository);
  const status = cacheStatus(cache);
  const app = express();
  app.disable('x-powered-by');

  /** Every answer goes out here, with its `x-cache` header. */
  const reply = (res: Response, code: number, body: unknown): void => {
    res.set('x-cache', status.of(res)).status(code).json(body);
  };
  /** A found value, or a 404 for the post `slug`. */
  const found = <T>(res: Response, slug: string, value: T | null): void => {
    if (value === null) reply(res, 404, { error: `no post has the slug "${slug}"` });
    else reply(res, 200, value);
  };

  app.use(express.json({ limit: '100kb' }));
  // After the body parser: it calls next() from the request stream's events, outside any scope
  // opened before it.
  app.use(status.track);

  app.post('/posts', async (req, res) => {
    const input = parse(newPostBody, req.body, 'body');
    reply(res, 201, await quickpost.createPost(viewerOf(req), input));
  });

  app.get('/posts', async (req, res) => {
    const query = parse(listQuery, req.query, 'query');
    const page = query.page ? Number(query.page) : 1;
    const filters: PostFilters = query.tag ? { tag: query.tag, page } : { page };
    reply(res, 200, { posts: await quickpost.listPosts(filters) });
  });

  app.get('/posts/:slug', async (req, res) => {
    found(res, req.params.slug, await quickpost.getPost(req.params.slug));
  });

  app.put('/posts/:slug', async (req, res) => {
    const patch = parse(postPatchBody, req.body, 'body');
    reply(res, 200, await quickpost.updatePost(req.params.slug, patch));
  });

  app.get('/posts/:slug/comments', async (req, res) => {
    const sort = parse(commentsQuery, req.query, 'query').sort === 'desc' ? 'desc' : 'asc';
    const comments = await quickpost.getComments(req.params.slug, sort);
    found(res, req.params.slug, comments === null ? null : { comments });
  });

  app.post('/posts/:slug/comments', async (req, res) => {
    const { text } = parse(newCommentBody, req.body, 'body');
    reply(res, 201, await quickpost.addComment(viewerOf(req), req.params.slug, text));
  });

  app.post('/posts/:slug/like', async (req, res) => {
    reply(res, 200, await quickpost.toggleLike(signedIn(req), req.params.slug));
  });

  app.get('/posts/:slug/likes', async (req, res) => {
    found(res, req.params.slug, await quickpost.getLikes(req.params.slug));
  });

  app.get('/profile', async (req, res) => {
    reply(res, 200, await quickpost.getProfile(signedIn(req)));
  });

  app.put('/profile', async (req, res) => {
    const viewer = signedIn(req);
    const patch = parse(profilePatchBody, req.body, 'body');
    reply(res, 200, await quickpost.updateProfile(viewer, patch));
  });

  app.use((req, res) => {
    reply(res, 404, { error: `no route ${req.method} ${req.path}` });
  });

  // Express 5 sends a rejected handler's error here, like a thrown one.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const [code, body] = answerTo(error);
    if (code === 500) console.error('[quickpost]', error);
    reply(res, code, body);
  });

  return app;
}

/** The status and body that answer `error`. */
function answerTo(error: unknown): [number, { error: string; issues?: unknown }] {
  if (error instanceof HttpError) {
    return [
      error.status,
      error.issues === undefined
        ? { error: error.message }
        : { error: error.message, issues: error.issues },
    ];
  }
  if (error instanceof InvalidUserIdError) return [400, { error: error.message }];
  if (error instanceof PostNotFoundError) return [404, { error: error.message }];
  if (error instanceof DuplicateSlugError) return [409, { error: error.message }];
  // The body parser's errors: malformed JSON, too large a body.
  const type = (error as { type?: unknown } | null)?.type;
  if (type === 'entity.parse.failed') return [400, { error: 'the body is not valid JSON' }];
  if (type === 'entity.too.large') return [413, { error: 'the body is larger than 100 kB' }];
  return [500, { error: 'internal error' }];
}
