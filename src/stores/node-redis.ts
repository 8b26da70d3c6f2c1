// The node-redis package (`redis`) is needed at run time only for a connection the store opens
// (`{ url }`, `{ redis }`); a client you pass in is used through the methods it has, whatever
// its copy or major version.
import { createClient, type RedisClientOptions } from 'redis';
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

/**
 * Command options the store passes with every command: replies in node-redis's default types
 * (text as strings), whatever `typeMapping` your client has.
 */
export interface NodeRedisCommandOptions {
  /** An empty type mapping: the defaults. */
  readonly typeMapping: Readonly<Record<never, never>>;
}

const STRINGS: NodeRedisCommandOptions = { typeMapping: {} };

/**
 * A node-redis connection to one server, as {@link NodeRedisStore} uses it: what
 * `createClient()` returns (redis 5 or 6), or a Cluster's client for one node.
 */
export interface NodeRedisServerClient {
  /** Sends a command, given as its words, and resolves to the raw reply. */
  sendCommand(args: string[], options?: NodeRedisCommandOptions): Promise<unknown>;
  /** A new client with this one's options and `overrides`, not yet connected. */
  duplicate(overrides?: object): NodeRedisConnection;
  /** The options the client was made with (the tracking connections copy its `socket`). */
  readonly options?: { readonly socket?: object | undefined } | undefined;
}

/** A connection {@link NodeRedisStore} opens itself, for change notifications. */
export interface NodeRedisConnection extends NodeRedisServerClient {
  /** Connects; resolves once ready. */
  connect(): Promise<unknown>;
  /** `SUBSCRIBE channel`, with the listener of its messages. */
  subscribe(
    channel: string,
    listener: (message: string, channel: string) => unknown,
  ): Promise<unknown>;
  /** Listens to a client event. */
  on(event: 'error' | 'end', listener: () => void): unknown;
  /** Closes the connection at once. */
  destroy(): void;
  /** Whether the client is connected or connecting (not closed). */
  readonly isOpen: boolean;
}

/** A Cluster node as node-redis describes it (`cluster.masters`, `cluster.slots[n].master`). */
export interface NodeRedisNode {
  /** `host:port` */
  readonly address: string;
}

/** A node-redis Cluster client: what `createCluster()` returns (redis 5 or 6), once connected. */
export interface NodeRedisClusterClient {
  /** Sends a command to the node serving `firstKey`'s slot (`isReadonly`: may go to a replica). */
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
    options?: NodeRedisCommandOptions,
  ): Promise<unknown>;
  /** Per hash slot, its shard: the master serving it. */
  readonly slots: readonly ({ readonly master: NodeRedisNode } | undefined)[];
  /** The client of one node. */
  nodeClient(node: NodeRedisNode): Promise<NodeRedisServerClient>;
}

/**
 * A client {@link NodeRedisStore} accepts: a node-redis (`redis` 5 or 6) client or Cluster,
 * connected. A Cluster is recognised by its `nodeClient` method.
 */
export type NodeRedisClient = NodeRedisServerClient | NodeRedisClusterClient;

/** node-redis `createClient` options for a connection the store opens. */
export type NodeRedisConnectionOptions = RedisClientOptions;

/**
 * How a {@link NodeRedisStore} gets its connection. `C` is the type of the client you pass in;
 * a connection the store opens is a node-redis client from `createClient`.
 */
export type NodeRedisStoreOptions<C extends NodeRedisClient = NodeRedisClient> =
  | {
      /**
       * Your own node-redis client (`createClient`) or Cluster (`createCluster`), redis 5 or 6,
       * connected (`await client.connect()`). The store never closes it; a connection dedicated
       * to the cache is best, since other options or blocking commands on a shared connection
       * affect the cache too.
       */
      client: C;
    }
  // Only a store whose client type admits the client `createClient` makes can open its own.
  | (OwnedClient extends C ? OwnedNodeRedisOptions : never);

/** The client of a connection the store opens. */
type OwnedClient = ReturnType<typeof createClient>;

/** Options of a connection the store opens: `{ url, redis? }` or `{ redis }`. */
type OwnedNodeRedisOptions =
  | {
      /** A `redis://` URL; the store opens and connects the client, and `close()` ends it. */
      url: string;
      /** Further `createClient` options for that connection. */
      redis?: NodeRedisConnectionOptions | undefined;
    }
  | {
      /** `createClient` options; the store opens and connects the client, and `close()` ends it. */
      redis: NodeRedisConnectionOptions;
    };

/**
 * A store on Redis or Redis Cluster through node-redis (the official `redis` package, 5 or 6),
 * with every capability of `RedisStore` (leases, the key index, change notifications for the
 * in-process tier), written by the same code: only sending commands differs.
 *
 * - Commands go out with `sendCommand`, so replies are read in node-redis's default types
 *   whatever your client's `typeMapping` or protocol (RESP2 or RESP3).
 * - On a Cluster every command goes to the master of its key's slot, even with `useReplicas`: a
 *   replica may not have seen the latest write or invalidation yet.
 */
export class NodeRedisStore<C extends NodeRedisClient = NodeRedisClient> extends RedisBaseStore<C> {
  constructor(options: NodeRedisStoreOptions<C> & RedisStoreTuning) {
    super(options, NODE_REDIS);
  }
}

/** How NodeRedisStore takes its client. */
const NODE_REDIS: ClientKind<NodeRedisClient, OwnedClient> = {
  name: 'NodeRedisStore',
  library: 'node-redis',
  accepts: '`{ client }` (a node-redis client or Cluster), `{ url }` or `{ redis }`',
  accept: acceptClient,
  open: openConnection,
  close: closeConnection,
  driver: (client) =>
    isNodeRedisCluster(client) ? new ClusterDriver(client) : new ServerClientDriver(client),
};

/**
 * The node-redis client of `{ url, redis? }` or `{ redis }` options, connecting; its errors go to
 * `onError`.
 */
function openConnection(
  options: object,
  onError: (address: string, error: unknown) => void,
): OwnedClient {
  const { url, redis } = options as { url?: string; redis?: NodeRedisConnectionOptions };
  const owned = createClient(url === undefined ? redis : { ...redis, url });
  refuseKeyPrefix(owned);
  // Without a listener, an `error` event (Redis unreachable) would end the process.
  owned.on('error', (error: unknown) => onError(addressOf(owned), error));
  // Commands sent before the connection is ready wait in node-redis's offline queue; a failed
  // first connection is retried by its reconnect strategy.
  owned.connect().catch(() => undefined);
  return owned;
}

/** Ends a connection the store opened. */
async function closeConnection(owned: OwnedClient): Promise<void> {
  if (!owned.isOpen) return;
  // `close` waits for the replies to commands already sent; a connection that is not ready may
  // never answer them.
  if (owned.isReady) await owned.close();
  else owned.destroy();
}

/** The store's commands as node-redis words; subclasses send them to the right connection. */
abstract class NodeRedisDriver implements RedisDriver {
  abstract readonly cluster: boolean;

  /** Sends `args`, a command on `key`, and resolves to the raw reply. */
  protected abstract send(key: string, args: string[]): Promise<unknown>;

  abstract topology(): Promise<Topology>;

  get(key: string): Promise<string | null> {
    return this.send(key, ['GET', key]) as Promise<string | null>;
  }

  set(key: string, value: string, ttlMs: number): Promise<unknown> {
    return this.send(key, ['SET', key, value, 'PX', String(ttlMs)]);
  }

  setNx(key: string, value: string, ttlMs: number): Promise<unknown> {
    return this.send(key, ['SET', key, value, 'PX', String(ttlMs), 'NX']);
  }

  setNxGet(key: string, value: string, ttlMs: number): Promise<string | null> {
    return this.send(key, ['SET', key, value, 'PX', String(ttlMs), 'NX', 'GET']) as Promise<
      string | null
    >;
  }

  unlink(key: string): Promise<number> {
    return this.send(key, ['UNLINK', key]) as Promise<number>;
  }

  evalsha(sha1: string, keys: ScriptKeys, args: readonly string[]): Promise<unknown> {
    return this.#script('EVALSHA', sha1, keys, args);
  }

  eval(script: string, keys: ScriptKeys, args: readonly string[]): Promise<unknown> {
    return this.#script('EVAL', script, keys, args);
  }

  /** `EVALSHA` or `EVAL`, sent to the connection of the first key. */
  #script(
    command: 'EVALSHA' | 'EVAL',
    script: string,
    keys: ScriptKeys,
    args: readonly string[],
  ): Promise<unknown> {
    if (typeof keys === 'string') return this.send(keys, [command, script, '1', keys, ...args]);
    return this.send(keys[0], [command, script, String(keys.length), ...keys, ...args]);
  }

  zscan(
    key: string,
    cursor: string,
    pattern: string,
    count: number,
  ): Promise<[cursor: string, membersAndScores: string[]]> {
    return this.send(key, [
      'ZSCAN',
      key,
      cursor,
      'MATCH',
      pattern,
      'COUNT',
      String(count),
    ]) as Promise<[string, string[]]>;
  }

  /**
   * node-redis writes every command of one tick in one write per connection (from
   * `setImmediate`), so a batch sends each command at once.
   */
  batch(): DriverBatch {
    return {
      get: (key) => this.get(key),
      setNxGet: (key, value, ttlMs) => this.setNxGet(key, value, ttlMs),
      evalsha: (sha1, keys, args) => this.evalsha(sha1, keys, args),
      eval: (script, keys, args) => this.eval(script, keys, args),
      send: () => undefined,
    };
  }
}

/** Commands on a standalone server's client, which is also the only server. */
class ServerClientDriver extends NodeRedisDriver {
  readonly cluster = false;
  readonly #client: NodeRedisServerClient;
  readonly #server: NodeRedisServer;

  constructor(client: NodeRedisServerClient) {
    super();
    this.#client = client;
    this.#server = new NodeRedisServer(addressOf(client), async () => client);
  }

  protected send(_key: string, args: string[]): Promise<unknown> {
    return this.#client.sendCommand(args, STRINGS);
  }

  async topology(): Promise<Topology> {
    return { server: this.#server };
  }
}

/** Commands through a Cluster client, each to the master of its key's slot. */
class ClusterDriver extends NodeRedisDriver {
  readonly cluster = true;
  readonly #cluster: NodeRedisClusterClient;

  constructor(cluster: NodeRedisClusterClient) {
    super();
    this.#cluster = cluster;
  }

  protected send(key: string, args: string[]): Promise<unknown> {
    return this.#cluster.sendCommand(key, false, args, STRINGS);
  }

  /** The masters of the client's slot table (empty until the client has connected). */
  async topology(): Promise<Topology> {
    const cluster = this.#cluster;
    const servers = new Map<NodeRedisNode, NodeRedisServer>();
    return {
      masterOf: (slot) => {
        const master = cluster.slots[slot]?.master;
        if (master === undefined) return { node: undefined, address: undefined };
        let server = servers.get(master);
        if (server === undefined) {
          server = new NodeRedisServer(master.address, () => cluster.nodeClient(master));
          servers.set(master, server);
        }
        return { node: server, address: master.address };
      },
    };
  }
}

/** One server through node-redis: the standalone client, or a Cluster's client of a master. */
class NodeRedisServer implements ServerDriver {
  readonly address: string;
  readonly #client: () => Promise<NodeRedisServerClient>;

  constructor(address: string, client: () => Promise<NodeRedisServerClient>) {
    this.address = address;
    this.#client = client;
  }

  async scan(
    cursor: string,
    pattern: string,
    count: number,
  ): Promise<[cursor: string, keys: string[]]> {
    const client = await this.#client();
    const args = ['SCAN', cursor, 'MATCH', pattern, 'COUNT', String(count)];
    return (await client.sendCommand(args, STRINGS)) as [string, string[]];
  }

  async unlink(keys: readonly string[]): Promise<number> {
    const client = await this.#client();
    return (await client.sendCommand(['UNLINK', ...keys], STRINGS)) as number;
  }

  /** Single-key UNLINKs sent together: node-redis writes the commands of one tick at once. */
  async unlinkEach(keys: readonly string[]): Promise<number> {
    const client = await this.#client();
    const counts = await Promise.all(
      keys.map((key) => client.sendCommand(['UNLINK', key], STRINGS) as Promise<number>),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  /** The value from `CONFIG GET`: a flat array in RESP2, a map (an object) in RESP3. */
  async configGet(name: string): Promise<string> {
    const client = await this.#client();
    const reply = await client.sendCommand(['CONFIG', 'GET', name], STRINGS);
    if (Array.isArray(reply)) return String(reply[1]);
    if (reply instanceof Map) return String(reply.get(name));
    return String((reply as Record<string, unknown>)[name]);
  }

  /**
   * A duplicate of this server's client, but RESP2 (tracking invalidations then arrive as
   * Pub/Sub messages), without reconnecting (the tracking loop opens a new one), without an
   * offline queue, and without the options that RESP2 or a plain connection refuse
   * (client-side caching, invalidation events, maintenance notifications, a key prefix).
   */
  async openLink(): Promise<TrackingLink> {
    const base = await this.#client();
    const link = base.duplicate({
      RESP: 2,
      name: TRACKING_CONNECTION_NAME,
      socket: { ...base.options?.socket, reconnectStrategy: false },
      disableOfflineQueue: true,
      clientSideCache: undefined,
      emitInvalidate: undefined,
      maintNotifications: 'disabled',
      keyPrefix: undefined,
    });
    let ended = () => {};
    const closed = new Promise<void>((resolve) => {
      ended = resolve;
    });
    // Without reconnecting, any error ends the connection (`end` comes only from `destroy`).
    link.on('error', () => {
      if (link.isOpen) link.destroy();
      ended();
    });
    link.on('end', () => ended());
    await link.connect();
    return {
      command: (args) => link.sendCommand([...args]),
      subscribe: (channel, onMessage) => link.subscribe(channel, (message) => onMessage(message)),
      closed,
      close: async () => {
        if (link.isOpen) link.destroy();
        ended();
      },
    };
  }
}

/** The `host:port` of a client, from its socket options (node-redis's defaults if it has none). */
function addressOf(client: NodeRedisServerClient): string {
  const socket = (client.options?.socket ?? {}) as { host?: string; port?: number };
  return `${socket.host ?? 'localhost'}:${socket.port ?? 6379}`;
}

/** A Cluster is told apart by what it can do (`nodeClient`), not by `instanceof`. */
function isNodeRedisCluster(client: NodeRedisClient): client is NodeRedisClusterClient {
  return typeof (client as Partial<NodeRedisClusterClient>).nodeClient === 'function';
}

/** The methods each kind of client must have for the store to work. */
const METHODS: ClientMethods = {
  expected: '`client` must be a node-redis client (createClient) or Cluster (createCluster)',
  clusterMethod: 'nodeClient',
  server: ['sendCommand', 'duplicate'],
  cluster: ['sendCommand', 'nodeClient'],
};

/**
 * The client passed in, once checked: refuses, when the store is made, an ioredis client, an
 * object that lacks a method the store will call, or a client with a `keyPrefix`.
 */
function acceptClient(client: unknown): NodeRedisClient {
  const ioredis = client as { call?: unknown; nodes?: unknown } | null | undefined;
  if (typeof ioredis?.call === 'function' || typeof ioredis?.nodes === 'function') {
    throw new InvalidOptionError(
      'client',
      `${METHODS.expected}; this is an ioredis client: use RedisStore from quickpost-cache/redis`,
    );
  }
  checkMethods(client, METHODS);
  refuseKeyPrefix(client as NodeRedisClient);
  return client as NodeRedisClient;
}

/**
 * node-redis 6's `keyPrefix` is applied to typed commands only: the raw commands the store sends
 * (and SCAN patterns) would go without it. The cache's own `prefix` does that job instead.
 */
function refuseKeyPrefix(client: NodeRedisClient): void {
  const keyPrefix = (client as { _keyPrefix?: unknown })._keyPrefix;
  if (keyPrefix !== undefined && keyPrefix !== '') {
    throw new InvalidOptionError(
      'client',
      `the node-redis client has \`keyPrefix: '${String(keyPrefix)}'\`, which the store's commands would bypass; remove it and use the cache's \`prefix\` option instead`,
    );
  }
}
