import { InvalidOptionError } from '../../errors.js';

/** The methods a store calls on each kind of client of its library. */
export interface ClientMethods {
  /** What `client` must be, the start of every refusal. */
  readonly expected: string;
  /** The method that tells a Cluster client from a standalone one. */
  readonly clusterMethod: string;
  /** The methods a standalone client must have. */
  readonly server: readonly string[];
  /** The methods a Cluster client must have. */
  readonly cluster: readonly string[];
}

/**
 * Refuses, when the store is made, what is not an object with every method the store will call
 * (a Cluster's when it has `clusterMethod`), naming the missing ones; tells whether it is a Cluster.
 */
export function checkMethods(client: unknown, methods: ClientMethods): boolean {
  if (typeof client !== 'object' || client === null) {
    throw new InvalidOptionError(
      'client',
      `${methods.expected}, got ${client === null ? 'null' : typeof client}`,
    );
  }
  const members = client as Record<string, unknown>;
  const cluster = typeof members[methods.clusterMethod] === 'function';
  const missing = (cluster ? methods.cluster : methods.server).filter(
    (name) => typeof members[name] !== 'function',
  );
  if (missing.length > 0) {
    throw new InvalidOptionError(
      'client',
      `${methods.expected}; this ${cluster ? 'Cluster-like ' : ''}object has no ${missing.map((name) => `\`${name}()\``).join(', ')}`,
    );
  }
  return cluster;
}
