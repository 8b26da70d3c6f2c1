// The NestJS adapter on a real Redis, over real HTTP on loopback (the same on MemoryStore in
// test/unit/nestjs.legacy.test.ts). Legacy decorators: see vitest.config.ts.
import { describeAdapter } from '../helpers/adapter-cases.js';
import { nestCase } from '../helpers/nest-app.legacy.js';
import { redisStoreCase } from '../helpers/redis-store-case.js';

describeAdapter(nestCase, redisStoreCase);
