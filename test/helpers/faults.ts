/**
 * Small tools for fault tests on a Redis container of a test's own (see `startFaultRedis`):
 * freezing it (`docker pause`), finding and killing one client's connection (`CLIENT KILL ID`),
 * and a list of clean-ups that an `afterEach` runs in reverse order.
 */
import { Redis } from 'ioredis';
import { getContainerRuntimeClient } from 'testcontainers';
import type { FaultRedis } from './redis-servers.js';

/** Clean-ups registered by a test, run newest first, each one's failure ignored. */
export class Cleanups {
  readonly #runs: (() => unknown)[] = [];

  /** Registers `run` (called once by {@link runAll}). */
  add(run: () => unknown): void {
    this.#runs.push(run);
  }

  /** Runs every registered clean-up, newest first, and forgets them. */
  async runAll(): Promise<void> {
    for (const run of this.#runs.splice(0).reverse()) {
      try {
        await run();
      } catch {
        // A clean-up that fails (a container already gone) must not hide the test's own result.
      }
    }
  }
}

/**
 * Freezes every process of the server's container (`docker pause`, like SIGSTOP: connections
 * stay open, nothing answers). Returns the unpause, which is also registered in `cleanups` (a
 * second call does nothing).
 */
export async function pauseServer(
  server: FaultRedis,
  cleanups: Cleanups,
): Promise<() => Promise<void>> {
  const runtime = await getContainerRuntimeClient();
  const container = runtime.container.getById(server.container.getId());
  await container.pause();
  let paused = true;
  const unpause = async () => {
    if (!paused) return;
    paused = false;
    await container.unpause();
  };
  cleanups.add(unpause);
  return unpause;
}

/** An admin connection to the server (for CLIENT LIST / KILL, ACL, inspecting keys), closed by `cleanups`. */
export function adminClient(server: FaultRedis, cleanups: Cleanups): Redis {
  const admin = new Redis({ host: server.host, port: server.port, connectionName: 'admin' });
  admin.on('error', () => undefined);
  cleanups.add(() => admin.disconnect());
  return admin;
}

/** The ids of the connections named `name` (ioredis `connectionName`), from `CLIENT LIST`. */
export async function clientIds(admin: Redis, name: string): Promise<string[]> {
  const list = (await admin.call('CLIENT', 'LIST')) as string;
  return list
    .split('\n')
    .filter((line) => line.includes(` name=${name} `))
    .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined);
}

/** Kills every connection named `name`; answers how many were killed. */
export async function killClients(admin: Redis, name: string): Promise<number> {
  let killed = 0;
  for (const id of await clientIds(admin, name)) {
    killed += Number(await admin.call('CLIENT', 'KILL', 'ID', id));
  }
  return killed;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Calls `probe` every `intervalMs` until it answers true or `limitMs` have passed; answers how
 * long it took (ms), or `undefined` if it never did.
 */
export async function pollUntil(
  probe: () => Promise<boolean>,
  { intervalMs, limitMs }: { intervalMs: number; limitMs: number },
): Promise<number | undefined> {
  const start = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - start;
    if (performance.now() - start >= limitMs) return undefined;
    await sleep(intervalMs);
  }
}
