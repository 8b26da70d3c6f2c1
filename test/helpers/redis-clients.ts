import { Cluster, Redis } from 'ioredis';
import { Cluster as Cluster5, Redis as Redis5 } from 'ioredis5';
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

/** The same standalone server through ioredis 5 (the `ioredis5` alias), a copy of ioredis not ours. */
export function standaloneClient5(): Redis5 {
  return new Redis5(inject('redis').standalone);
}

/** The same cluster through ioredis 5. */
export function clusterClient5(): Cluster5 {
  const { nodes, natMap } = inject('redis').cluster;
  return new Cluster5(nodes, natMap === undefined ? {} : { natMap });
}
