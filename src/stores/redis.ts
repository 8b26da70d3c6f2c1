// The ioredis package is needed at run time only for connections the store opens (`{ url }`,
// `{ redis }`) and the tracking connections; a client you pass in is used through the commands
// it has, whatever its copy.
import { type Cluster, Redis, type RedisOptions } from 'ioredis';
import { InvalidOptionError } from '../errors.js';
import type {
  DriverBatch,
  RedisDriver,
  ScriptKeys,
  ServerDriver,
  Topology,
  TrackingLink,
} from './redis-base/driver.js';
import { type ClientMethods, checkMethods } from './redis-base/methods.js';
import { type ClientKind, RedisBaseStore, type RedisStoreTuning } from './redis-base/store.js';
import { TRACKING_CONNECTION_NAME } from './redis-base/tracking.js';

export type { RedisStoreTuning };

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
  /**
   * The connection's socket (every ioredis client has one once it connects): the store's batches
   * cork it while they send their commands, so that they go out in one write.
   */
  readonly stream?: Corkable | undefined;
}

/** A socket that can hold its writes back and send them together, as Node's sockets can. */
export interface Corkable {
  /** Holds writes back from now on. */
  cork(): void;
  /** Sends the writes held back, in one write to the operating system. */
  uncork(): void;
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
export class RedisStore<C extends RedisClient = Redis | Cluster> extends RedisBaseStore<C> {
  constructor(options: RedisStoreOptions<C> & RedisStoreTuning) {
    super(options, IOREDIS);
  }
}

/** How RedisStore takes its client. */
const IOREDIS: ClientKind<RedisClient, Redis> = {
  name: 'RedisStore',
  library: 'ioredis',
  accepts: '`{ client }` (an ioredis Redis or Cluster), `{ url }` or `{ redis }`',
  accept: acceptClient,
  open: openConnection,
  close: (owned) => owned.quit(),
  driver: (client) => new IoredisDriver(client),
};

/** The ioredis connection of `{ url, redis? }` or `{ redis }` options; its errors go to `onError`. */
function openConnection(
  options: object,
  onError: (address: string, error: unknown) => void,
): Redis {
  const { url, redis } = options as { url?: string; redis?: ConnectionOptions };
  const owned =
    url === undefined
      ? new Redis({ ...OWNED_DEFAULTS, ...redis })
      : new Redis(url, { ...OWNED_DEFAULTS, ...redis });
  // Without a listener, ioredis prints "Unhandled error event" at every failed reconnection.
  owned.on('error', (error: unknown) => onError(addressOf(owned), error));
  try {
    // Checked on the client, not the options: ioredis also reads options from the URL.
    refuseKeyPrefix(owned);
  } catch (error) {
    owned.disconnect();
    throw error;
  }
  return owned;
}

/** The store's commands on an ioredis client, standalone or Cluster. */
class IoredisDriver implements RedisDriver {
  readonly #client: RedisClient;
  readonly cluster: boolean;

  constructor(client: RedisClient) {
    this.#client = client;
    this.cluster = isCluster(client);
  }

  get(key: string): Promise<string | null> {
    return this.#client.get(key);
  }

  set(key: string, value: string, ttlMs: number): Promise<unknown> {
    return this.#client.set(key, value, 'PX', ttlMs);
  }

  setNx(key: string, value: string, ttlMs: number): Promise<unknown> {
    return this.#client.set(key, value, 'PX', ttlMs, 'NX');
  }

  setNxGet(key: string, value: string, ttlMs: number): Promise<string | null> {
    return this.#client.set(key, value, 'PX', ttlMs, 'NX', 'GET');
  }

  unlink(key: string): Promise<number> {
    return this.#client.unlink(key);
  }

  evalsha(sha1: string, keys: ScriptKeys, args: readonly string[]): Promise<unknown> {
    if (typeof keys === 'string') return this.#client.evalsha(sha1, 1, keys, ...args);
    return this.#client.evalsha(sha1, keys.length, ...keys, ...args);
  }

  eval(script: string, keys: ScriptKeys, args: readonly string[]): Promise<unknown> {
    if (typeof keys === 'string') return this.#client.eval(script, 1, keys, ...args);
    return this.#client.eval(script, keys.length, ...keys, ...args);
  }

  zscan(
    key: string,
    cursor: string,
    pattern: string,
    count: number,
  ): Promise<[cursor: string, membersAndScores: string[]]> {
    return this.#client.zscan(key, cursor, 'MATCH', pattern, 'COUNT', count);
  }

  /**
   * Commands sent while the client's sockets are corked (Node's `socket.cork()`; on a Cluster,
   * the socket of each master), uncorked by `send`: each command goes out as any other, with its
   * own promise and timeout, routed by ioredis to the master of its key's slot, and Node writes
   * everything a socket held in one `writev`. (An ioredis pipeline gives the same one write per
   * server with more work per batch, and its objects outlive the young generation.) A socket
   * that is not connected yet holds nothing back: ioredis queues the commands until it is.
   */
  batch(): DriverBatch {
    const client = this.#client;
    const nodes = isCluster(client) ? client.nodes('master') : [client];
    const sockets: Corkable[] = [];
    for (const node of nodes) {
      if (node.stream !== undefined) sockets.push(node.stream);
    }
    for (const socket of sockets) socket.cork();
    return {
      get: (key) => this.get(key),
      setNxGet: (key, value, ttlMs) => this.setNxGet(key, value, ttlMs),
      evalsha: (sha1, keys, args) => this.evalsha(sha1, keys, args),
      eval: (script, keys, args) => this.eval(script, keys, args),
      send: () => {
        for (const socket of sockets) socket.uncork();
      },
    };
  }

  /**
   * A standalone client is its own server. A Cluster client is first given time to learn the
   * slots (`ready`); its masters are then told by the `host:port` its slot table names.
   */
  async topology(): Promise<Topology> {
    const client = this.#client;
    if (!isCluster(client)) return { server: new IoredisServer(client) };
    if (client.status !== 'ready') await readiness(client);
    const byAddress = new Map<string, IoredisServer>();
    for (const node of client.nodes('master'))
      byAddress.set(addressOf(node), new IoredisServer(node));
    return {
      masterOf: (slot) => {
        const address = client.slots[slot]?.[0];
        return { node: address === undefined ? undefined : byAddress.get(address), address };
      },
    };
  }
}

/** One server through ioredis: the standalone client, or a Cluster's connection to a master. */
class IoredisServer implements ServerDriver {
  readonly #node: RedisServerClient;

  constructor(node: RedisServerClient) {
    this.#node = node;
  }

  get address(): string {
    return addressOf(this.#node);
  }

  scan(cursor: string, pattern: string, count: number): Promise<[cursor: string, keys: string[]]> {
    return this.#node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
  }

  unlink(keys: readonly string[]): Promise<number> {
    return this.#node.unlink(...keys);
  }

  /** A pipeline of single-key UNLINKs: one round trip. */
  async unlinkEach(keys: readonly string[]): Promise<number> {
    const pipeline = this.#node.pipeline();
    for (const key of keys) pipeline.unlink(key);
    let removed = 0;
    for (const [error, count] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      removed += count as number;
    }
    return removed;
  }

  async configGet(name: string): Promise<string> {
    const [, value] = (await this.#node.config('GET', name)) as [string, string];
    return value;
  }

  /**
   * A connection with this server's options, but RESP2 (ioredis 6 speaks RESP3 by default, and
   * drops RESP3 invalidation pushes), no reconnecting (the tracking loop opens a new one) and no
   * offline queue (a command on a dropped connection fails at once).
   */
  async openLink(): Promise<TrackingLink> {
    const connection = new Redis({
      ...connectionOptionsOf(this.#node),
      protocol: 2,
      autoResubscribe: false,
      lazyConnect: true,
      retryStrategy: () => null,
      connectionName: TRACKING_CONNECTION_NAME,
      enableOfflineQueue: false,
      enableAutoPipelining: false,
    } as ConnectionOptions);
    // A dropped connection ends (`end`). Without reconnecting, `connect()` fails with "Connection
    // is closed."; the error that closed it says why.
    let lastError: unknown;
    connection.on('error', (error: unknown) => {
      lastError = error;
    });
    const closed = new Promise<void>((resolve) => connection.once('end', () => resolve()));
    try {
      await connection.connect();
    } catch (error) {
      throw lastError ?? error;
    }
    return {
      command: ([name, ...args]) => connection.call(name as string, ...args),
      subscribe: (channel, onMessage) => {
        // `messageBuffer` gives the keys as an array (`message` joins them with commas).
        connection.on('messageBuffer', (from: Buffer, payload: unknown) => {
          if (from.toString() === channel) onMessage(payload);
        });
        return connection.subscribe(channel);
      },
      closed,
      close: async () => {
        connection.disconnect();
        await closed;
      },
    };
  }
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

/** The `host:port` of a client or Cluster node. */
function addressOf(client: RedisServerClient): string {
  const { host, port } = (client as { options?: { host?: string; port?: number } }).options ?? {};
  return `${host}:${port}`;
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
 * A Cluster is told apart by what it can do (`nodes`, which a standalone client lacks), not by
 * `instanceof`: a client made by another copy of ioredis (another version beside ours, ioredis 5)
 * is an instance of that copy's classes, never of ours.
 */
function isCluster(client: RedisClient): client is RedisClusterClient {
  return typeof (client as Partial<RedisClusterClient>).nodes === 'function';
}

/** The methods each kind of client must have for the store to work. */
const COMMANDS = ['get', 'set', 'unlink', 'evalsha', 'eval', 'zscan'] as const;
const METHODS: ClientMethods = {
  expected: '`client` must be an ioredis Redis or Cluster client (ioredis 5 or 6)',
  clusterMethod: 'nodes',
  server: [...COMMANDS, 'scan', 'pipeline', 'config'],
  cluster: [...COMMANDS, 'nodes', 'once'],
};

/**
 * The client passed in, once checked: refuses, when the store is made, a client that lacks a
 * command the store will send, that has a `keyPrefix`, or a Cluster client reading from replicas.
 */
function acceptClient(client: unknown): RedisClient {
  checkMethods(client, METHODS);
  refuseKeyPrefix(client as RedisClient);
  refuseReplicaReads(client as RedisClient);
  return client as RedisClient;
}

/**
 * A Cluster client with `scaleReads` other than `'master'` sends GETs to replicas, which may not
 * have seen the last fill or invalidation yet (replication is asynchronous): a read could serve a
 * value older than an invalidation that returned, and miss this instance's own fill.
 */
function refuseReplicaReads(client: RedisClient): void {
  if (!isCluster(client)) return;
  const { options } = client as { options?: { scaleReads?: unknown } };
  const scaleReads = options?.scaleReads;
  if (scaleReads === undefined || scaleReads === 'master') return;
  throw new InvalidOptionError(
    'client',
    `the ioredis Cluster client has \`scaleReads: ${typeof scaleReads === 'function' ? 'a function' : `'${String(scaleReads)}'`}\`, so reads could go to replicas that have not seen the latest write or invalidation; give the store a client with \`scaleReads: 'master'\` (the default)`,
  );
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
