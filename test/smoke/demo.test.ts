import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run demo', () => {
  it('runs the blog flows on the in-memory store and shows MISS, SET, HIT and INVALIDATE', () => {
    const { REDIS_URL: _url, ...env } = process.env;
    const output = execFileSync(process.execPath, ['--import', 'tsx', 'examples/blog.ts'], {
      cwd: root,
      env,
      encoding: 'utf8',
    });
    expect(output).toContain('On the in-memory store');
    expect(output).toContain(
      '[Cache] getPost | Context: {"slug":"hello-redis"} | Key: quickpost:posts:hello-redis',
    );
    for (const line of [
      '[Cache] MISS: quickpost:posts:hello-redis',
      '[Cache] SET: quickpost:posts:hello-redis (TTL: 600s)',
      '[Cache] HIT: quickpost:posts:hello-redis',
      '[Cache] INVALIDATE: quickpost:posts:hello-redis:* (2 keys)',
      'is a promise? false',
      '(null is now cached for 600 s, until createPost invalidates posts:cache-stampedes:*)',
      'after: Cache stampedes',
      'pattern: posts:%2A:*',
    ]) {
      expect(output).toContain(line);
    }
    expect(output).toMatch(/Done: \d+ database queries in total\./);
  });
});
