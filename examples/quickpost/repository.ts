/**
 * QuickPost's data: posts, comments, likes and profiles, behind the small `Repository` interface
 * the rest of the app uses. `MemoryRepository` keeps them in process; a database-backed
 * repository implements the same methods. Nothing here knows about the cache.
 */

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

/** Where QuickPost's data lives. Every method answers with a promise, as a database would. */
export interface Repository {
  /** Stores a new post; `DuplicateSlugError` if its slug is taken. */
  insertPost(post: NewPost): Promise<Post>;
  /** The post with this slug, if any. */
  findPost(slug: string): Promise<Post | undefined>;
  /** Changes a post; `PostNotFoundError` if there is none. */
  updatePost(slug: string, patch: PostPatch): Promise<Post>;
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

/** The repository in process memory (the data goes with the process). */
export class MemoryRepository implements Repository {
  readonly #posts = new Map<string, Post>();
  /** Insertion order of posts, so that posts made in the same millisecond list in order. */
  readonly #order: string[] = [];
  readonly #comments = new Map<string, Comment[]>();
  readonly #likes = new Map<string, Set<string>>();
  readonly #profiles = new Map<string, Profile>();
  #nextCommentId = 1;

  async insertPost(input: NewPost): Promise<Post> {
    if (this.#posts.has(input.slug)) throw new DuplicateSlugError(input.slug);
    const now = new Date();
    const post: Post = { ...input, tags: [...input.tags], createdAt: now, updatedAt: now };
    this.#posts.set(post.slug, post);
    this.#order.push(post.slug);
    return copy(post);
  }

  async findPost(slug: string): Promise<Post | undefined> {
    const post = this.#posts.get(slug);
    return post === undefined ? undefined : copy(post);
  }

  async updatePost(slug: string, patch: PostPatch): Promise<Post> {
    const post = this.#existing(slug);
    if (patch.title !== undefined) post.title = patch.title;
    if (patch.body !== undefined) post.body = patch.body;
    if (patch.tags !== undefined) post.tags = [...patch.tags];
    post.updatedAt = new Date();
    return copy(post);
  }

  async listPosts({ tag, offset, limit }: PostQuery): Promise<Post[]> {
    const newestFirst = this.#order
      .map((slug) => this.#posts.get(slug) as Post)
      .filter((post) => tag === undefined || post.tags.includes(tag))
      .reverse();
    return newestFirst.slice(offset, offset + limit).map(copy);
  }

  async listComments(slug: string, order: 'asc' | 'desc'): Promise<Comment[]> {
    const comments = (this.#comments.get(slug) ?? []).map((comment) => ({ ...comment }));
    return order === 'asc' ? comments : comments.reverse();
  }

  async countComments(slug: string): Promise<number> {
    return this.#comments.get(slug)?.length ?? 0;
  }

  async insertComment(slug: string, author: string | null, text: string): Promise<Comment> {
    this.#existing(slug);
    const comment: Comment = { id: this.#nextCommentId++, author, text, createdAt: new Date() };
    this.#comments.set(slug, [...(this.#comments.get(slug) ?? []), comment]);
    return { ...comment };
  }

  async listLikers(slug: string): Promise<string[]> {
    return [...(this.#likes.get(slug) ?? [])];
  }

  async toggleLike(slug: string, userId: string): Promise<boolean> {
    this.#existing(slug);
    const likers = this.#likes.get(slug) ?? new Set<string>();
    this.#likes.set(slug, likers);
    if (likers.delete(userId)) return false;
    likers.add(userId);
    return true;
  }

  async findProfile(userId: string): Promise<Profile | undefined> {
    const profile = this.#profiles.get(userId);
    return profile === undefined ? undefined : { ...profile };
  }

  async saveProfile(userId: string, patch: ProfilePatch): Promise<Profile> {
    const profile = this.#profiles.get(userId) ?? { userId, fullName: null, bio: null };
    if (patch.fullName !== undefined) profile.fullName = patch.fullName;
    if (patch.bio !== undefined) profile.bio = patch.bio;
    this.#profiles.set(userId, profile);
    return { ...profile };
  }

  #existing(slug: string): Post {
    const post = this.#posts.get(slug);
    if (post === undefined) throw new PostNotFoundError(slug);
    return post;
  }
}

/** A copy the caller may change without changing the stored post. */
function copy(post: Post): Post {
  return { ...post, tags: [...post.tags] };
}
