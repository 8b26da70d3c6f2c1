import { Cluster, Redis } from 'ioredis';
import { inject } from 'vitest';

/** A new ioredis client for the standalone server the global setup provided. */
export function standaloneClient(): Redis {
  return new Redis(inject('redis').standalone);
}

/** A new ioredis Cluster client for the cluster the global setup provided. */
export function clusterClient(): Cluster {
  const { nodes, natMap } = inject('redis').cluster;
  return new Cluster(nodes, natMap === undefined ? {} : { natMap });
}
