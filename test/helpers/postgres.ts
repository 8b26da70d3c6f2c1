/**
 * A real Postgres server for the transaction tests: the one at `DATABASE_URL` if set, else one
 * started here from Debian's postgresql package (`apt-get install postgresql`), in a temporary
 * directory, on a free loopback port, stopped by its pid. PGlite (embedded, one session) cannot
 * show the race these tests are about: it needs a reader in another session while a transaction
 * is open.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** A Postgres server to connect to. */
export interface RunningPostgres {
  /** `postgres://…` of a database the tests may use. */
  readonly url: string;
  /** Stops the server if this helper started it. */
  stop(): Promise<void>;
}

/** The newest Debian postgresql `bin` folder, if one is installed. */
function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((version) => existsSync(join(root, version, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts (or finds) a Postgres server; see the module comment. */
export async function startPostgres(): Promise<RunningPostgres> {
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv !== undefined && fromEnv !== '') return { url: fromEnv, stop: async () => {} };
  const bin = postgresBin();
  if (bin === undefined) {
    throw new Error(
      'The transaction tests need Postgres: set DATABASE_URL, or install Debian’s postgresql package (apt-get install postgresql; .ci/run does)',
    );
  }
  // Postgres refuses to run as root: as root, the server runs as the package's `postgres` user.
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }) : undefined;
  const group = asRoot ? spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }) : undefined;
  const ids = asRoot ? { uid: Number(user?.stdout), gid: Number(group?.stdout) } : {};
  const dir = mkdtempSync(join(tmpdir(), 'quickpost-pg-'));
  if (asRoot) chownSync(dir, ids.uid as number, ids.gid as number);
  const data = join(dir, 'data');
  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'],
    { ...ids, encoding: 'utf8' },
  );
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const server = spawn(
    join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir, '-c', 'fsync=off'],
    { ...ids, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  server.stderr?.on('data', (chunk) => {
    log += String(chunk);
  });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const stop = async () => {
    if (server.exitCode === null && server.pid !== undefined) process.kill(server.pid, 'SIGINT');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const until = Date.now() + 30_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return { url, stop };
    } catch (error) {
      await client.end().catch(() => undefined);
      if (server.exitCode !== null || Date.now() > until) {
        await stop();
        throw new Error(`Postgres did not start: ${String(error)}\n${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * A new schema of its own in the database at `url`, so that tests sharing a server (one given by
 * `DATABASE_URL`, say) never meet each other's tables: answers the URL whose sessions use it
 * (`search_path`), and `drop`, which removes it and everything in it.
 */
export async function isolatedSchema(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `test_${randomUUID().replaceAll('-', '_')}`;
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`CREATE SCHEMA ${schema}`);
  const scoped = new URL(url);
  scoped.searchParams.set('options', `-c search_path=${schema}`);
  return { url: scoped.toString(), drop: () => run(`DROP SCHEMA ${schema} CASCADE`) };
}
