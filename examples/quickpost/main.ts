/**
 * `npm run example`: the QuickPost API on http://127.0.0.1:3000 (PORT, HOST), its data in
 * embedded PGlite or on the Postgres server at DATABASE_URL, cached on MemoryStore, or on Redis
 * with REDIS_URL or REDIS_CLUSTER_NODES; DEBUG=quickpost prints the cache's debug lines.
 * Stops on SIGINT (Ctrl-C) or SIGTERM.
 */
import { start } from './server.js';

const app = await start();
const where = app.database.kind === 'pglite' ? 'embedded PGlite, in memory' : 'DATABASE_URL';
console.log(`[quickpost] data: Postgres (${where})`);
console.log(`[quickpost] listening on ${app.url} (cache: ${app.backend})`);

const stop = (signal: NodeJS.Signals): void => {
  console.log(`[quickpost] ${signal}: stopping`);
  app.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error('[quickpost] could not stop cleanly:', error);
      process.exit(1);
    },
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
