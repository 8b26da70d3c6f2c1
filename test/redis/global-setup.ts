import type { TestProject } from 'vitest/node';
import { type RedisTopology, startRedisServers } from '../helpers/redis-servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redis: RedisTopology;
  }
}

/** Starts (or finds) the Redis servers once, hands their addresses to the tests, stops them after. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const running = await startRedisServers();
  console.log(`[redis tests] ${running.topology.description}`);
  console.log(
    `[redis tests] standalone ${running.topology.standalone.host}:${running.topology.standalone.port}; cluster ${running.topology.cluster.nodes.map((n) => `${n.host}:${n.port}`).join(', ')}`,
  );
  project.provide('redis', running.topology);
  return () => running.stop();
}
