import { createHash } from 'node:crypto';
import calculateSlot from 'cluster-key-slot';
// The ioredis package is needed at run time only for connections the store opens (`{ url }`,
// `{ redis }`); a client you pass in is used through the commands it has, whatever its copy.
import { type Cluster, Redis, type RedisOptions } from 'ioredis';
import { InvalidOptionError } from '../errors.js';
import { type CacheLogger, type Log, RepeatFilter, toLog } from '../util/logger.js';
import { levelOf, levelsOf } from './levels.js';
import type {
  AtomicStore,
  ChangeListener,
  IndexAnswer,
  IndexedStore,
  LeasingReadStore,
  LoggingStore,
  NotifyingStore,
  Store,
} from './store.js';

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
  // KEYS: an index (a sorted set); ARGV: member, ttl in ms. The member's score is when it may be
  // forgotten (Redis's clock, so app servers' clocks do not matter); GT only ever raises it.
  // Members past their score are pruned, and the index itself expires with its last member.
  track: `local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], 'GT', now + ttl, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`,
} as const;

const SHAS = {
  compareAndSet: createHash('sha1').update(SCRIPTS.compareAndSet).digest('hex'),
  compareAndDelete: createHash('sha1').update(SCRIPTS.compareAndDelete).digest('hex'),
  track: createHash('sha1').update(SCRIPTS.track).digest('hex'),
} as const;

/** Identical connection errors are logged once per this many ms. */
const REPEATED_ERROR_WINDOW_MS = 60_000;

/** Keys unlinked per UNLINK on a standalone server. */
const UNLINK_BATCH = 1000;

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

/** A pipeline as {@link RedisStore} uses it: UNLINKs queued, then sent in one round trip. */
export interface RedisPipeline {
  /** Queues an UNLINK of one key. */
  unlink(key: string): unknown;
  /** Sends the queued commands; one `[error, reply]` pair per command. */
  exec(): Promise<[error: Error | null, result: unknown][] | null>;
}

/**
 * The commands {@link RedisStore} sends through any client, standalone or Cluster. They are typed
 * as ioredis 5 and 6 declare them, so a client from any copy of ioredis fits.
 */
export interface RedisCommands {
  /** `GET key` */
  get(key: string): Promise<string | null>;
  /** `SET key value PX ms` */
  set(key: string, value: string, px: 'PX', ttlMs: number): Promise<unknown>;
  /** `SET key value PX ms NX`: `'OK'` if written, `null` if the key existed. */
  set(key: string, value: string, px: 'PX', ttlMs: number, nx: 'NX'): Promise<string | null>;
  /** `SET key value PX ms NX GET` (Redis 7): the old text, `null` if the key was absent (then written). */
  set(
    key: string,
    value: string,
    px: 'PX',
    ttlMs: number,
    nx: 'NX',
    get: 'GET',
  ): Promise<string | null>;
  /** `UNLINK key…`: the number of keys removed. */
  unlink(...keys: string[]): Promise<number>;
  /** `EVALSHA sha numkeys key… arg…` */
  evalsha(sha1: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  /** `EVAL script numkeys key… arg…` */
  eval(script: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  /** `ZSCAN key cursor MATCH pattern COUNT n`: the next cursor, then members and scores. */
  zscan(
    key: string,
    cursor: string,
    match: 'MATCH',
    pattern: string,
    count: 'COUNT',
    n: number,
  ): Promise<[cursor: string, membersAndScores: string[]]>;
}

/** A connection to one Redis server, such as an ioredis 5 or 6 `Redis`, or one Cluster node. */
export interface RedisServerClient extends RedisCommands {
  /** `CONFIG GET name`: `[name, value]`. */
  config(op: 'GET', name: string): Promise<unknown>;
  /** `SCAN cursor MATCH pattern COUNT n`: the next cursor and a batch of keys. */
  scan(
    cursor: string,
    match: 'MATCH',
    pattern: string,
    count: 'COUNT',
    n: number,
  ): Promise<[cursor: string, keys: string[]]>;
  /** A pipeline on this connection. */
  pipeline(): RedisPipeline;
}

/** A Redis Cluster client, such as an ioredis 5 or 6 `Cluster`. */
export interface RedisClusterClient extends RedisCommands {
  /** A connection to each master the client knows: a pattern delete scans every one of them. */
  nodes(role: 'master'): RedisServerClient[];
  /** `'ready'` once the client has learnt the cluster's slots. */
  readonly status: string;
  /** Per hash slot, the `host:port` of the nodes serving it, master first. */
  readonly slots: readonly (readonly string[] | undefined)[];
  /** Listens once to a client event (`'ready'`, `'end'`). */
  once(event: string, listener: () => void): unknown;
}

/**
 * A client {@link RedisStore} accepts: any ioredis 5 or 6 `Redis` or `Cluster`, from whichever
 * copy of ioredis your app loads. A Cluster is recognised by its `nodes` method.
 */
export type RedisClient = RedisServerClient | RedisClusterClient;

/**
 * How a {@link RedisStore} gets its connection. `C` is the type of the client you pass in; a
 * connection the store opens is an ioredis `Redis`.
 */
export type RedisStoreOptions<C extends RedisClient = Redis | Cluster> =
  | {
      /**
       * Your own ioredis `Redis` or `Cluster` client (ioredis 5 or 6). The store never closes it;
       * a connection dedicated to the cache is best, since other options or blocking commands on
       * a shared connection affect the cache too.
       */
      client: C;
    }
  // Only a store whose client type is ioredis's `Redis` can open its own connection, so that
  // `client` is never typed as something the store did not make.
  | (Redis extends C ? OwnedConnectionOptions : never);

/** Options of a connection the store opens: `{ url, redis? }` or `{ redis }`. */
type OwnedConnectionOptions =
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
  /**
   * The key index, which makes a pattern delete cost what it matches instead of a walk of the
   * keyspace. It lives in Redis as sorted sets beside the entries, so Redis must never evict it:
   * `'auto'` reads `maxmemory` and `maxmemory-policy` once and keeps the index only when Redis
   * cannot evict (no `maxmemory`, or `noeviction`); `true` keeps it (you vouch that Redis never
   * evicts); `false` always scans.
   * @default 'auto'
   */
  index?: 'auto' | boolean | undefined;
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
export class RedisStore<C extends RedisClient = Redis | Cluster>
  implements Store, AtomicStore, LeasingReadStore, IndexedStore, NotifyingStore, LoggingStore
{
  /** Always answers with promises (so caches on it have promise-typed results). */
  readonly sync = false;
  /** The client in use: yours, or the ioredis `Redis` the store opened. */
  readonly client: C;
  /** The connection the store opened, which `close()` ends; none for a client passed in. */
  readonly #owned: Redis | undefined;
  readonly #scanCount: number;
  readonly #indexSetting: 'auto' | boolean;
  /** Whether the index is kept: `undefined`, or why not; settled once, then for good. */
  #indexVerdict: Promise<string | undefined> | undefined;
  /** Why the index was given up for good after it was in use (a user without scripts). */
  #indexRefused: string | undefined;
  /** Set once the server rejected `SET … NX GET` (Redis before 7): then two commands do it. */
  #noSetNxGet = false;
  /** Where errors of the connections the store opened go: the first cache's logger. */
  #log: Log | undefined;
  readonly #repeats = new RepeatFilter(REPEATED_ERROR_WINDOW_MS);

  constructor(options: RedisStoreOptions<C> & RedisStoreTuning) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError(
        'options',
        'RedisStore needs `{ client }` (an ioredis Redis or Cluster), `{ url }` or `{ redis }` options',
      );
    }
    const scanCount = options.scanCount ?? 1000;
    if (!Number.isInteger(scanCount) || scanCount < 1) {
      throw new InvalidOptionError(
        'scanCount',
        `\`scanCount\` must be a positive integer, got ${scanCount}`,
      );
    }
    this.#scanCount = scanCount;
    const index = options.index ?? 'auto';
    if (index !== 'auto' && typeof index !== 'boolean') {
      throw new InvalidOptionError(
        'index',
        `\`index\` must be 'auto', true or false, got ${JSON.stringify(index)}`,
      );
    }
    this.#indexSetting = index;
    if ('client' in options) {
      checkClient(options.client);
      refuseKeyPrefix(options.client);
      this.client = options.client;
      this.#owned = undefined;
      return;
    }
    const owned =
      'url' in options
        ? new Redis(options.url, { ...OWNED_DEFAULTS, ...options.redis })
        : new Redis({ ...OWNED_DEFAULTS, ...options.redis });
    owned.on('error', (error: unknown) =>
      this.#connectionError('the connection the store opened', owned, error),
    );
    try {
      // Checked on the client, not the options: ioredis also reads options from the URL.
      refuseKeyPrefix(owned);
    } catch (error) {
      owned.disconnect();
      throw error;
    }
    this.#owned = owned;
    // Only reachable when `Redis extends C` (see RedisStoreOptions), so this is the client's type.
    this.client = owned as unknown as C;
  }

  /**
   * Takes the logger of the first cache made on this store, for errors of the connections the
   * store opened (until then, `console`).
   */
  useLogger(logger: CacheLogger): void {
    this.#log ??= toLog(logger);
  }

  /**
   * An error of a connection the store opened, usually a failed reconnection attempt: logged
   * (never ioredis's "Unhandled error event"), identical ones once a minute. ioredis reconnects
   * by itself; the cache treats failed calls meanwhile as misses.
   */
  #connectionError(what: string, connection: Redis, error: unknown): void {
    const { host, port } = connection.options;
    const message = error instanceof Error ? error.message : String(error);
    const held = this.#repeats.pass(`${what} ${host}:${port} ${message}`);
    if (held === undefined) return;
    (this.#log ?? toLog(console)).warn(
      `[Cache] REDIS: ${what} (${host}:${port}) failed: ${message}; ioredis reconnects by itself (identical errors are logged once a minute${held > 0 ? `; ${held} more since the last` : ''})`,
      error,
    );
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
    const client: RedisClient = this.client;
    if (isCluster(client)) {
      const masters = await mastersOf(client);
      const removed = await Promise.all(
        masters.map((node) => this.#deleteOnNode(node, pattern, true)),
      );
      return removed.reduce((sum, n) => sum + n, 0);
    }
    return this.#deleteOnNode(client, pattern, false);
  }

  /**
   * The text under `key`; when absent, writes `lease` for `ttlMs` and answers `null`, in one
   * command (`SET key lease NX GET PX ttl`). On a server before Redis 7, which rejects `NX`
   * with `GET`, a `GET` then a `SET NX` do the same in two round trips.
   */
  async getOrLease(key: string, lease: string, ttlMs: number): Promise<string | null> {
    if (!this.#noSetNxGet) {
      try {
        return await this.client.set(key, lease, 'PX', wholeMs(ttlMs), 'NX', 'GET');
      } catch (error) {
        if (!(error instanceof Error && /syntax error/i.test(error.message))) throw error;
        this.#noSetNxGet = true;
      }
    }
    // Between the two, another client may write the key and delete it again: ask again, a few times.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const found = await this.client.get(key);
      if (found !== null) return found;
      if (await this.setIfAbsent(key, lease, ttlMs)) return null;
    }
    throw new Error(`${key} kept changing between GET and SET NX; read it again`);
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

  /**
   * Records `key` under each level of the index (see levels.ts), all at once: one round trip,
   * whatever the Cluster slots of the index keys. A no-op when the index is not kept.
   */
  async track(key: string, ttlMs: number): Promise<void> {
    if ((await this.#indexUnkept()) !== undefined) return;
    const ttl = String(wholeMs(ttlMs));
    try {
      await Promise.all(
        levelsOf(key).map((level) =>
          this.#script('track', indexKeyOf(level), key.slice(level.length), ttl),
        ),
      );
    } catch (error) {
      // A user that may not run scripts cannot keep the index: from now on there is none, and
      // pattern deletes scan (nothing was ever tracked, since no track could succeed).
      if (!(error instanceof Error && error.message.startsWith('NOPERM'))) throw error;
      this.#indexRefused = `the Redis user may not run the index's script (${error.message}); grant EVALSHA and EVAL (+@scripting)`;
    }
  }

  /**
   * Deletes the keys of one index level that match `pattern`: the index's own `ZSCAN … MATCH`
   * filters on the server, so only matches travel; then they are unlinked. Members of deleted
   * keys are left for the index's pruning: removing them here could remove one that a new lease
   * has just tracked again, and a later invalidation would miss that key.
   */
  async deleteTracked(pattern: string): Promise<IndexAnswer> {
    const keys = new Set<string>();
    const unanswered = await this.#tracked(pattern, (page) => {
      for (const key of page) keys.add(key);
    });
    return unanswered ?? { removed: await this.#unlinkAll([...keys]) };
  }

  /**
   * @internal For the command line: finds the keys an invalidation of `pattern` looks at, the
   * way `deleteTracked` and then `deletePattern` find them, and deletes nothing. `found` gets each
   * batch: index members (which may name keys deleted since: they are pruned later), or one SCAN
   * reply per call on each master (a key may come twice). Says whether the index answered.
   */
  async findKeys(
    pattern: string,
    found: (keys: readonly string[]) => void,
  ): Promise<{ readonly from: 'index' } | { readonly from: 'scan'; readonly reason: string }> {
    const unanswered = await this.#tracked(pattern, found);
    if (unanswered === undefined) return { from: 'index' };
    await this.scanKeys(pattern, found);
    return { from: 'scan', reason: unanswered.unanswered };
  }

  /**
   * @internal For the command line: walks the keys matching `pattern` with SCAN on every master
   * (all masters at once), calling `found` with each reply, once per SCAN call (a key may come
   * twice).
   */
  async scanKeys(pattern: string, found: (keys: readonly string[]) => void): Promise<void> {
    const client: RedisClient = this.client;
    const servers = isCluster(client) ? await mastersOf(client) : [client];
    await Promise.all(
      servers.map(async (server) => {
        for await (const keys of this.#scan(server, pattern)) found(keys);
      }),
    );
  }

  /**
   * Passes the keys of one index level that match `pattern` to `found`, page by page: the
   * index's own `ZSCAN … MATCH` filters on the server, so only matches travel. Answers why not
   * when the index cannot answer the pattern.
   */
  async #tracked(
    pattern: string,
    found: (keys: string[]) => void,
  ): Promise<Exclude<IndexAnswer, { readonly removed: number }> | undefined> {
    const unkept = await this.#indexUnkept();
    if (unkept !== undefined) return { unanswered: unkept, disabled: true };
    const level = levelOf(pattern);
    if (level === undefined) {
      return {
        unanswered:
          'the pattern has a wildcard right after the prefix, so no index level holds its keys',
      };
    }
    const index = indexKeyOf(level);
    // Stars alone match every member, the empty one (the key equal to its level) included; ZSCAN
    // treats only a single `*` that way (`**` skips an empty member), so send that.
    const rest = pattern.slice(level.length);
    const memberPattern = /^\*+$/.test(rest) ? '*' : rest;
    let cursor = '0';
    do {
      const [next, page] = await this.client.zscan(
        index,
        cursor,
        'MATCH',
        memberPattern,
        'COUNT',
        this.#scanCount,
      );
      cursor = next;
      const keys: string[] = [];
      for (let i = 0; i < page.length; i += 2) keys.push(level + (page[i] as string));
      found(keys);
    } while (cursor !== '0');
    return undefined;
  }

  /**
   * Unlinks keys: in batches on a server; on a Cluster, grouped by the master that owns each key's
   * slot and sent as one pipeline of single-key UNLINKs per master (a multi-key UNLINK across
   * slots fails with CROSSSLOT, and one command per key through the Cluster client is one write
   * per key).
   */
  async #unlinkAll(keys: string[]): Promise<number> {
    const client: RedisClient = this.client;
    if (isCluster(client)) {
      const byMaster = new Map<RedisServerClient, RedisPipeline>();
      const { owner } = await slotTable(client);
      for (const key of keys) {
        const node = owner(key);
        let pipeline = byMaster.get(node);
        if (pipeline === undefined) {
          pipeline = node.pipeline();
          byMaster.set(node, pipeline);
        }
        pipeline.unlink(key);
      }
      const replies = await Promise.all([...byMaster.values()].map((pipeline) => pipeline.exec()));
      let removed = 0;
      for (const [error, count] of replies.flatMap((reply) => reply ?? [])) {
        if (error) throw error;
        removed += count as number;
      }
      return removed;
    }
    let removed = 0;
    for (let i = 0; i < keys.length; i += UNLINK_BATCH) {
      removed += await client.unlink(...keys.slice(i, i + UNLINK_BATCH));
    }
    return removed;
  }

  /** Why the index is not kept, or `undefined` when it is; asks Redis once when `'auto'`. */
  #indexUnkept(): Promise<string | undefined> {
    if (this.#indexRefused !== undefined) return Promise.resolve(this.#indexRefused);
    if (this.#indexSetting !== 'auto') {
      return Promise.resolve(
        this.#indexSetting ? undefined : 'the store was made with index: false',
      );
    }
    this.#indexVerdict ??= this.#readEvictionPolicy().catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      // Not allowed to ask (ACL, managed Redis): decided for good. Anything else (Redis down):
      // asked again next time, and until then nothing is tracked nor answered from the index.
      if (/^(NOPERM|ERR unknown command)/.test(message)) {
        return `could not read Redis's eviction policy (${message}); pass index: true to RedisStore if Redis never evicts keys`;
      }
      this.#indexVerdict = undefined;
      throw error;
    });
    return this.#indexVerdict;
  }

  /** `undefined` when no server can evict keys; else why the index cannot be trusted. */
  async #readEvictionPolicy(): Promise<string | undefined> {
    const client: RedisClient = this.client;
    const servers = isCluster(client) ? await mastersOf(client) : [client];
    for (const server of servers) {
      const [, maxmemory] = (await server.config('GET', 'maxmemory')) as [string, string];
      const [, policy] = (await server.config('GET', 'maxmemory-policy')) as [string, string];
      if (maxmemory !== '0' && policy !== 'noeviction') {
        return `Redis may evict keys (maxmemory ${maxmemory}, maxmemory-policy ${policy}), and an evicted index would lose invalidations; pattern deletes scan instead (run the cache's Redis with noeviction, or pass index: true if it never evicts)`;
      }
    }
    return undefined;
  }

  /**
   * Reports every change of a key starting with `prefix`, through Redis's server-assisted
   * client-side caching in broadcasting mode: one connection of its own per server (each master
   * of a Cluster), opened with RESP2, that enables `CLIENT TRACKING on REDIRECT <itself> BCAST
   * PREFIX <prefix>` and subscribes to `__redis__:invalidate`. Your client is left untouched.
   * Tracking belongs to a connection, so after any reconnect it is set up anew, and the listener
   * hears `lost` at the drop and `ready` once every server reports again. Resolves once every
   * server reports; the returned function closes those connections.
   */
  async watch(prefix: string, listener: ChangeListener): Promise<() => Promise<void>> {
    const client: RedisClient = this.client;
    const servers = isCluster(client)
      ? (await mastersOf(client)).map((node) => connectionOptionsOf(node))
      : [connectionOptionsOf(client)];
    const ready = new Set<number>();
    const connections = servers.map((options, index) =>
      watchServer(
        options,
        prefix,
        (connection, error) =>
          this.#connectionError("the in-process tier's tracking connection", connection, error),
        {
          changed: (keys) => listener.changed(keys),
          ready: () => {
            ready.add(index);
            if (ready.size === servers.length) listener.ready();
          },
          lost: () => {
            const wasReady = ready.size === servers.length;
            ready.delete(index);
            if (wasReady) listener.lost();
          },
        },
      ),
    );
    return async () => {
      await Promise.all(connections.map((connection) => connection.quit().catch(() => undefined)));
    };
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
    await this.#owned?.quit();
  }

  /**
   * Scans one server and unlinks each batch as it comes. SCAN may return a key twice; UNLINK
   * counts only keys it actually removed, so the total is exact. On a Cluster node, keys of one
   * batch live in different slots, and a multi-key UNLINK across slots fails with CROSSSLOT: they
   * are unlinked one by one, in one pipeline per batch.
   */
  async #deleteOnNode(node: RedisServerClient, pattern: string, perKey: boolean): Promise<number> {
    let removed = 0;
    for await (const keys of this.#scan(node, pattern)) {
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
    }
    return removed;
  }

  /**
   * Walks one server with `SCAN MATCH pattern COUNT scanCount`, yielding each reply (empty ones
   * too), never `KEYS`, which blocks every other client for the whole walk.
   */
  async *#scan(node: RedisServerClient, pattern: string): AsyncGenerator<string[]> {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', this.#scanCount);
      cursor = next;
      yield keys;
    } while (cursor !== '0');
  }
}

/**
 * A connection to every master of the cluster, checked against the slot table: right after
 * `new Cluster()` the client knows only its seeds (or nothing, for hostname seeds), and scanning
 * those would skip keys while reporting success.
 */
async function mastersOf(client: RedisClusterClient): Promise<RedisServerClient[]> {
  return (await slotTable(client)).masters;
}

/**
 * The cluster's masters and which of them owns a key. Waits for the client to learn the slots,
 * then throws unless every one of the 16,384 slots has a master it holds a connection to.
 */
async function slotTable(client: RedisClusterClient): Promise<{
  masters: RedisServerClient[];
  owner: (key: string) => RedisServerClient;
}> {
  if (client.status !== 'ready') await readiness(client);
  const byAddress = new Map<string, RedisServerClient>();
  for (const node of client.nodes('master')) {
    const { host, port } = (node as { options?: { host?: string; port?: number } }).options ?? {};
    byAddress.set(`${host}:${port}`, node);
  }
  const bySlot = new Array<RedisServerClient>(SLOTS);
  for (let slot = 0; slot < SLOTS; slot += 1) {
    const address = client.slots[slot]?.[0];
    const node = address === undefined ? undefined : byAddress.get(address);
    if (node === undefined) {
      throw new Error(
        `the Cluster client has no master for hash slot ${slot}${address === undefined ? '' : ` (${address})`}; a pattern delete would miss keys, so it fails and is retried`,
      );
    }
    bySlot[slot] = node;
  }
  return {
    masters: [...new Set(bySlot)],
    owner: (key) => bySlot[calculateSlot(key)] as RedisServerClient,
  };
}

/** Each Cluster client's wait for its slot table, shared by every caller while it lasts. */
const readinessOf = new WeakMap<RedisClusterClient, Promise<void>>();

/**
 * Resolves once the client is ready, rejects if its connection ends. One pair of listeners per
 * client, removed once settled: callers that give up (the cache abandons an attempt after
 * `invalidationTimeout`) must not leave listeners behind on a Cluster that stays unreachable.
 */
function readiness(client: RedisClusterClient): Promise<void> {
  let waiting = readinessOf.get(client);
  if (waiting === undefined) {
    const events = client as RedisClusterClient & {
      off?(event: string, listener: () => void): unknown;
    };
    waiting = new Promise<void>((resolve, reject) => {
      const ready = () => {
        events.off?.('end', ended);
        resolve();
      };
      const ended = () => {
        events.off?.('ready', ready);
        reject(new Error('the Cluster connection ended'));
      };
      client.once('ready', ready);
      client.once('end', ended);
    }).finally(() => readinessOf.delete(client));
    readinessOf.set(client, waiting);
  }
  return waiting;
}

/** The connection options of a client or Cluster node, for a connection of the store's own. */
function connectionOptionsOf(client: RedisServerClient): ConnectionOptions {
  const options = (client as { options?: ConnectionOptions }).options ?? {};
  // Replies in their default shapes, and keys as they are.
  const {
    keyPrefix: _prefix,
    replyMapping: _mapping,
    ...rest
  } = options as ConnectionOptions & {
    replyMapping?: unknown;
  };
  return rest;
}

/**
 * One server's tracking connection: RESP2 (ioredis 6 speaks RESP3 by default, and drops RESP3
 * invalidation pushes), tracking redirected to itself, subscribed to the invalidation channel.
 * Set up again after every reconnect, since tracking belongs to the connection. Its errors go to
 * `onError`.
 */
function watchServer(
  options: ConnectionOptions,
  prefix: string,
  onError: (connection: Redis, error: unknown) => void,
  listener: ChangeListener,
): Redis {
  const connection = new Redis({
    ...options,
    protocol: 2,
    autoResubscribe: false,
    // A Cluster's node connections are lazy and leave reconnecting to the Cluster; this one
    // connects now, and reconnects on its own.
    lazyConnect: false,
    retryStrategy: (attempt: number) => Math.min(attempt * 50, 2000),
    // Named, so that CLIENT LIST shows what it is.
    connectionName: 'quickpost-cache:l1',
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
  } as ConnectionOptions);
  const setUp = async () => {
    const id = await connection.client('ID');
    await connection.call(
      'CLIENT',
      'TRACKING',
      'ON',
      'REDIRECT',
      String(id),
      'BCAST',
      'PREFIX',
      prefix,
    );
    await connection.subscribe(INVALIDATE);
    listener.ready();
  };
  connection.on('ready', () => {
    setUp().catch(() => connection.disconnect(true));
  });
  connection.on('close', () => listener.lost());
  connection.on('messageBuffer', (channel: Buffer, message: unknown) => {
    if (channel.toString() !== INVALIDATE) return;
    listener.changed(Array.isArray(message) ? message.map((key) => String(key)) : null);
  });
  // Reconnection is ioredis's job (`close` has told the listener that notifications may be
  // missing); its errors are logged, so that a tracking connection that cannot come back says why.
  connection.on('error', (error: unknown) => onError(connection, error));
  return connection;
}

/** The channel Redis sends tracking invalidations to, in RESP2. */
const INVALIDATE = '__redis__:invalidate';

/** Hash slots of a Redis Cluster. */
const SLOTS = 16_384;

/** The Redis key of an index level: apart from the cache's keys (`|` is never in a prefix). */
function indexKeyOf(level: string): string {
  const first = level.indexOf(':');
  return `${level.slice(0, first)}|index|${level.slice(first + 1)}`;
}

/**
 * A Cluster is told apart by what it can do (`nodes`, which a standalone client lacks), not by
 * `instanceof`: a client made by another copy of ioredis (another version beside ours, ioredis 5)
 * is an instance of that copy's classes, never of ours.
 */
function isCluster(client: RedisClient): client is RedisClusterClient {
  return typeof (client as Partial<RedisClusterClient>).nodes === 'function';
}

/** The methods each kind of client must have for the store to work. */
const COMMANDS = ['get', 'set', 'unlink', 'evalsha', 'eval', 'zscan'] as const;
const SERVER_METHODS = [...COMMANDS, 'scan', 'pipeline', 'config'] as const;
const CLUSTER_METHODS = [...COMMANDS, 'nodes', 'once'] as const;

/** Refuses, when the store is made, a client that lacks a command the store will send. */
function checkClient(client: unknown): asserts client is RedisClient {
  if (typeof client !== 'object' || client === null) {
    throw new InvalidOptionError(
      'client',
      `\`client\` must be an ioredis Redis or Cluster client (ioredis 5 or 6), got ${client === null ? 'null' : typeof client}`,
    );
  }
  const methods = client as Record<string, unknown>;
  const cluster = typeof methods.nodes === 'function';
  const missing = (cluster ? CLUSTER_METHODS : SERVER_METHODS).filter(
    (name) => typeof methods[name] !== 'function',
  );
  if (missing.length > 0) {
    throw new InvalidOptionError(
      'client',
      `\`client\` must be an ioredis Redis or Cluster client (ioredis 5 or 6); this ${cluster ? 'Cluster-like ' : ''}object has no ${missing.map((name) => `\`${name}()\``).join(', ')}`,
    );
  }
}

/**
 * ioredis applies `keyPrefix` to keys of ordinary commands but not to SCAN patterns, while SCAN
 * replies include it: pattern deletes would silently remove nothing. The cache's own `prefix`
 * does that job instead.
 */
function refuseKeyPrefix(client: RedisClient): void {
  // ioredis 5 and 6 keep their options on `options`: a Cluster's own `keyPrefix`, or the one in
  // the `redisOptions` it gives every node connection.
  const { options } = client as {
    options?: { keyPrefix?: unknown; redisOptions?: { keyPrefix?: unknown } };
  };
  const keyPrefix = options?.keyPrefix || options?.redisOptions?.keyPrefix;
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
