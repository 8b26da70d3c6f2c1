import { Cluster, Redis } from 'ioredis';
import { Cluster as Cluster5, Redis as Redis5 } from 'ioredis5';
import { createClient, createCluster } from 'redis';
import { createClient as createClient5, createCluster as createCluster5 } from 'redis5';
import { inject } from 'vitest';
import { type DelayProxy, startDelayProxy } from './delay-proxy.js';

/** A new ioredis client for the standalone server the global setup provided. */
export function standaloneClient(): Redis {
  return new Redis(inject('redis').standalone);
}

/** A new ioredis Cluster client for the cluster the global setup provided. */
export function clusterClient(): Cluster {
  const { nodes, natMap } = inject('redis').cluster;
  return new Cluster(nodes, natMap === undefined ? {} : { natMap });
}

/** A client whose replies arrive late, through delay proxies, and how to stop those. */
export interface DelayedClient<C> {
  client: C;
  /** Closes the proxies (quit the client first). */
  closeProxies(): Promise<void>;
}

/** A standalone client whose every reply is delayed by `delayMs()` (see startDelayProxy). */
export async function delayedStandaloneClient(
  delayMs: () => number,
): Promise<DelayedClient<Redis>> {
  const proxy = await startDelayProxy(inject('redis').standalone, delayMs);
  return { client: new Redis({ host: proxy.host, port: proxy.port }), closeProxies: proxy.close };
}

/**
 * A Cluster client whose every reply is delayed: one proxy per node, and ioredis's `natMap`
 * sends the client to the proxy of each node the cluster announces.
 */
export async function delayedClusterClient(delayMs: () => number): Promise<DelayedClient<Cluster>> {
  const { nodes, natMap } = inject('redis').cluster;
  const announced =
    natMap ?? Object.fromEntries(nodes.map((node) => [`${node.host}:${node.port}`, node]));
  const proxies: DelayProxy[] = [];
  const throughProxies: Record<string, { host: string; port: number }> = {};
  for (const [address, target] of Object.entries(announced)) {
    const proxy = await startDelayProxy(target, delayMs);
    proxies.push(proxy);
    throughProxies[address] = { host: proxy.host, port: proxy.port };
  }
  const client = new Cluster(
    proxies.map((proxy) => ({ host: proxy.host, port: proxy.port })),
    { natMap: throughProxies },
  );
  return {
    client,
    closeProxies: async () => {
      await Promise.all(proxies.map((proxy) => proxy.close()));
    },
  };
}

/** The same standalone server through ioredis 5 (the `ioredis5` alias), a copy of ioredis not ours. */
export function standaloneClient5(): Redis5 {
  return new Redis5(inject('redis').standalone);
}

/** The same cluster through ioredis 5. */
export function clusterClient5(): Cluster5 {
  const { nodes, natMap } = inject('redis').cluster;
  return new Cluster5(nodes, natMap === undefined ? {} : { natMap });
}

/** Options of the node-redis test clients: the protocol (node-redis 6 speaks RESP3 by default). */
export interface NodeRedisTestOptions {
  RESP?: 2 | 3;
}

/** A connected node-redis 6 client of the standalone server. */
export function nodeRedisClient(options: NodeRedisTestOptions = {}) {
  const client = createClient({ socket: inject('redis').standalone, ...options });
  // node-redis ends the process on an `error` event nobody listens to; failed commands reject.
  client.on('error', () => undefined);
  return client.connect();
}

/** A connected node-redis 6 Cluster client of the cluster. */
export function nodeRedisCluster(options: NodeRedisTestOptions = {}) {
  const cluster = createCluster({ ...clusterOptions(), ...options });
  cluster.on('error', () => undefined);
  return cluster.connect();
}

/** The same standalone server through node-redis 5 (the `redis5` alias). */
export function nodeRedisClient5() {
  const client = createClient5({ socket: inject('redis').standalone });
  client.on('error', () => undefined);
  return client.connect();
}

/** The same cluster through node-redis 5. */
export function nodeRedisCluster5() {
  const cluster = createCluster5(clusterOptions());
  cluster.on('error', () => undefined);
  return cluster.connect();
}

/** node-redis Cluster options: the seeds, and the address translation if the nodes need one. */
function clusterOptions() {
  const { nodes, natMap } = inject('redis').cluster;
  return {
    rootNodes: nodes.map((node) => ({ socket: { host: node.host, port: node.port } })),
    ...(natMap === undefined ? {} : { nodeAddressMap: natMap }),
  };
}
