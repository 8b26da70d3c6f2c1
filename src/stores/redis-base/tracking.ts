/**
 * Change notifications through Redis's server-assisted client-side caching, in broadcasting mode:
 * one connection of the store's own per server (each master of a Cluster), speaking RESP2, that
 * turns on `CLIENT TRACKING on REDIRECT <itself> BCAST PREFIX <prefix>` and subscribes to
 * `__redis__:invalidate`. Tracking belongs to a connection, so after any drop a new connection is
 * opened and set up anew: the listener hears `lost` at the drop and `ready` once every server
 * reports again. The client library only opens the connection (see `ServerDriver.openLink`).
 */
import type { ChangeListener } from '../store.js';
import type { ServerDriver, TrackingLink } from './driver.js';

/** The channel Redis sends tracking invalidations to, in RESP2. */
const INVALIDATE = '__redis__:invalidate';

/** Name of the tracking connections, so that `CLIENT LIST` shows what they are. */
export const TRACKING_CONNECTION_NAME = 'quickpost-cache:l1';

/**
 * Reports every change of a key starting with `prefix` on `servers` to `listener`, which hears
 * `ready` once all of them report and `lost` when one of them stops; why a connection could not
 * be opened or set up goes to `onError`. Returns the function that stops it and closes the
 * connections.
 */
export function watchServers(
  servers: readonly ServerDriver[],
  prefix: string,
  listener: ChangeListener,
  onError: (server: ServerDriver, error: unknown) => void,
): () => Promise<void> {
  const ready = new Set<number>();
  const stops = servers.map((server, index) =>
    trackServer(server, prefix, onError, {
      changed: (keys) => listener.changed(keys),
      ready: () => {
        ready.add(index);
        if (ready.size === servers.length) listener.ready();
      },
      lost: () => {
        const wasReady = ready.size === servers.length;
        ready.delete(index);
        if (wasReady) listener.lost();
      },
    }),
  );
  return async () => {
    await Promise.all(stops.map((stop) => stop()));
  };
}

/**
 * Keeps one server's tracking connection: opens it, sets tracking up, reports `ready`; when it
 * drops (or could not be opened or set up), reports `lost` and opens a new one after a pause that
 * grows by 50 ms per failed attempt, up to 2 s. Returns the function that stops it.
 */
function trackServer(
  server: ServerDriver,
  prefix: string,
  onError: (server: ServerDriver, error: unknown) => void,
  listener: ChangeListener,
): () => Promise<void> {
  let stopped = false;
  let current: TrackingLink | undefined;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => wake?.(), ms);
      wake = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
    });
  const run = async () => {
    let failures = 0;
    while (!stopped) {
      let link: TrackingLink | undefined;
      try {
        link = await server.openLink();
        current = link;
        if (stopped) break;
        const id = await link.command(['CLIENT', 'ID']);
        await link.command([
          'CLIENT',
          'TRACKING',
          'ON',
          'REDIRECT',
          String(id),
          'BCAST',
          'PREFIX',
          prefix,
        ]);
        await link.subscribe(INVALIDATE, (payload) => {
          // A flush (FLUSHALL, FLUSHDB) arrives as `null`: anything may have changed.
          if (!stopped) listener.changed(Array.isArray(payload) ? payload.map(String) : null);
        });
        if (stopped) break;
        failures = 0;
        listener.ready();
      } catch (error) {
        // Not reachable, or tracking could not be set up: this connection is given up, and a new
        // one is tried after the pause.
        void link?.close();
        failures += 1;
        if (!stopped) onError(server, error);
      }
      if (link !== undefined) await link.closed;
      if (stopped) break;
      listener.lost();
      await pause(Math.min(Math.max(failures, 1) * 50, 2000));
    }
    // Stopped while a connection was being opened: close it now.
    await current?.close();
  };
  void run();
  return async () => {
    stopped = true;
    wake?.();
    await current?.close();
  };
}
