/**
 * The command line's connection to Redis: its own ioredis client (standalone or Cluster) with
 * timeouts, so that an unreachable or frozen Redis ends the command instead of hanging it, and a
 * `RedisStore` and cache on it, through which every command finds and deletes keys as the library
 * does. This module loads ioredis; the command line imports it only once ioredis is known to be
 * there.
 */
import { Cluster, Redis } from 'ioredis';
import { type Cache, createCache } from '../cache.js';
import type { CacheLogger } from '../core/options.js';
import { isCacheError } from '../errors.js';
import { RedisStore } from '../stores/redis.js';
import { CliFailure, Exit } from './failure.js';
import type { Endpoint } from './input.js';

/** Where to connect, and how long to wait. */
export interface Target {
  /** A `redis://` or `rediss://` URL; ignored when `cluster` is given. */
  readonly url: string;
  /** A Cluster's seed nodes. */
  readonly cluster: readonly Endpoint[] | undefined;
  /** Address translation for Cluster nodes announcing addresses this machine cannot reach. */
  readonly natMap: Readonly<Record<string, Endpoint>> | undefined;
  /** The cache's prefix. */
  readonly prefix: string;
  /** Longest wait for the connection, and for each command. */
  readonly timeoutMs: number;
}

/** Keys each SCAN call examines (its `COUNT` hint). */
export const SCAN_COUNT = 1000;

/** An open connection, with the store and cache on it. */
export interface Session {
  readonly client: Redis | Cluster;
  readonly store: RedisStore<Redis | Cluster>;
  readonly cache: Cache<RedisStore<Redis | Cluster>>;
  /** The URL (password hidden) or the Cluster's seed nodes, for messages. */
  readonly where: string;
  /** The standalone server, or each master of the Cluster. */
  servers(): Redis[];
  /** Stops the cache (retries of a failed invalidation included) and closes the connection. */
  close(): Promise<void>;
}

/** A logger that says nothing: the command line reports outcomes itself, with exit codes. */
const QUIET: CacheLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Opens the connection; a failure to connect within the timeout is {@link Exit.Unreachable}. */
export async function openSession(target: Target): Promise<Session> {
  const common = {
    connectTimeout: target.timeoutMs,
    commandTimeout: target.timeoutMs,
    // No retries nor reconnection: a lost connection ends the command, with exit code 3.
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    // ioredis keeps a closing socket's timer for this long even when the socket is already
    // closed (a refused connection): it would hold the process open after the command is done.
    disconnectTimeout: 100,
    connectionName: 'quickpost-cache:cli',
  };
  const client =
    target.cluster === undefined
      ? new Redis(target.url, { ...common, lazyConnect: true, enableAutoPipelining: true })
      : new Cluster([...target.cluster], {
          lazyConnect: true,
          enableAutoPipelining: true,
          clusterRetryStrategy: () => null,
          slotsRefreshTimeout: target.timeoutMs,
          redisOptions: common,
          ...(target.natMap === undefined ? {} : { natMap: { ...target.natMap } }),
        });
  const where =
    target.cluster === undefined
      ? withoutPassword(target.url)
      : `the Redis Cluster at ${target.cluster.map(({ host, port }) => `${host}:${port}`).join(',')}`;
  let lastError: Error | undefined;
  // Without a listener, ioredis prints "Unhandled error event" for each failed connection.
  client.on('error', (error: Error) => {
    lastError = error;
  });
  let store: RedisStore<Redis | Cluster>;
  let cache: Cache<RedisStore<Redis | Cluster>>;
  try {
    store = new RedisStore<Redis | Cluster>({ client, scanCount: SCAN_COUNT });
    cache = createCache({
      store,
      prefix: target.prefix,
      logger: QUIET,
      breaker: false,
      // Each Redis command is bounded by the client's `commandTimeout`; a pattern delete as a
      // whole may walk a large keyspace.
      timeout: target.timeoutMs,
      invalidationTimeout: 24 * 3_600_000,
    });
  } catch (error) {
    client.disconnect();
    if (!isCacheError(error)) throw error;
    // The cache checked the prefix: say it as the option the command line has.
    const message = error.message
      .replace(/^\[quickpost-cache\] /, '')
      .replace('`prefix`', '--prefix');
    throw new CliFailure(Exit.Usage, message);
  }
  try {
    await withDeadline(client.connect(), target.timeoutMs);
  } catch (error) {
    client.disconnect();
    const failure = lastError ?? (error as Error);
    // A Cluster's "Failed to refresh slots cache." says why in its last node's error.
    const cause = (failure as { lastNodeError?: Error }).lastNodeError;
    const reason = cause === undefined ? failure.message : `${failure.message} ${cause.message}`;
    throw new CliFailure(
      Exit.Unreachable,
      target.cluster === undefined
        ? `cannot reach Redis at ${where} (${reason}); give its address with --url redis://host:port or the REDIS_URL variable, or --cluster host:port,… for a Redis Cluster`
        : `cannot reach ${where} (${reason}); give its nodes with --cluster host:port,…`,
      { cause: error },
    );
  }
  return {
    client,
    store,
    cache,
    where: target.cluster === undefined ? `Redis at ${where}` : where,
    servers: () => (client instanceof Cluster ? client.nodes('master') : [client]),
    close: async () => {
      // A failed invalidation is retried in the background: the command has reported it, and
      // ends here.
      await cache.close({ timeout: 0 });
      client.disconnect();
    },
  };
}

/** `promise`, or a rejection once `ms` have passed. */
async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The URL with its password replaced by `***`, for messages. */
function withoutPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password === '') return url;
  parsed.password = '***';
  return parsed.toString();
}

/**
 * The failure to report for an error met while a command ran: Redis's own error replies are
 * {@link Exit.RedisError}; a lost connection, a timeout or an incomplete Cluster is
 * {@link Exit.Unreachable}.
 */
export function failureOf(error: unknown, session: Session): CliFailure {
  if (error instanceof CliFailure) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && error.name === 'ReplyError') {
    // A Cluster node reached with --url answers MOVED to commands for keys it does not own.
    const hint = message.startsWith('MOVED') ? '; this is a Redis Cluster: use --cluster' : '';
    return new CliFailure(
      Exit.RedisError,
      `${session.where} refused a command: ${message}${hint}`,
      { cause: error },
    );
  }
  return new CliFailure(Exit.Unreachable, `${session.where} stopped answering: ${message}`, {
    cause: error,
  });
}
