import calculateSlot from 'cluster-key-slot';
import type { ServerDriver, Topology } from './driver.js';

/** Hash slots of a Redis Cluster. */
const SLOTS = 16_384;

/** The servers of a topology and which of them owns a key. */
export interface ServerTable {
  /** Each server once: the standalone one, or every master of a Cluster. */
  servers: ServerDriver[];
  /** The server that owns `key` (on a Cluster, the master of its hash slot). */
  owner: (key: string) => ServerDriver;
  /** Whether keys may live in different slots, so a multi-key command would fail with CROSSSLOT. */
  cluster: boolean;
}

/**
 * The servers behind a topology. On a Cluster, checked against the slot table: it throws unless
 * every one of the 16,384 slots has a master the client holds a connection to, because right
 * after a Cluster client is made it knows only its seeds (or nothing, for hostname seeds), and
 * scanning those would skip keys while reporting success.
 */
export function serverTable(topology: Topology): ServerTable {
  if ('server' in topology) {
    const { server } = topology;
    return { servers: [server], owner: () => server, cluster: false };
  }
  const bySlot = new Array<ServerDriver>(SLOTS);
  for (let slot = 0; slot < SLOTS; slot += 1) {
    const { node, address } = topology.masterOf(slot);
    if (node === undefined) {
      throw new Error(
        `the Cluster client has no master for hash slot ${slot}${address === undefined ? '' : ` (${address})`}; a pattern delete would miss keys, so it fails and is retried`,
      );
    }
    bySlot[slot] = node;
  }
  return {
    servers: [...new Set(bySlot)],
    owner: (key) => bySlot[calculateSlot(key)] as ServerDriver,
    cluster: true,
  };
}
