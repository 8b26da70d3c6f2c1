import { createServer, type Server, Socket } from 'node:net';

/** Where a TCP server listens. */
export interface Address {
  host: string;
  port: number;
}

/** A running delay proxy. */
export interface DelayProxy extends Address {
  /** Stops accepting, and closes every connection it carries. */
  close(): Promise<void>;
}

/**
 * A TCP proxy on loopback in front of a Redis server that delays every reply chunk by
 * `delayMs()` milliseconds (drawn per chunk), keeping their order: the network latency of a
 * slow link, with Redis itself unchanged. Requests go through at once, so Redis applies each
 * command when it would have, and only its answer arrives late.
 */
export async function startDelayProxy(target: Address, delayMs: () => number): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    sockets.add(client).add(upstream);
    const queue: { due: number; chunk: Buffer }[] = [];
    let timer: NodeJS.Timeout | undefined;
    let lastDue = 0;
    const drain = () => {
      timer = undefined;
      const now = Date.now();
      while (queue.length > 0 && (queue[0] as { due: number }).due <= now) {
        client.write((queue.shift() as { chunk: Buffer }).chunk);
      }
      if (queue.length > 0) {
        timer = setTimeout(drain, (queue[0] as { due: number }).due - now);
      }
    };
    upstream.on('data', (chunk: Buffer) => {
      // Never earlier than the chunk before: replies keep their order, as on one TCP stream.
      lastDue = Math.max(lastDue, Date.now() + delayMs());
      queue.push({ due: lastDue, chunk });
      timer ??= setTimeout(drain, lastDue - Date.now());
    });
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    const end = () => {
      if (timer !== undefined) clearTimeout(timer);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
    upstream.connect(target.port, target.host);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    host: '127.0.0.1',
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
