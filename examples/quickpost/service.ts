/**
 * QuickPost's reads and writes with the cache in front: every read is a `cacheable` wrapper, every
 * write an `invalidating` wrapper that deletes exactly the entries its change makes wrong, run in
 * a database transaction inside `cache.deferInvalidations`: the entries go once it committed.
 *
 * | read | key template | what changes it |
 * | --- | --- | --- |
 * | a post, with its counts | `posts:{{slug}}` | create, edit, comment (commentCount), like (likeCount) |
 * | a page of posts | `posts:list:{{filters}}` | a new post in its list; an edit of a post it shows, or of a post's tags that moves it in or out |
 * | a post's comments | `posts:{{slug}}:comments:{{sort}}` | create, comment |
 * | who likes a post | `posts:{{slug}}:likes` | create, like |
 * | a user's profile | `profile:{{user_id}}` | that user's profile edit |
 *
 * Lists are invalidated by cache tags, not by `posts:list:*`: a page carries `post:<slug>` of each
 * post it shows and the tag of the list it is a page of (see `listTag`). Lists carry no counts,
 * so comments and likes leave them alone. A read of a post that does not exist caches `null` (a
 * 404): creating the post invalidates `posts:{{slug}}:*`, which covers the post's key and every
 * key under it.
 */
import { type Cache, renderTag } from '../../src/index.js';
import type { Comment, Post, PostPatch, Profile, ProfilePatch, Repository } from './repository.js';
import { type SignedIn, userContext, type Viewer } from './viewer.js';

/** Posts per page of `GET /posts`. */
export const PAGE_SIZE = 10;

/** A post as `GET /posts/:slug` shows it. */
export interface PostView extends Post {
  commentCount: number;
  likeCount: number;
}

/** The filters of a list, hashed into its key (`{ page }` or `{ tag, page }`). */
export interface PostFilters {
  tag?: string;
  page: number;
}

/** Who likes a post. */
export interface Likes {
  likeCount: number;
  users: string[];
}

/** What a like toggle did. */
export interface LikeState {
  liked: boolean;
  likeCount: number;
}

/** The input of a new post. */
export interface PostInput {
  slug: string;
  title: string;
  body: string;
  tags: string[];
}

/**
 * The tag of every list page that shows the post: what `tags: ['post:{{slug}}']` renders for
 * this slug (its value percent-encoded as in keys, so no slug can spell another tag).
 */
export function postTag(slug: string): string {
  return renderTag('post:{{slug}}', { slug });
}

/**
 * The tag of every page of a list: `list:all` for `GET /posts`, `list:tag:<tag>` for
 * `GET /posts?tag=<tag>`. A post that enters or leaves a list shifts every page after it, so a
 * change of membership invalidates all the list's pages.
 */
export function listTag(tag: string | undefined): string {
  return tag === undefined ? 'list:all' : renderTag('list:tag:{{tag}}', { tag });
}

/** The tags in one list and not in the other: the lists a post entered or left. */
function changedTags(before: readonly string[], after: readonly string[]): string[] {
  return [
    ...before.filter((tag) => !after.includes(tag)),
    ...after.filter((tag) => !before.includes(tag)),
  ];
}

/** QuickPost's cached reads and invalidating writes on `cache` and `repository`. */
export function createQuickPost(cache: Cache, repository: Repository) {
  /** A post with its counts, read with `db` (inside a write: its transaction). */
  const viewOf = async (db: Repository, post: Post): Promise<PostView> => {
    const [commentCount, likers] = await Promise.all([
      db.countComments(post.slug),
      db.listLikers(post.slug),
    ]);
    return { ...post, commentCount, likeCount: likers.length };
  };
  const existing = async (slug: string): Promise<boolean> =>
    (await repository.findPost(slug)) !== undefined;
  /**
   * Runs a write: its statements in one transaction (`tx`), inside `deferInvalidations`, so that
   * the invalidations its `invalidating` wrappers ask for run once the transaction committed,
   * and not at all if it rolled back. Invalidated before the commit, a key could be refilled
   * from the old row by a reader in between, and stay wrong until its TTL.
   */
  const write = <T>(work: (tx: Repository) => Promise<T>): Promise<T> =>
    cache.deferInvalidations(() => repository.transaction(work));
  // Every mutation's patterns must match the keys of these reads: `strict` makes a pattern that
  // matches none of them (such as the original `posts:{{obj_id}}:*`) throw at its first call.
  const strict = true;

  // The writes: each takes the transaction it runs in (`tx`) and says what it invalidates.
  const insertPost = cache.invalidating(
    async function createPost(tx: Repository, viewer: Viewer, input: PostInput) {
      return viewOf(tx, await tx.insertPost({ ...input, author: viewer.userId }));
    },
    {
      // The post's own key (a cached 404), its comments and likes; every page of the lists it
      // enters: all posts, and the list of each of its tags. Other tags' lists stay.
      patterns: ['posts:{{slug}}:*'],
      tagsFromResult: (post) => [listTag(undefined), ...post.tags.map((tag) => listTag(tag))],
      context: (_tx, _viewer, input) => ({ slug: input.slug }),
      strict,
    },
  );
  const editPost = cache.invalidating(
    async function updatePost(tx: Repository, slug: string, patch: PostPatch) {
      const { post, previousTags } = await tx.updatePost(slug, patch);
      return { view: await viewOf(tx, post), previousTags };
    },
    {
      // The post, and the list pages that show it (title, body and tags show there); not its
      // comments or likes. A change of its tags also moves it into or out of those tags' lists.
      patterns: ['posts:{{slug}}'],
      tags: ['post:{{slug}}'],
      tagsFromResult: ({ view, previousTags }) =>
        changedTags(previousTags, view.tags).map((tag) => listTag(tag)),
      context: (_tx, slug) => ({ slug }),
      strict,
    },
  );
  const insertComment = cache.invalidating(
    async function addComment(tx: Repository, viewer: Viewer, slug: string, text: string) {
      return tx.insertComment(slug, viewer.userId, text);
    },
    // The post (its commentCount) and its comments in both orders.
    {
      patterns: ['posts:{{slug}}', 'posts:{{slug}}:comments:*'],
      context: (_tx, _viewer, slug) => ({ slug }),
      strict,
    },
  );
  const likeOrUnlike = cache.invalidating(
    async function toggleLike(tx: Repository, viewer: SignedIn, slug: string): Promise<LikeState> {
      const liked = await tx.toggleLike(slug, viewer.userId);
      return { liked, likeCount: (await tx.listLikers(slug)).length };
    },
    // The post (its likeCount) and who likes it. The original system invalidated
    // `posts:{{obj_id}}:*` here, a pattern that never matched a post keyed by slug.
    {
      patterns: ['posts:{{slug}}', 'posts:{{slug}}:likes'],
      context: (_tx, _viewer, slug) => ({ slug }),
      strict,
    },
  );
  const saveProfile = cache.invalidating(
    async function updateProfile(tx: Repository, viewer: SignedIn, patch: ProfilePatch) {
      return tx.saveProfile(viewer.userId, patch);
    },
    {
      patterns: ['profile:{{user_id}}'],
      context: (_tx, viewer) => userContext(viewer),
      strict,
    },
  );

  return {
    /** A post with its comment and like counts; `null` when there is none. */
    getPost: cache.cacheable(
      async function getPost(slug: string): Promise<PostView | null> {
        const post = await repository.findPost(slug);
        return post === undefined ? null : viewOf(repository, post);
      },
      { key: 'posts:{{slug}}', context: (slug) => ({ slug }), ttl: 600 },
    ),

    /** A page of posts, newest first, without counts. */
    listPosts: cache.cacheable(
      async function listPosts(filters: PostFilters): Promise<Post[]> {
        return repository.listPosts({
          tag: filters.tag,
          offset: (filters.page - 1) * PAGE_SIZE,
          limit: PAGE_SIZE,
        });
      },
      {
        // An object is hashed into the key: `{ tag, page }` and `{ page, tag }` share one entry.
        key: 'posts:list:{{filters}}',
        context: (filters) => ({ filters }),
        ttl: 300,
        // Known only from the result: the posts this page shows. And the list it is a page of.
        tagsFromResult: (posts, filters) => [
          listTag(filters.tag),
          ...posts.map((post) => postTag(post.slug)),
        ],
      },
    ),

    /** A post's comments in either order; `null` when there is no such post. */
    getComments: cache.cacheable(
      async function getComments(slug: string, sort: 'asc' | 'desc'): Promise<Comment[] | null> {
        return (await existing(slug)) ? repository.listComments(slug, sort) : null;
      },
      { key: 'posts:{{slug}}:comments:{{sort}}', context: (slug, sort) => ({ slug, sort }) },
    ),

    /** Who likes a post; `null` when there is no such post. */
    getLikes: cache.cacheable(
      async function getLikes(slug: string): Promise<Likes | null> {
        if (!(await existing(slug))) return null;
        const users = await repository.listLikers(slug);
        return { likeCount: users.length, users };
      },
      { key: 'posts:{{slug}}:likes', context: (slug) => ({ slug }), ttl: 60 },
    ),

    /**
     * The caller's profile. Its key holds the user id, so no user is ever served another's
     * cached profile.
     */
    getProfile: cache.cacheable(
      async function getProfile(viewer: SignedIn): Promise<Profile> {
        return (
          (await repository.findProfile(viewer.userId)) ?? {
            userId: viewer.userId,
            fullName: null,
            bio: null,
          }
        );
      },
      { key: 'profile:{{user_id}}', context: userContext, ttl: 3600 },
    ),

    /** Creates a post; `DuplicateSlugError` when the slug is taken. */
    createPost: (viewer: Viewer, input: PostInput): Promise<PostView> =>
      write((tx) => insertPost(tx, viewer, input)),

    /** Edits a post; `PostNotFoundError` when there is none. */
    updatePost: (slug: string, patch: PostPatch): Promise<PostView> =>
      write(async (tx) => (await editPost(tx, slug, patch)).view),

    /** Comments on a post; `PostNotFoundError` when there is none. */
    addComment: (viewer: Viewer, slug: string, text: string): Promise<Comment> =>
      write((tx) => insertComment(tx, viewer, slug, text)),

    /** Likes a post for the caller, or takes the like back; `PostNotFoundError` when there is none. */
    toggleLike: (viewer: SignedIn, slug: string): Promise<LikeState> =>
      write((tx) => likeOrUnlike(tx, viewer, slug)),

    /** Saves the caller's profile. */
    updateProfile: (viewer: SignedIn, patch: ProfilePatch): Promise<Profile> =>
      write((tx) => saveProfile(tx, viewer, patch)),
  };
}

/** QuickPost's cached reads and writes. */
export type QuickPost = ReturnType<typeof createQuickPost>;
