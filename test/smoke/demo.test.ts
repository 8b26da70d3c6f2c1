import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run demo', () => {
  it('runs the blog flows on the in-memory store and shows MISS, SET, HIT and INVALIDATE', () => {
    const output = execFileSync(process.execPath, ['--import', 'tsx', 'examples/blog.ts'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(output).toContain(
      '[Cache] getPost | Context: {"slug":"hello-redis"} | Key: quickpost:posts:hello-redis',
    );
    for (const line of [
      '[Cache] MISS: quickpost:posts:hello-redis',
      '[Cache] SET: quickpost:posts:hello-redis (TTL: 600s)',
      '[Cache] HIT: quickpost:posts:hello-redis',
      '[Cache] INVALIDATE: quickpost:posts:hello-redis:* (2 keys)',
      'is a promise? false',
      'pattern: posts:%2A:*',
    ]) {
      expect(output).toContain(line);
    }
    expect(output).toMatch(/Done: \d+ database queries in total\./);
  });
});
