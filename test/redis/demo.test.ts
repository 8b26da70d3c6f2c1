import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultRedis, startFaultRedis } from '../helpers/redis-servers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

describe('npm run demo on Redis (REDIS_URL)', () => {
  // A server of its own: the demo starts by clearing its `quickpost:` prefix.
  let redis: FaultRedis;
  beforeAll(async () => {
    redis = await startFaultRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  /** The demo's output, run on that server. */
  const demo = async (): Promise<string> =>
    (
      await run(process.execPath, ['--import', 'tsx', 'examples/blog.ts'], {
        cwd: root,
        env: { ...process.env, REDIS_URL: `redis://${redis.host}:${redis.port}` },
      })
    ).stdout;

  it('runs the same blog flows on Redis, and starts afresh when run again', async () => {
    for (const [run, output] of [
      [1, await demo()],
      [2, await demo()],
    ] as const) {
      expect(output, `run ${run}`).toMatch(/On Redis at redis:\/\/\S+: removed \d+ keys/);
      for (const line of [
        '[Cache] MISS: quickpost:posts:hello-redis',
        '[Cache] SET: quickpost:posts:hello-redis (TTL: 600s)',
        '[Cache] HIT: quickpost:posts:hello-redis',
        '[Cache] INVALIDATE: quickpost:posts:hello-redis:* (2 keys)',
        // A synchronous function's wrapper answers with a promise on an asynchronous store.
        'is a promise? true | name: bob',
        '(null is now cached for 600 s, until createPost invalidates posts:cache-stampedes:*)',
        'after: Cache stampedes',
        'visitors: 1234 | Date kept? true',
        'pattern: posts:%2A:*',
      ]) {
        expect(output, `run ${run}`).toContain(line);
      }
      expect(output, `run ${run}`).toMatch(/Done: \d+ database queries in total\./);
    }
  });
});
