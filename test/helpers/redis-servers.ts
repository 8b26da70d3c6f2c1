/**
 * Real Redis servers for the integration tests and the benchmark: one standalone server and a
 * 3-master Cluster, started in containers with testcontainers, or taken from the environment.
 *
 * Environment:
 * - `REDIS_URL`: use this standalone server instead of starting one.
 * - `REDIS_CLUSTER_NODES`: `host:port,host:port,…` of a running Cluster to use instead.
 * - `QUICKPOST_REDIS_IMAGE`: the image to run (default `redis:7-alpine`).
 * - `QUICKPOST_DOCKER_NETWORK=host`: run containers in the host's network on free loopback
 *   ports (for Docker engines without a bridge network, as on the project's CI machines);
 *   otherwise containers get the default network and their port 6379 is mapped.
 */
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import {
  GenericContainer,
  getContainerRuntimeClient,
  ImageName,
  Network,
  type StartedNetwork,
  type StartedTestContainer,
  Wait,
} from 'testcontainers';

/** Where a Redis server listens. */
export interface RedisEndpoint {
  host: string;
  port: number;
}

/** The servers the Redis tests run against. */
export interface RedisTopology {
  standalone: RedisEndpoint;
  cluster: {
    nodes: RedisEndpoint[];
    /** Address translation for ioredis when nodes announce addresses the host cannot reach. */
    natMap?: Record<string, RedisEndpoint>;
  };
  /** How the servers were obtained, for the log. */
  description: string;
}

/** Started servers and how to stop them. */
export interface RunningRedis {
  topology: RedisTopology;
  stop(): Promise<void>;
}

const READY = /Ready to accept connections/;

/** The first line of an error's message: causes from Docker can run over many lines. */
function firstLine(error: unknown): string {
  return (String(error instanceof Error ? error.message : error).split('\n')[0] ?? '').trim();
}

/**
 * What keeps the Redis tests from running on this machine, in one line, or `undefined` when
 * nothing does. They always need a container runtime (the fault tests start containers of their
 * own even when REDIS_URL and REDIS_CLUSTER_NODES name running servers) and the Redis image.
 */
export async function redisTestsBlocker(): Promise<string | undefined> {
  const unit = 'run `npm run test:unit` for the tests that need no Redis';
  let runtime: Awaited<ReturnType<typeof getContainerRuntimeClient>>;
  try {
    runtime = await getContainerRuntimeClient();
  } catch (error) {
    return `[redis tests] need a Docker engine (or REDIS_URL and REDIS_CLUSTER_NODES, plus Docker for the fault tests): testcontainers found none (${firstLine(error)}); ${unit}, or \`bash .ci/run\``;
  }
  const image = process.env.QUICKPOST_REDIS_IMAGE ?? 'redis:7-alpine';
  try {
    const name = ImageName.fromString(image);
    if (!(await runtime.image.exists(name))) await runtime.image.pull(name);
  } catch (error) {
    return `[redis tests] need the image ${image}, which Docker cannot get (${firstLine(error)}): set QUICKPOST_REDIS_IMAGE to a local Redis image, or run \`bash .ci/run\` (it builds one); ${unit}`;
  }
  return undefined;
}

export async function startRedisServers(): Promise<RunningRedis> {
  const image = process.env.QUICKPOST_REDIS_IMAGE ?? 'redis:7-alpine';
  const hostNetwork = process.env.QUICKPOST_DOCKER_NETWORK === 'host';
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const run of stops.reverse()) await run().catch(() => undefined);
  };
  try {
    const standalone = process.env.REDIS_URL
      ? endpointOf(process.env.REDIS_URL)
      : await startStandalone(image, hostNetwork, stops);
    const cluster = process.env.REDIS_CLUSTER_NODES
      ? {
          nodes: process.env.REDIS_CLUSTER_NODES.split(',').map((node) =>
            endpointOf(`redis://${node}`),
          ),
        }
      : await startCluster(image, hostNetwork, stops);
    const description = [
      process.env.REDIS_URL ? `standalone from REDIS_URL` : `standalone in a container (${image})`,
      process.env.REDIS_CLUSTER_NODES
        ? 'cluster from REDIS_CLUSTER_NODES'
        : `3-master cluster in containers (${image}, ${hostNetwork ? 'host network' : 'mapped ports'})`,
    ].join('; ');
    return { topology: { standalone, cluster, description }, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Starts only a standalone server in a container (for the benchmark). */
export async function startStandaloneRedis(): Promise<RunningRedis> {
  const image = process.env.QUICKPOST_REDIS_IMAGE ?? 'redis:7-alpine';
  const hostNetwork = process.env.QUICKPOST_DOCKER_NETWORK === 'host';
  const stops: (() => Promise<unknown>)[] = [];
  const standalone = await startStandalone(image, hostNetwork, stops);
  return {
    topology: {
      standalone,
      cluster: { nodes: [] },
      description: `standalone in a container (${image})`,
    },
    stop: async () => {
      for (const run of stops.reverse()) await run().catch(() => undefined);
    },
  };
}

/** A Redis server of one test's own, to break on purpose, and how to stop it. */
export interface FaultRedis extends RedisEndpoint {
  container: StartedTestContainer;
  /** Stops and removes the container (a second call does nothing). */
  stop(): Promise<void>;
}

/**
 * Starts a standalone server in a container of its own, for fault tests (stop, pause, `DEBUG
 * SLEEP`, `CLIENT KILL`), so that faults never reach the servers other test files share. Its port
 * survives a restart of the container: in the host network it is the server's `--port`; otherwise
 * port 6379 is mapped to a fixed host port. `DEBUG` is enabled (Redis 7 refuses it by default).
 * `args` are further redis-server arguments (`['--maxmemory', '100mb']`).
 */
export async function startFaultRedis(args: readonly string[] = []): Promise<FaultRedis> {
  const image = process.env.QUICKPOST_REDIS_IMAGE ?? 'redis:7-alpine';
  const hostNetwork = process.env.QUICKPOST_DOCKER_NETWORK === 'host';
  const port = await freePort();
  const debug = ['--enable-debug-command', 'yes', ...args];
  const container = hostNetwork
    ? await redisContainer(image, ['--port', String(port), '--bind', '127.0.0.1', ...debug])
        .withNetworkMode('host')
        .start()
    : await redisContainer(image, ['--protected-mode', 'no', ...debug])
        .withExposedPorts({ container: 6379, host: port })
        .start();
  return {
    host: hostNetwork ? '127.0.0.1' : container.getHost(),
    port,
    container,
    stop: async () => {
      await container.stop();
    },
  };
}

function endpointOf(url: string): RedisEndpoint {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || 6379) };
}

async function startStandalone(
  image: string,
  hostNetwork: boolean,
  stops: (() => Promise<unknown>)[],
): Promise<RedisEndpoint> {
  if (hostNetwork) {
    const port = await freePort();
    const container = await redisContainer(image, ['--port', String(port), '--bind', '127.0.0.1'])
      .withNetworkMode('host')
      .start();
    stops.push(() => container.stop());
    return { host: '127.0.0.1', port };
  }
  const container = await redisContainer(image, ['--protected-mode', 'no'])
    .withExposedPorts(6379)
    .start();
  stops.push(() => container.stop());
  return { host: container.getHost(), port: container.getMappedPort(6379) };
}

async function startCluster(
  image: string,
  hostNetwork: boolean,
  stops: (() => Promise<unknown>)[],
): Promise<RedisTopology['cluster']> {
  const clusterArgs = (configFile: string) => [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    configFile,
    '--cluster-node-timeout',
    '5000',
  ];
  let nodes: RedisEndpoint[];
  let internal: RedisEndpoint[];
  let natMap: Record<string, RedisEndpoint> | undefined;
  if (hostNetwork) {
    const ports = [await freePort(), await freePort(), await freePort()];
    const containers = await Promise.all(
      ports.map((port) =>
        redisContainer(image, [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          ...clusterArgs(`/tmp/nodes-${port}.conf`),
        ])
          .withNetworkMode('host')
          .start(),
      ),
    );
    for (const container of containers) stops.push(() => container.stop());
    nodes = ports.map((port) => ({ host: '127.0.0.1', port }));
    internal = nodes;
  } else {
    const network: StartedNetwork = await new Network().start();
    stops.push(() => network.stop());
    const containers: StartedTestContainer[] = await Promise.all(
      [0, 1, 2].map(() =>
        redisContainer(image, ['--protected-mode', 'no', ...clusterArgs('/data/nodes.conf')])
          .withNetwork(network)
          .withExposedPorts(6379)
          .start(),
      ),
    );
    for (const container of containers) stops.push(() => container.stop());
    nodes = containers.map((c) => ({ host: c.getHost(), port: c.getMappedPort(6379) }));
    internal = containers.map((c) => ({ host: c.getIpAddress(network.getName()), port: 6379 }));
    natMap = Object.fromEntries(
      internal.map((inner, i) => [`${inner.host}:${inner.port}`, nodes[i] as RedisEndpoint]),
    );
  }
  await formCluster(nodes, internal);
  return natMap === undefined ? { nodes } : { nodes, natMap };
}

function redisContainer(image: string, args: string[]): GenericContainer {
  return new GenericContainer(image)
    .withCommand(['redis-server', '--save', '', '--appendonly', 'no', ...args])
    .withWaitStrategy(Wait.forLogMessage(READY))
    .withStartupTimeout(60_000);
}

/**
 * Gives each of three empty cluster-enabled nodes a third of the 16,384 slots, introduces them
 * to each other, and waits until every node reports `cluster_state:ok` with three masters.
 */
async function formCluster(nodes: RedisEndpoint[], internal: RedisEndpoint[]): Promise<void> {
  const clients = nodes.map(
    (node) => new Redis({ ...node, lazyConnect: false, maxRetriesPerRequest: 3 }),
  );
  try {
    const ranges = [
      [0, 5460],
      [5461, 10922],
      [10923, 16383],
    ];
    await Promise.all(
      clients.map((client, i) =>
        client.call('CLUSTER', 'ADDSLOTSRANGE', ...(ranges[i] as number[])),
      ),
    );
    // One MEET per node is enough: the cluster bus gossips the rest.
    for (const node of internal.slice(1)) {
      await clients[0]?.call('CLUSTER', 'MEET', node.host, String(node.port));
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      const infos = await Promise.all(
        clients.map((client) => client.call('CLUSTER', 'INFO') as Promise<string>),
      );
      if (
        infos.every(
          (info) => info.includes('cluster_state:ok') && info.includes('cluster_known_nodes:3'),
        )
      )
        return;
      if (Date.now() > deadline)
        throw new Error(`Redis Cluster did not form within 30 s:\n${infos.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    for (const client of clients) client.disconnect();
  }
}

/** A TCP port free on loopback right now (nothing listens on it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}
