/** What every statement runner offers: parameterised queries and multi-statement scripts. */
export interface Queryable {
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<{ rows: Row[] }>;
  /** Runs a script of several statements without parameters (migrations, seeds). */
  exec(script: string): Promise<void>;
}

/** A Postgres reached either embedded (PGlite) or over the network (pg pool). */
export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /**
   * Runs fn in one transaction: committed when fn resolves, rolled back when it throws.
   * `opening`, a statement without parameters, runs first; on a server it travels with BEGIN,
   * in the same round trip.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, opening?: string): Promise<T>;
  /**
   * Takes a connection, sends BEGIN and `opening` on it in one round trip, then lends it: code
   * run through `lend` that asks the pool for a connection (Prisma starting a transaction) gets
   * this one, already begun. Absent where round trips cost nothing (PGlite, in process).
   */
  begin?(opening: string): Promise<BegunConnection>;
  /**
   * A whole transaction in one round trip: BEGIN, `opening`, `statement` and COMMIT as one
   * script (so neither takes parameters), returning the rows of `statement`. On failure the
   * transaction is rolled back and the error thrown. Absent where round trips cost nothing.
   */
  once?<Row = Record<string, unknown>>(opening: string, statement: string): Promise<Row[]>;
  close(): Promise<void>;
}

/** A connection inside a transaction that `begin` opened, waiting to be handed to its user. */
export interface BegunConnection {
  /**
   * Runs one statement on the connection itself, inside the open transaction (also while it is
   * lent). `prepare` asks for a named prepared statement, parsed and planned once per connection;
   * the database may decline (a pooler in transaction mode, too many distinct statements).
   */
  query<Row = Record<string, unknown>>(text: string, params: readonly unknown[], options?: { prepare?: boolean }): Promise<Row[]>;
  /** Runs fn so that the first connection its code asks the pool for is this one, without a second BEGIN. */
  lend<T>(fn: () => T): T;
  /**
   * Ends the transaction (COMMIT or ROLLBACK) and gives the connection back to the pool, when
   * it was never lent; a connection that fails to end is discarded.
   */
  end(outcome: 'commit' | 'rollback'): Promise<void>;
  /** Gives the connection back if it was never lent (or its user failed before taking it). */
  release(error?: Error): void;
}
