/**
 * Starting the QuickPost app: the database its environment asks for (embedded PGlite, or the
 * Postgres server at `DATABASE_URL`), the cache (MemoryStore, or RedisStore on `REDIS_URL` or
 * `REDIS_CLUSTER_NODES`), and an HTTP server on `HOST`:`PORT`.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Cluster, Redis } from 'ioredis';
import { type Cache, createCache } from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { createApp } from './app.js';
import { type Database, embeddedDatabase, serverDatabase } from './database.js';
import { createSchema, PostgresRepository } from './repository.js';
import { seedSamples } from './seed.js';

/** The environment variables the app reads. */
export interface QuickPostEnv {
  /** Port to listen on (default 3000; 0 picks a free one). */
  PORT?: string | undefined;
  /** Address to listen on (default 127.0.0.1). */
  HOST?: string | undefined;
  /** A `redis://` URL: cache on this Redis server. */
  REDIS_URL?: string | undefined;
  /** `host:port,host:port,…` of Redis Cluster nodes: cache on this Cluster (wins over REDIS_URL). */
  REDIS_CLUSTER_NODES?: string | undefined;
  /** `quickpost` (or `*`, in a comma-separated list): the cache's debug lines. */
  DEBUG?: string | undefined;
  /** A `postgres://` URL: the data lives on this Postgres server (else in embedded PGlite). */
  DATABASE_URL?: string | undefined;
  /** `1`: a database without posts gets a few samples. */
  SEED?: string | undefined;
}

/**
 * The database the environment asks for, with QuickPost's tables: the Postgres server at
 * `DATABASE_URL` (tables made if missing), else a new PGlite database in memory; with `SEED=1`,
 * samples in a database that has no post.
 */
export async function databaseFromEnv(env: QuickPostEnv = process.env): Promise<Database> {
  const database = env.DATABASE_URL ? serverDatabase(env.DATABASE_URL) : embeddedDatabase();
  try {
    await createSchema(database);
    if (env.SEED === '1') await seedSamples(new PostgresRepository(database));
    return database;
  } catch (error) {
    await database.close();
    throw error;
  }
}

/** A cache made from the environment, with what it runs on and how to close it. */
export interface EnvCache {
  cache: Cache;
  /** `'memory'`, `'redis'` or `'cluster'`. */
  backend: 'memory' | 'redis' | 'cluster';
  /** Drains the cache's pending invalidations and closes the Redis connection it opened. */
  close(): Promise<void>;
}

/** Whether `DEBUG` asks for QuickPost's debug lines. */
export function debugWanted(debug: string | undefined): boolean {
  return (debug ?? '')
    .split(/[\s,]+/)
    .some((name) => ['quickpost', 'quickpost:*', '*'].includes(name));
}

/** `host:port,…` as Cluster seed nodes. */
function clusterNodes(list: string): { host: string; port: number }[] {
  return list.split(',').map((entry) => {
    const match = /^\s*(.+):(\d+)\s*$/.exec(entry);
    if (match === null) {
      throw new Error(`REDIS_CLUSTER_NODES must be host:port,host:port,…; got "${list}"`);
    }
    return { host: match[1] as string, port: Number(match[2]) };
  });
}

/**
 * The cache the environment asks for: RedisStore on a Cluster (`REDIS_CLUSTER_NODES`) or a server
 * (`REDIS_URL`), else MemoryStore; debug lines with `DEBUG=quickpost`. The Redis connection is
 * the cache's own, opened with the options the README recommends, its errors logged.
 */
export function cacheFromEnv(env: QuickPostEnv = process.env): EnvCache {
  const options = { prefix: 'quickpost', debug: debugWanted(env.DEBUG) };
  const onError = (error: Error): void => {
    console.warn(`[quickpost] Redis: ${error.message}`);
  };
  let client: Redis | Cluster | undefined;
  let backend: EnvCache['backend'] = 'memory';
  if (env.REDIS_CLUSTER_NODES) {
    client = new Cluster(clusterNodes(env.REDIS_CLUSTER_NODES), {
      redisOptions: { maxRetriesPerRequest: 1 },
    });
    backend = 'cluster';
  } else if (env.REDIS_URL) {
    client = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1 });
    backend = 'redis';
  }
  client?.on('error', onError);
  const cache =
    client === undefined
      ? createCache(options)
      : createCache({ ...options, store: new RedisStore({ client }) });
  return {
    cache,
    backend,
    close: async () => {
      await cache.close();
      await client?.quit();
    },
  };
}

/** Options of {@link start}; each defaults to what the environment says. */
export interface StartOptions {
  /** Where the {@link QuickPostEnv} variables are read. Default: `process.env`. */
  env?: QuickPostEnv | undefined;
  /** Port to listen on; 0 picks a free one. Default: `PORT`, else 3000. */
  port?: number | undefined;
  /** Address to listen on. Default: `HOST`, else 127.0.0.1. */
  host?: string | undefined;
  /** The cache to use (it is yours to close). Default: {@link cacheFromEnv}. */
  cache?: Cache | undefined;
  /**
   * Where the data lives, with QuickPost's tables (it is yours to close).
   * Default: {@link databaseFromEnv}.
   */
  database?: Database | undefined;
}

/** A running app. */
export interface RunningApp {
  /** `http://host:port`, the base of every route. */
  url: string;
  server: Server;
  cache: Cache;
  /** What the cache runs on (`'given'` for a cache passed to {@link start}). */
  backend: EnvCache['backend'] | 'given';
  /** Where the data lives (given to {@link start}, or made from the environment). */
  database: Database;
  /**
   * Stops the server, then closes the cache (and its Redis connection) and the database that
   * {@link start} made.
   */
  close(): Promise<void>;
}

/** The port `PORT` names, or `fallback`. */
function portOf(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`PORT must be a port number (0 to 65535); got "${value}"`);
  }
  return port;
}

/** Starts the app: an HTTP server on `host`:`port` with the API of {@link createApp}. */
export async function start(options: StartOptions = {}): Promise<RunningApp> {
  const env = options.env ?? process.env;
  const port = options.port ?? portOf(env.PORT, 3000);
  const host = options.host ?? (env.HOST || '127.0.0.1');
  const owned = options.cache === undefined ? cacheFromEnv(env) : undefined;
  const cache = options.cache ?? (owned as EnvCache).cache;
  let ownedDatabase: Database | undefined;
  let database: Database;
  let server: Server;
  try {
    ownedDatabase = options.database === undefined ? await databaseFromEnv(env) : undefined;
    database = options.database ?? (ownedDatabase as Database);
    const app = createApp({ cache, repository: new PostgresRepository(database) });
    server = await new Promise<Server>((resolve, reject) => {
      const listening = app.listen(port, host, (error?: Error) => {
        if (error) reject(error);
        else resolve(listening);
      });
    });
  } catch (error) {
    // The database is out of reach or the port is taken, say: close what this call opened.
    await ownedDatabase?.close();
    await owned?.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    server,
    cache,
    backend: owned?.backend ?? 'given',
    database,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await owned?.close();
      await ownedDatabase?.close();
    },
  };
}
