/** A few sample posts, comments and likes for a new database (`SEED=1 npm run example`). */
import type { Repository } from './repository.js';

/** Writes the samples in one transaction if the database has no post yet; answers whether it did. */
export function seedSamples(repository: Repository): Promise<boolean> {
  return repository.transaction(async (tx) => {
    if ((await tx.listPosts({ offset: 0, limit: 1 })).length > 0) return false;
    const posts = [
      { slug: 'welcome', title: 'Welcome to QuickPost', tags: ['news'], author: 'alice' },
      { slug: 'caching-lists', title: 'Caching lists', tags: ['redis', 'howto'], author: 'bob' },
      { slug: 'after-the-commit', title: 'After the commit', tags: ['postgres'], author: 'alice' },
    ];
    for (const post of posts) await tx.insertPost({ ...post, body: `${post.title}.` });
    await tx.insertComment('welcome', 'bob', 'Hello!');
    await tx.toggleLike('caching-lists', 'alice');
    await tx.saveProfile('alice', { fullName: 'Alice', bio: 'Writes about caches.' });
    return true;
  });
}
