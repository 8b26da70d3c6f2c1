import { Cluster, Redis } from 'ioredis';
import { Cluster as Cluster5, Redis as Redis5 } from 'ioredis5';
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
