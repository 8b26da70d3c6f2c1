/**
 * QuickPost's data: posts, comments, likes and profiles in Postgres (database.ts), behind the
 * small `Repository` interface the rest of the app uses: its schema, and one implementation in
 * plain SQL. Nothing here knows about the cache.
 */
import type { Database, Query } from './database.js';

/** A post as stored. */
export interface Post {
  slug: string;
  title: string;
  body: string;
  tags: string[];
  /** The user who wrote it; `null` for an anonymous author. */
  author: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What a new post is made of. */
export interface NewPost {
  slug: string;
  title: string;
  body: string;
  tags: string[];
  author: string | null;
}

/** The fields of a post an edit may change. */
export interface PostPatch {
  title?: string | undefined;
  body?: string | undefined;
  tags?: string[] | undefined;
}

/** A comment on a post. */
export interface Comment {
  id: number;
  /** The user who wrote it; `null` for an anonymous comment. */
  author: string | null;
  text: string;
  createdAt: Date;
}

/** A user's profile; `null` fields were never set. */
export interface Profile {
  userId: string;
  fullName: string | null;
  bio: string | null;
}

/** The fields of a profile an edit may change. */
export interface ProfilePatch {
  fullName?: string | undefined;
  bio?: string | undefined;
}

/** Which page of posts to list, newest first, optionally only those with a tag. */
export interface PostQuery {
  tag?: string | undefined;
  offset: number;
  limit: number;
}

/** No post has this slug. */
export class PostNotFoundError extends Error {
  override readonly name = 'PostNotFoundError';
  constructor(readonly slug: string) {
    super(`no post has the slug "${slug}"`);
  }
}

/** A post with this slug exists already. */
export class DuplicateSlugError extends Error {
  override readonly name = 'DuplicateSlugError';
  constructor(readonly slug: string) {
    super(`a post with the slug "${slug}" exists already`);
  }
}

/** A post's edit: the post as it is now, and the tags it had before. */
export interface PostEdit {
  post: Post;
  previousTags: string[];
}

/** Where QuickPost's data lives. Every method answers with a promise. */
export interface Repository {
  /**
   * Runs `work` in a database transaction, with a repository whose statements run in it: they
   * commit together once `work` resolves, or roll back if it throws. Inside a transaction, this
   * joins it.
   */
  transaction<T>(work: (tx: Repository) => Promise<T>): Promise<T>;
  /** Stores a new post; `DuplicateSlugError` if its slug is taken. */
  insertPost(post: NewPost): Promise<Post>;
  /** The post with this slug, if any. */
  findPost(slug: string): Promise<Post | undefined>;
  /** Changes a post; `PostNotFoundError` if there is none. */
  updatePost(slug: string, patch: PostPatch): Promise<PostEdit>;
  /** One page of posts, newest first. */
  listPosts(query: PostQuery): Promise<Post[]>;
  /** A post's comments, oldest or newest first (`[]` for a post without any). */
  listComments(slug: string, order: 'asc' | 'desc'): Promise<Comment[]>;
  /** How many comments a post has. */
  countComments(slug: string): Promise<number>;
  /** Adds a comment; `PostNotFoundError` if there is no such post. */
  insertComment(slug: string, author: string | null, text: string): Promise<Comment>;
  /** The users who like a post, in the order they liked it. */
  listLikers(slug: string): Promise<string[]>;
  /** Likes the post for `userId`, or takes the like back; answers whether it is liked now. */
  toggleLike(slug: string, userId: string): Promise<boolean>;
  /** A user's profile, if it was ever saved. */
  findProfile(userId: string): Promise<Profile | undefined>;
  /** Saves the given fields of a user's profile and answers the whole profile. */
  saveProfile(userId: string, patch: ProfilePatch): Promise<Profile>;
}

/**
 * The tables, made if missing (on a server that already has them, nothing changes). Posts list
 * newest first by `id`, the order they were made in; likes keep theirs by `id` too.
 */
const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS posts (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug text NOT NULL UNIQUE,
    title text NOT NULL,
    body text NOT NULL,
    tags text[] NOT NULL,
    author text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`,
  'CREATE INDEX IF NOT EXISTS posts_tags ON posts USING gin (tags)',
  `CREATE TABLE IF NOT EXISTS comments (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    post_id integer NOT NULL REFERENCES posts (id),
    author text,
    text text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  'CREATE INDEX IF NOT EXISTS comments_post ON comments (post_id, id)',
  `CREATE TABLE IF NOT EXISTS likes (
    id integer GENERATED ALWAYS AS IDENTITY,
    post_id integer NOT NULL REFERENCES posts (id),
    user_id text NOT NULL,
    PRIMARY KEY (post_id, user_id)
  )`,
  `CREATE TABLE IF NOT EXISTS profiles (
    user_id text PRIMARY KEY,
    full_name text,
    bio text
  )`,
];

/**
 * Makes QuickPost's tables in `database` if they are missing. In one transaction under an
 * advisory lock, so that app processes starting together on one server do not race on
 * `CREATE TABLE IF NOT EXISTS` (which can fail when two sessions run it at once).
 */
export async function createSchema(database: Database): Promise<void> {
  await database.transaction(async (query) => {
    await query("SELECT pg_advisory_xact_lock(hashtext('quickpost schema'))");
    for (const statement of SCHEMA) await query(statement);
  });
}

/** The columns of a post, named as `Post` names them (in its JSON order). */
const POST = `posts.slug, posts.title, posts.body, posts.tags, posts.author,
  posts.created_at AS "createdAt", posts.updated_at AS "updatedAt"`;

/** The columns of a comment, named as `Comment` names them. */
const COMMENT = 'comments.id, comments.author, comments.text, comments.created_at AS "createdAt"';

/** The columns of a profile, named as `Profile` names them. */
const PROFILE = 'profiles.user_id AS "userId", profiles.full_name AS "fullName", profiles.bio';

/**
 * Whether Postgres can hold `text`: a `text` value cannot contain U+0000, and a statement given
 * one fails. The app refuses such values in what it stores, so no stored slug or tag has one: a
 * lookup of one finds nothing, as it found nothing before the data lived in Postgres.
 */
function storable(text: string): boolean {
  return !text.includes('\u0000');
}

/** QuickPost's data in a Postgres database, in plain SQL. */
export class PostgresRepository implements Repository {
  readonly #database: Database;
  /** Runs the statements: on the database, or on the connection of a transaction. */
  readonly #query: Query;

  /** The repository on `database`; with `query`, the one inside a transaction of it. */
  constructor(database: Database, query?: Query) {
    this.#database = database;
    this.#query = query ?? database.query;
  }

  transaction<T>(work: (tx: Repository) => Promise<T>): Promise<T> {
    if (this.#query !== this.#database.query) return work(this);
    return this.#database.transaction((query) =>
      work(new PostgresRepository(this.#database, query)),
    );
  }

  async insertPost({ slug, title, body, tags, author }: NewPost): Promise<Post> {
    // A taken slug inserts nothing (and answers no row) instead of failing the transaction.
    const [post] = await this.#query<Post>(
      `INSERT INTO posts (slug, title, body, tags, author) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (slug) DO NOTHING RETURNING ${POST}`,
      [slug, title, body, tags, author],
    );
    if (post === undefined) throw new DuplicateSlugError(slug);
    return post;
  }

  async findPost(slug: string): Promise<Post | undefined> {
    if (!storable(slug)) return undefined;
    const [post] = await this.#query<Post>(`SELECT ${POST} FROM posts WHERE slug = $1`, [slug]);
    return post;
  }

  async updatePost(slug: string, { title, body, tags }: PostPatch): Promise<PostEdit> {
    if (!storable(slug)) throw new PostNotFoundError(slug);
    // FOR UPDATE: no other transaction changes the post between this read and the update, so
    // `previousTags` are the tags this edit replaced.
    const [before] = await this.#query<{ tags: string[] }>(
      'SELECT tags FROM posts WHERE slug = $1 FOR UPDATE',
      [slug],
    );
    if (before === undefined) throw new PostNotFoundError(slug);
    const [post] = (await this.#query<Post>(
      `UPDATE posts SET title = coalesce($2, title), body = coalesce($3, body),
         tags = coalesce($4, tags), updated_at = now()
       WHERE slug = $1 RETURNING ${POST}`,
      [slug, title ?? null, body ?? null, tags ?? null],
    )) as [Post];
    return { post, previousTags: before.tags };
  }

  async listPosts({ tag, offset, limit }: PostQuery): Promise<Post[]> {
    if (tag !== undefined && !storable(tag)) return [];
    return this.#query<Post>(
      `SELECT ${POST} FROM posts WHERE $1::text IS NULL OR $1::text = ANY (tags)
       ORDER BY id DESC OFFSET $2 LIMIT $3`,
      [tag ?? null, offset, limit],
    );
  }

  async listComments(slug: string, order: 'asc' | 'desc'): Promise<Comment[]> {
    if (!storable(slug)) return [];
    // `order` is one of two words, never user text: safe to write into the statement.
    return this.#query<Comment>(
      `SELECT ${COMMENT} FROM comments JOIN posts ON posts.id = comments.post_id
       WHERE posts.slug = $1 ORDER BY comments.id ${order === 'asc' ? 'ASC' : 'DESC'}`,
      [slug],
    );
  }

  async countComments(slug: string): Promise<number> {
    if (!storable(slug)) return 0;
    const [row] = (await this.#query<{ count: number }>(
      `SELECT count(*)::int AS count FROM comments JOIN posts ON posts.id = comments.post_id
       WHERE posts.slug = $1`,
      [slug],
    )) as [{ count: number }];
    return row.count;
  }

  async insertComment(slug: string, author: string | null, text: string): Promise<Comment> {
    if (!storable(slug)) throw new PostNotFoundError(slug);
    const [comment] = await this.#query<Comment>(
      `INSERT INTO comments (post_id, author, text) SELECT id, $2, $3 FROM posts WHERE slug = $1
       RETURNING ${COMMENT}`,
      [slug, author, text],
    );
    if (comment === undefined) throw new PostNotFoundError(slug);
    return comment;
  }

  async listLikers(slug: string): Promise<string[]> {
    if (!storable(slug)) return [];
    const rows = await this.#query<{ userId: string }>(
      `SELECT likes.user_id AS "userId" FROM likes JOIN posts ON posts.id = likes.post_id
       WHERE posts.slug = $1 ORDER BY likes.id`,
      [slug],
    );
    return rows.map((row) => row.userId);
  }

  async toggleLike(slug: string, userId: string): Promise<boolean> {
    if (!storable(slug)) throw new PostNotFoundError(slug);
    const [post] = await this.#query<{ id: number }>('SELECT id FROM posts WHERE slug = $1', [
      slug,
    ]);
    if (post === undefined) throw new PostNotFoundError(slug);
    const taken = await this.#query(
      'DELETE FROM likes WHERE post_id = $1 AND user_id = $2 RETURNING user_id',
      [post.id, userId],
    );
    if (taken.length > 0) return false;
    await this.#query(
      'INSERT INTO likes (post_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      [post.id, userId],
    );
    return true;
  }

  async findProfile(userId: string): Promise<Profile | undefined> {
    const [profile] = await this.#query<Profile>(
      `SELECT ${PROFILE} FROM profiles WHERE user_id = $1`,
      [userId],
    );
    return profile;
  }

  async saveProfile(userId: string, { fullName, bio }: ProfilePatch): Promise<Profile> {
    // A field the patch leaves out (null here) keeps its value.
    const [profile] = (await this.#query<Profile>(
      `INSERT INTO profiles AS profiles (user_id, full_name, bio) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) DO UPDATE SET full_name = coalesce($2, profiles.full_name),
         bio = coalesce($3, profiles.bio)
       RETURNING ${PROFILE}`,
      [userId, fullName ?? null, bio ?? null],
    )) as [Profile];
    return profile;
  }
}
