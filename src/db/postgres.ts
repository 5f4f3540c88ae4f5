import pg from 'pg';
import { withStatementSpan } from '../observability/tracing.ts';
import type { Database, Queryable } from './database.ts';

function wrap(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query(text, params) {
      const result = await withStatementSpan(text, () => client.query(text, params as unknown[] | undefined));
      return { rows: result.rows };
    },
    async exec(script) {
      await client.query(script);
    },
  };
}

export interface PostgresOptions {
  max?: number;
  applicationName?: string;
}

/** A pg pool as a Database; each transaction holds one pooled connection from BEGIN to COMMIT. */
export function openPostgres(connectionString: string, options: PostgresOptions = {}): Database & { pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'tenant-graphql-gateway',
  });
  // An idle client's error (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  return {
    kind: 'postgres',
    pool,
    ...wrap(pool),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const result = await fn(wrap(client));
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
