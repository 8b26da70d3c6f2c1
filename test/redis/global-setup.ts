import type { TestProject } from 'vitest/node';
import {
  type RedisTopology,
  redisTestsBlocker,
  startRedisServers,
} from '../helpers/redis-servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redis: RedisTopology;
  }
}

/** Starts (or finds) the Redis servers once, hands their addresses to the tests, stops them after. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const blocker = await redisTestsBlocker();
  if (blocker !== undefined) {
    // Thrown from here, the error would come after vitest's "No test files found" and with a
    // long stack, burying what is missing: say it in one line and stop the run.
    console.error(blocker);
    process.exit(1);
  }
  const running = await startRedisServers();
  console.log(`[redis tests] ${running.topology.description}`);
  console.log(
    `[redis tests] standalone ${running.topology.standalone.host}:${running.topology.standalone.port}; cluster ${running.topology.cluster.nodes.map((n) => `${n.host}:${n.port}`).join(', ')}`,
  );
  project.provide('redis', running.topology);
  return () => running.stop();
}
