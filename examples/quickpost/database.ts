/**
 * The database QuickPost's data lives in: Postgres, reached through the small `Database` below,
 * with two implementations that run the same SQL. By default PGlite (Postgres compiled to
 * WebAssembly, embedded in the process, its data in memory: no server to install); with
 * `DATABASE_URL`, a Postgres server through node-postgres (`pg`).
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/** Runs one SQL statement with `$1`, `$2`… parameters and answers its rows. */
export type Query = <Row>(sql: string, params?: readonly unknown[]) => Promise<Row[]>;

/** A Postgres database. */
export interface Database {
  /** `'pglite'` (embedded, in memory) or `'postgres'` (a server). */
  readonly kind: 'pglite' | 'postgres';
  /** Runs one statement on its own. */
  readonly query: Query;
  /**
   * Runs `work` in a transaction, every statement on one connection: COMMIT once `work`
   * resolves, ROLLBACK if it throws (the error passes through).
   */
  transaction<T>(work: (query: Query) => Promise<T>): Promise<T>;
  /** Closes the database (PGlite) or the connection pool (a server). */
  close(): Promise<void>;
}

/**
 * A new empty PGlite database in memory. PGlite runs one session: a query made while a
 * transaction is open waits until it ends.
 */
export function embeddedDatabase(): Database {
  const db = new PGlite();
  const on =
    (target: Pick<PGlite, 'query'>): Query =>
    async <Row>(sql: string, params: readonly unknown[] = []) =>
      (await target.query<Row>(sql, [...params])).rows;
  return {
    kind: 'pglite',
    query: on(db),
    transaction: (work) => db.transaction((tx) => work(on(tx))),
    close: () => db.close(),
  };
}

/** The Postgres server at `url` (`postgres://user:password@host:port/database`), through a pool. */
export function serverDatabase(url: string): Database {
  const pool = new pg.Pool({ connectionString: url });
  // An idle connection the server drops emits `error` on the pool; without a listener it would
  // end the process. The pool replaces the connection.
  pool.on('error', (error) => {
    console.warn(`[quickpost] Postgres: ${error.message}`);
  });
  const on =
    (target: pg.Pool | pg.PoolClient): Query =>
    async <Row>(sql: string, params: readonly unknown[] = []) =>
      (await target.query(sql, [...params])).rows as Row[];
  return {
    kind: 'postgres',
    query: on(pool),
    async transaction(work) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await work(on(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw error;
      } finally {
        // A connection that could not roll back is closed rather than given to the next caller.
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
