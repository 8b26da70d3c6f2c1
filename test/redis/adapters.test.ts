// The Express, Fastify and Hono adapters on a real Redis, over real HTTP on loopback (the same on
// MemoryStore, and each framework's specifics, in test/unit/adapters.test.ts).
import { expressCase, fastifyCase, honoCase } from '../helpers/adapter-apps.js';
import { describeAdapter } from '../helpers/adapter-cases.js';
import { redisStoreCase } from '../helpers/redis-store-case.js';

for (const adapter of [expressCase, fastifyCase, honoCase])
  describeAdapter(adapter, redisStoreCase);
