import { RedisStore } from '../../src/redis.js';
import { describeStoreConformance } from '../../src/testing/index.js';
import { clusterClient, standaloneClient } from '../helpers/redis-clients.js';

/**
 * Known bug in RedisStore.deleteTracked (src/stores/redis.ts): the key equal to an index level
 * (`<ns>` itself, tracked under level `<ns>` as the empty member) is not found by `<ns>**`. The
 * member pattern is the pattern minus the level, `**`, and Redis's glob matches nothing against an
 * empty string (ZSCAN MATCH `**` skips the member `''`; only `*` is special-cased by SCAN/ZSCAN),
 * whereas SCAN MATCH `<ns>**` on the full key matches it (trailing stars match the empty rest).
 * So the index deletes less than `deletePattern` would. Fix: a member pattern of stars only should
 * be sent as `*`.
 */
const knownFailures = {
  'deletes tracked keys by the Redis glob "**" exactly':
    "RedisStore.deleteTracked misses the key equal to the level for a pattern of stars only (ZSCAN MATCH '**' skips the empty member)",
};

describeStoreConformance({
  name: 'RedisStore on a standalone Redis',
  create: () => new RedisStore({ client: standaloneClient() }),
  dispose: (store) => store.client.quit(),
  volume: 20_000,
  knownFailures,
});

describeStoreConformance({
  name: 'RedisStore on a 3-master Redis Cluster',
  create: () => new RedisStore({ client: clusterClient() }),
  dispose: (store) => store.client.quit(),
  volume: 20_000,
  knownFailures,
});
