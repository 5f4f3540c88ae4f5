import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { withStatementSpan } from '../observability/tracing.ts';
import type { BegunConnection, Database, Queryable } from './database.ts';

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

/** A begun connection waiting in a `lend` scope; taken at most once. */
interface Loan {
  client?: pg.PoolClient;
}

const loans = new AsyncLocalStorage<Loan>();

const BEGIN_DONE: Partial<pg.QueryResult> = { command: 'BEGIN', rowCount: null, rows: [], fields: [] };

/**
 * The connection as its borrower sees it: the transaction is already open, so the borrower's own
 * BEGIN is answered without a round trip; everything else, release included, goes to the connection.
 */
function alreadyBegun(client: pg.PoolClient): pg.PoolClient {
  let begun = false;
  const query = (config: unknown, ...rest: unknown[]) => {
    const text = typeof config === 'string' ? config : (config as { text?: string }).text;
    if (!begun && text !== undefined && /^\s*begin\s*$/i.test(text)) {
      begun = true;
      return Promise.resolve(BEGIN_DONE);
    }
    return (client.query as (...args: unknown[]) => unknown)(config, ...rest);
  };
  return new Proxy(client, {
    get(target, property) {
      if (property === 'query') return query;
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * A pool that, inside a `lend` scope, answers the first promise-style connect() with the lent
 * connection. A second connect() in the same scope fails instead of quietly handing out a fresh
 * connection that never received the scope's claims.
 */
class LendingPool extends pg.Pool {
  override connect(): Promise<pg.PoolClient>;
  override connect(callback: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void): void;
  override connect(...args: unknown[]): unknown {
    const loan = loans.getStore();
    // Callback style is pg's own pool.query(), which never runs inside a transaction.
    if (!loan || args.length > 0) return (super.connect as (...a: unknown[]) => unknown)(...args);
    const { client } = loan;
    if (!client) return Promise.reject(new Error('the lent connection was already taken; refusing to open another'));
    loan.client = undefined;
    return Promise.resolve(alreadyBegun(client));
  }
}

/** BEGIN, and the opening statement if any, in one round trip (a script, so no parameters). */
function sendBegin(client: pg.PoolClient, opening?: string) {
  const script = opening ? `begin; ${opening}` : 'begin';
  return withStatementSpan(script, () => client.query(script));
}

async function begin(pool: pg.Pool, opening: string): Promise<BegunConnection> {
  const client = await pool.connect();
  try {
    await sendBegin(client, opening);
  } catch (error) {
    // A failed BEGIN script may leave the connection mid-transaction: do not reuse it.
    client.release(error as Error);
    throw error;
  }
  const loan: Loan = { client };
  return {
    lend: (fn) => loans.run(loan, fn),
    release(error) {
      if (!loan.client) return;
      loan.client = undefined;
      client.release(error ?? true);
    },
  };
}

export interface PostgresOptions {
  max?: number;
  /**
   * Longest to wait for a free connection, in milliseconds (default 10 s); past it the caller gets
   * an error that answers DATABASE_UNAVAILABLE rather than a request queued without end.
   */
  connectionTimeoutMs?: number;
  applicationName?: string;
}

/** A pg pool as a Database; each transaction holds one pooled connection from BEGIN to COMMIT. */
export function openPostgres(connectionString: string, options: PostgresOptions = {}): Database & { pool: pg.Pool } {
  const pool = new LendingPool({
    connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    application_name: options.applicationName ?? 'tenant-graphql-gateway',
  });
  // An idle client's error (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  return {
    kind: 'postgres',
    pool,
    ...wrap(pool),
    async transaction(fn, opening) {
      const client = await pool.connect();
      try {
        await sendBegin(client, opening);
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
    begin: (opening) => begin(pool, opening),
    close: () => pool.end(),
  };
}
