import { createHash } from 'node:crypto';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { InvalidOptionError } from '../errors.js';
import type { AtomicStore, Store } from './store.js';

/**
 * Lua scripts of the conditional writes. Each touches exactly one key, passed in KEYS, so it runs
 * on the node owning that key's slot in a Cluster; data travels in ARGV, never in the script text.
 * A script runs atomically: no other command can slip between its GET and its SET or DEL.
 */
const SCRIPTS = {
  // ARGV: expected, value, ttl in ms ('' keeps the remaining TTL)
  compareAndSet: `if redis.call('GET', KEYS[1]) == ARGV[1] then
  if ARGV[3] == '' then redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
  return 1
end
return 0`,
  // ARGV: expected
  compareAndDelete: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('UNLINK', KEYS[1]) end
return 0`,
} as const;

const SHAS = {
  compareAndSet: createHash('sha1').update(SCRIPTS.compareAndSet).digest('hex'),
  compareAndDelete: createHash('sha1').update(SCRIPTS.compareAndDelete).digest('hex'),
} as const;

/**
 * Defaults of a connection the store opens (your `redis` options override them):
 * `maxRetriesPerRequest: 1` fails commands queued while Redis is unreachable after the second
 * reconnection attempt instead of the 21st (about a minute), so few abandoned commands replay when
 * it returns. The cache bounds every call by its own `timeout` either way.
 */
const OWNED_DEFAULTS = { maxRetriesPerRequest: 1 } as const;

/**
 * ioredis options for a connection the store opens. `replyMapping` is left out: the store reads
 * replies in ioredis's default (legacy) shapes.
 */
export type ConnectionOptions = Omit<RedisOptions, 'replyMapping'>;

/** How a {@link RedisStore} gets its connection. */
export type RedisStoreOptions =
  | {
      /**
       * Your own ioredis `Redis` or `Cluster` client. The store never closes it; a connection
       * dedicated to the cache is best, since other options or blocking commands on a shared
       * connection affect the cache too.
       */
      client: Redis | Cluster;
    }
  | {
      /** A `redis://` URL; the store opens the connection and `close()` ends it. */
      url: string;
      /** Further ioredis options for that connection. */
      redis?: ConnectionOptions | undefined;
    }
  | {
      /** ioredis options; the store opens the connection and `close()` ends it. */
      redis: ConnectionOptions;
    };

/** Tuning of pattern deletes. */
export interface RedisStoreTuning {
  /**
   * The `COUNT` hint of each `SCAN` call: keys examined per call. Larger is fewer round trips,
   * smaller is shorter pauses for other clients.
   * @default 1000
   */
  scanCount?: number | undefined;
}

/**
 * A store on Redis or Redis Cluster through ioredis.
 *
 * - `set` is one `SET key value PX ttl`: the value and its expiry are written atomically.
 * - `delete` is `UNLINK`, which frees memory in a background thread instead of blocking Redis.
 * - `deletePattern` walks the keyspace with `SCAN MATCH … COUNT` (never `KEYS`, which blocks
 *   every other client for the whole walk) and unlinks what each step returns; on a Cluster it
 *   scans every master, since a Cluster client's own scan reaches one node only.
 *
 * Entries are plain strings: `redis-cli GET quickpost:posts:my-post` shows the JSON behind a
 * short header.
 */
export class RedisStore implements Store, AtomicStore {
  /** The ioredis client in use. */
  readonly client: Redis | Cluster;
  readonly #owned: boolean;
  readonly #scanCount: number;

  constructor(options: RedisStoreOptions & RedisStoreTuning) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError(
        'options',
        'RedisStore needs `{ client }` (an ioredis Redis or Cluster), `{ url }` or `{ redis }` options',
      );
    }
    if ('client' in options) {
      if (!(options.client instanceof Redis || options.client instanceof Cluster)) {
        throw new InvalidOptionError(
          'client',
          '`client` must be an ioredis Redis or Cluster instance',
        );
      }
      this.client = options.client;
      this.#owned = false;
    } else if ('url' in options) {
      this.client = new Redis(options.url, { ...OWNED_DEFAULTS, ...options.redis });
      this.#owned = true;
    } else {
      this.client = new Redis({ ...OWNED_DEFAULTS, ...options.redis });
      this.#owned = true;
    }
    refuseKeyPrefix(this.client);
    this.#scanCount = options.scanCount ?? 1000;
    if (!Number.isInteger(this.#scanCount) || this.#scanCount < 1) {
      throw new InvalidOptionError(
        'scanCount',
        `\`scanCount\` must be a positive integer, got ${this.#scanCount}`,
      );
    }
  }

  get(key: string): Promise<string | null> {
    return this.client.get(key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.client.set(key, value, 'PX', wholeMs(ttlMs));
  }

  async delete(key: string): Promise<boolean> {
    return (await this.client.unlink(key)) > 0;
  }

  async deletePattern(pattern: string): Promise<number> {
    if (this.client instanceof Cluster) {
      const removed = await Promise.all(
        this.client.nodes('master').map((node) => this.#deleteOnNode(node, pattern, true)),
      );
      return removed.reduce((sum, n) => sum + n, 0);
    }
    return this.#deleteOnNode(this.client, pattern, false);
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return (await this.client.set(key, value, 'PX', wholeMs(ttlMs), 'NX')) === 'OK';
  }

  async compareAndSet(
    key: string,
    expected: string,
    value: string,
    ttlMs: number | undefined,
  ): Promise<boolean> {
    const ttl = ttlMs === undefined ? '' : String(wholeMs(ttlMs));
    return (await this.#script('compareAndSet', key, expected, value, ttl)) === 1;
  }

  async compareAndDelete(key: string, expected: string): Promise<boolean> {
    return (await this.#script('compareAndDelete', key, expected)) === 1;
  }

  /** EVALSHA, loading the script with EVAL the first time a server has not seen it. */
  async #script(name: keyof typeof SCRIPTS, key: string, ...args: string[]): Promise<unknown> {
    try {
      return await this.client.evalsha(SHAS[name], 1, key, ...args);
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return this.client.eval(SCRIPTS[name], 1, key, ...args);
    }
  }

  /** Closes the connection if the store opened it; a client you passed in stays open. */
  async close(): Promise<void> {
    if (this.#owned) await this.client.quit();
  }

  /**
   * Scans one server and unlinks each batch as it comes. SCAN may return a key twice; UNLINK
   * counts only keys it actually removed, so the total is exact. On a Cluster node, keys of one
   * batch live in different slots, and a multi-key UNLINK across slots fails with CROSSSLOT: they
   * are unlinked one by one, in one pipeline per batch.
   */
  async #deleteOnNode(node: Redis, pattern: string, perKey: boolean): Promise<number> {
    let removed = 0;
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', this.#scanCount);
      cursor = next;
      if (keys.length === 0) continue;
      if (!perKey) {
        removed += await node.unlink(...keys);
        continue;
      }
      const pipeline = node.pipeline();
      for (const key of keys) pipeline.unlink(key);
      for (const [error, count] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        removed += count as number;
      }
    } while (cursor !== '0');
    return removed;
  }
}

/**
 * ioredis applies `keyPrefix` to keys of ordinary commands but not to SCAN patterns, while SCAN
 * replies include it: pattern deletes would silently remove nothing. The cache's own `prefix`
 * does that job instead.
 */
function refuseKeyPrefix(client: Redis | Cluster): void {
  const options = client.options as { keyPrefix?: string; redisOptions?: { keyPrefix?: string } };
  const keyPrefix = options.keyPrefix || options.redisOptions?.keyPrefix;
  if (keyPrefix) {
    throw new InvalidOptionError(
      'client',
      `the ioredis client has \`keyPrefix: '${keyPrefix}'\`, which SCAN ignores, so pattern deletes would miss every key; remove it and use the cache's \`prefix\` option instead`,
    );
  }
}

/** PX takes whole milliseconds, at least 1. */
function wholeMs(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}
