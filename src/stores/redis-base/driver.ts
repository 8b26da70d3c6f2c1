/**
 * What the Redis stores need from a client library, and nothing more: sending the store's
 * commands, reaching each server, and opening a tracking connection. `RedisStore` (ioredis) and
 * `NodeRedisStore` (node-redis) each implement these for their client; everything else — the
 * scripts, the key index, pattern deletes on a Cluster, the tracking protocol — is written once,
 * in `RedisBaseStore`, on top of them. Internal: not exported from any entry.
 */

/** The commands the store sends through the client (standalone or Cluster), routed by key. */
export interface RedisDriver {
  /** `GET key` */
  get(key: string): Promise<string | null>;
  /** `SET key value PX ms` */
  set(key: string, value: string, ttlMs: number): Promise<unknown>;
  /** `SET key value PX ms NX`: `'OK'` if written, `null` if the key existed. */
  setNx(key: string, value: string, ttlMs: number): Promise<unknown>;
  /** `SET key value PX ms NX GET` (Redis 7): the old text, `null` if the key was absent (then written). */
  setNxGet(key: string, value: string, ttlMs: number): Promise<string | null>;
  /** `UNLINK key`: the number of keys removed. */
  unlink(key: string): Promise<number>;
  /** `EVALSHA sha numkeys key… arg…`, on one key or several (of one slot). */
  evalsha(sha1: string, keys: ScriptKeys, args: readonly string[]): Promise<unknown>;
  /** `EVAL script numkeys key… arg…`, on one key or several (of one slot). */
  eval(script: string, keys: ScriptKeys, args: readonly string[]): Promise<unknown>;
  /** `ZSCAN key cursor MATCH pattern COUNT n`: the next cursor, then members and scores. */
  zscan(
    key: string,
    cursor: string,
    pattern: string,
    count: number,
  ): Promise<[cursor: string, membersAndScores: string[]]>;
  /** The servers behind the client, for what is done per server (scans, tracking, settings). */
  topology(): Promise<Topology>;
  /** A batch: commands queued, then sent together (see {@link DriverBatch}). */
  batch(): DriverBatch;
  /** Whether the client is a Cluster's (else one standalone server holds every key). */
  readonly cluster: boolean;
}

/** The keys of a script: one, or several (routed by the first; all of one slot on a Cluster). */
export type ScriptKeys = string | readonly [string, ...string[]];

/**
 * Commands sent together: on a standalone server in one write, on a Cluster in one write per
 * master (each command goes to the master of its own key's slot, never in a multi-key command).
 * Each command answers its own promise, settled by its own reply. Until `send`, a driver may hold
 * the commands back, or send each at once if its client writes the commands of one tick together
 * by itself; `send` must be called once, whatever happens meanwhile.
 */
export interface DriverBatch {
  /** `GET key` */
  get(key: string): Promise<string | null>;
  /** `SET key value PX ms NX GET` (Redis 7): the old text, `null` if the key was absent (then written). */
  setNxGet(key: string, value: string, ttlMs: number): Promise<string | null>;
  /** `EVALSHA sha numkeys key… arg…` */
  evalsha(sha1: string, keys: ScriptKeys, args: readonly string[]): Promise<unknown>;
  /** `EVAL script numkeys key… arg…` */
  eval(script: string, keys: ScriptKeys, args: readonly string[]): Promise<unknown>;
  /** Sends the commands still queued. */
  send(): void;
}

/** A standalone server, or a Cluster told by who serves each hash slot. */
export type Topology =
  | { readonly server: ServerDriver }
  | {
      /**
       * The master serving `slot`, if the client holds a connection to it, and its `host:port`
       * if the client knows it. Each master is the same object for all of its slots.
       */
      readonly masterOf: (slot: number) => {
        node: ServerDriver | undefined;
        address: string | undefined;
      };
    };

/** One Redis server: the standalone one, or one master of a Cluster. */
export interface ServerDriver {
  /** `host:port`, for messages. */
  readonly address: string;
  /** `SCAN cursor MATCH pattern COUNT n`: the next cursor and a batch of keys. */
  scan(cursor: string, pattern: string, count: number): Promise<[cursor: string, keys: string[]]>;
  /** One `UNLINK key…` of keys of one slot (or any keys on a standalone server). */
  unlink(keys: readonly string[]): Promise<number>;
  /** One single-key `UNLINK` per key, in one round trip: for keys of different slots. */
  unlinkEach(keys: readonly string[]): Promise<number>;
  /** `CONFIG GET name`: the value. */
  configGet(name: string): Promise<string>;
  /**
   * Opens a connection of the store's own to this server, speaking RESP2 (so that tracking
   * invalidations arrive as Pub/Sub messages), named `quickpost-cache:l1`, that never reconnects
   * by itself; resolves once it is ready, rejects if it cannot connect.
   */
  openLink(): Promise<TrackingLink>;
}

/** A dedicated connection to one server, for change notifications. */
export interface TrackingLink {
  /** Sends a command and resolves to its reply. */
  command(args: readonly string[]): Promise<unknown>;
  /**
   * Subscribes to `channel`; `onMessage` receives each message's payload as the client decodes
   * it (for `__redis__:invalidate`: the changed keys, or `null` for a flush).
   */
  subscribe(channel: string, onMessage: (payload: unknown) => void): Promise<unknown>;
  /** Resolves once the connection is gone, for whatever reason. */
  readonly closed: Promise<void>;
  /** Ends the connection. */
  close(): Promise<void>;
}
