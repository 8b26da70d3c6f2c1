/**
 * A lease holder in a process of its own, for the stall tests (test/redis/stalls.test.ts): it
 * makes a cache on the given Redis (default lease options) and calls a cached function that
 * never returns, so it takes the key's lease and keeps it alive until the process is killed.
 *
 *   node --import tsx test/helpers/lease-holder.ts <host> <port> <prefix> <slug>
 *
 * Prints `computing <slug>` once the function runs (the lease is taken by then).
 */
import { Redis } from 'ioredis';
import { createCache } from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';

const [host = '127.0.0.1', port = '6379', prefix = 'quickpost', slug = 'hello'] =
  process.argv.slice(2);

const client = new Redis({ host, port: Number(port), maxRetriesPerRequest: 1 });
client.on('error', () => undefined);
// A generous timeout: on a loaded machine the first command of a new process can take longer
// than the default 150 ms, and a read that times out computes without taking the lease.
const cache = createCache({ store: new RedisStore({ client }), prefix, timeout: 2000 });
const getPost = cache.cacheable(
  (s: string): Promise<{ slug: string }> => {
    process.stdout.write(`computing ${s}\n`);
    return new Promise(() => undefined);
  },
  { key: 'posts:{{slug}}', context: (s) => ({ slug: s }) },
);
void getPost(slug);
// The never-settling computation keeps nothing alive by itself: this does, until SIGKILL.
setInterval(() => undefined, 60_000);
