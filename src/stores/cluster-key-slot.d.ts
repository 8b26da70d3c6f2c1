// Types for cluster-key-slot (the hash-slot function of the ioredis project), which ships none.
declare module 'cluster-key-slot' {
  /** The Redis Cluster hash slot (0–16383) of a key, hash tags honoured. */
  function calculateSlot(key: string): number;
  export default calculateSlot;
}
