import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
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

/**
 * Names for prepared statements, by text. Each connection parses and plans a named statement once
 * and keeps it while it lives, so the set of names is bounded: past `limit` distinct texts, the
 * rest run unnamed (parsed each time), as they would without preparing.
 */
class PreparedNames {
  private readonly names = new Map<string, string>();
  constructor(private readonly limit: number) {}

  nameFor(text: string): string | undefined {
    const known = this.names.get(text);
    if (known || this.names.size >= this.limit) return known;
    const name = `gw_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
    this.names.set(text, name);
    return name;
  }
}

type Listener = (sql: string, params: string) => void;

async function begin(pool: pg.Pool, opening: string, prepared: PreparedNames | undefined, onStatement?: Listener): Promise<BegunConnection> {
  const client = await pool.connect();
  try {
    await sendBegin(client, opening);
  } catch (error) {
    // A failed BEGIN script may leave the connection mid-transaction: do not reuse it.
    client.release(error as Error);
    throw error;
  }
  const loan: Loan = { client };
  let released = false;
  return {
    async query<Row>(text: string, params: readonly unknown[], options: { prepare?: boolean } = {}) {
      if (released) throw new Error('the connection was released; its transaction is over');
      onStatement?.(text, JSON.stringify(params));
      const name = options.prepare ? prepared?.nameFor(text) : undefined;
      const result = await withStatementSpan(text, () => client.query({ text, values: params as unknown[], name }));
      return result.rows as Row[];
    },
    async end(outcome) {
      if (released || !loan.client) throw new Error('the connection was lent or released; its borrower ends the transaction');
      released = true;
      loan.client = undefined;
      onStatement?.(outcome, '[]');
      try {
        await withStatementSpan(outcome, () => client.query(outcome));
      } catch (error) {
        client.release(error as Error);
        throw error;
      }
      client.release();
    },
    lend: (fn) => loans.run(loan, fn),
    release(error) {
      released = true;
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
  /**
   * Named prepared statements for the statements that ask for them (default true). Turn off
   * behind a pooler in transaction mode (Supavisor or PgBouncer on port 6543), where the next
   * transaction may run on a server connection that never saw the statement.
   */
  preparedStatements?: boolean;
  /** Most distinct statements prepared by this process (default 500). */
  maxPreparedStatements?: number;
  /** Called with each statement run directly on a begun connection (tests' statement log). */
  onStatement?: Listener;
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
  const prepared = options.preparedStatements === false ? undefined : new PreparedNames(options.maxPreparedStatements ?? 500);
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
    begin: (opening) => begin(pool, opening, prepared, options.onStatement),
    async once<Row>(opening: string, statement: string) {
      const client = await pool.connect();
      options.onStatement?.(statement, '[]');
      const script = `begin; ${opening}; ${statement}; commit`;
      let results: pg.QueryResult[];
      try {
        results = (await withStatementSpan(script, () => client.query(script))) as unknown as pg.QueryResult[];
      } catch (error) {
        // The script stopped at the failing statement, inside its transaction: end it here.
        await client.query('rollback').then(
          () => client.release(),
          (rollbackError: Error) => client.release(rollbackError),
        );
        throw error;
      }
      client.release();
      // The statement's rows: the last result is COMMIT's, the one before it the statement's.
      return results.at(-2)!.rows as Row[];
    },
    close: () => pool.end(),
  };
}
