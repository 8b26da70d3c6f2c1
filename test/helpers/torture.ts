/**
 * The randomized torture both exactness suites run (test/redis/exactness.test.ts for patterns,
 * test/redis/tags.test.ts for tags): four cache instances, each with its own connections as four
 * processes would have (two of them behind 2–8 ms of reply latency per command), readers and
 * writers over versioned posts. A read is stale if it returns a post older than the version whose
 * invalidation had returned before the read started.
 */
import type { Cluster, Redis } from 'ioredis';
import type { DelayedClient } from './redis-clients.js';

/** A post as the tortured functions return it. */
export interface VersionedPost {
  readonly slug: string;
  readonly version: number;
}

/** What a torture run counted. */
export interface TortureCounts {
  reads: number;
  writes: number;
  stale: number;
}

/** The connections of a suite, closed by its `afterAll`. */
export interface Connections {
  readonly clients: (Redis | Cluster)[];
  readonly proxies: (() => Promise<void>)[];
}

/** Four clients: two direct, two behind delay proxies; recorded in `connections` for closing. */
export async function tortureClients(
  connect: () => Redis | Cluster,
  connectDelayed: (delayMs: () => number) => Promise<DelayedClient<Redis | Cluster>>,
  connections: Connections,
): Promise<(Redis | Cluster)[]> {
  const clients: (Redis | Cluster)[] = [];
  for (let i = 0; i < 4; i += 1) {
    if (i < 2) {
      clients.push(connect());
    } else {
      const delayed = await connectDelayed(() => 2 + Math.random() * 6);
      clients.push(delayed.client);
      connections.proxies.push(delayed.closeProxies);
    }
  }
  connections.clients.push(...clients);
  return clients;
}

/** The versions of `slugs`, and the version each must be seen at once its invalidation returned. */
export function versionBook(slugs: readonly string[]) {
  const versions = new Map(slugs.map((slug) => [slug, 0]));
  const invalidatedAt = new Map(slugs.map((slug) => [slug, 0]));
  return {
    /** The version of `slug` now. */
    current: (slug: string) => versions.get(slug) as number,
    /** Writes a new version of `slug`; answers it. */
    bump: (slug: string) => {
      const version = (versions.get(slug) as number) + 1;
      versions.set(slug, version);
      return version;
    },
    /** Records that the invalidation of `version` of `slug` returned. */
    invalidated: (slug: string, version: number) => {
      invalidatedAt.set(slug, Math.max(invalidatedAt.get(slug) as number, version));
    },
    /** What a read starting now must not be older than; `isStale` judges what it returned. */
    startRead: () => {
      const mustSee = new Map(invalidatedAt);
      return (got: readonly VersionedPost[]) =>
        got.some((post) => post.version < (mustSee.get(post.slug) as number));
    },
  };
}

/**
 * Runs `readers` reading and `writers` writing for `ms`; `read(i)` answers whether its read was
 * stale, `write(i)` does one write (and records its invalidation as returned).
 */
export async function runTorture(options: {
  readonly ms: number;
  readonly readers: number;
  readonly writers: number;
  readonly read: (i: number) => Promise<boolean>;
  readonly write: (i: number) => Promise<void>;
}): Promise<TortureCounts> {
  const counts: TortureCounts = { reads: 0, writes: 0, stale: 0 };
  const deadline = Date.now() + options.ms;
  const reader = async (i: number) => {
    while (Date.now() < deadline) {
      const stale = await options.read(i);
      counts.reads += 1;
      if (stale) counts.stale += 1;
    }
  };
  const writer = async (i: number) => {
    while (Date.now() < deadline) {
      await options.write(i);
      counts.writes += 1;
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 15)));
    }
  };
  await Promise.all([
    ...Array.from({ length: options.readers }, (_, i) => reader(i)),
    ...Array.from({ length: options.writers }, (_, i) => writer(i)),
  ]);
  return counts;
}
