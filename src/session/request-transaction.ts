import { AsyncResource } from 'node:async_hooks';
import type { BegunConnection, Database } from '../db/database.ts';
import { countStatement } from '../observability/request-scope.ts';
import { claimsStatement, type RequestClaims } from './claims.ts';
import type { Prisma, PrismaClient } from '../db/prisma.ts';

export type TransactionClient = Prisma.TransactionClient;

export interface RequestTransactionOptions {
  /** Longest a request may hold its connection, in milliseconds; the transaction is rolled back after it. */
  timeoutMs?: number;
  /** Longest to wait for a connection from the pool, in milliseconds. */
  maxWaitMs?: number;
  /** Longest one statement may run, in milliseconds (statement_timeout); TIMEOUT for the caller. */
  statementTimeoutMs?: number;
  /**
   * The database's one-round-trip BEGIN (Database.begin): the transaction opens with the claims
   * already applied. Without it, Prisma begins and the claims follow as the first statement.
   */
  begin?: Database['begin'];
  /** The database's one-round-trip transaction (Database.once), for an operation of one statement. */
  once?: Database['once'];
}

// Thrown inside Prisma's transaction callback to make it roll back, then swallowed.
const ROLLBACK = Symbol('rollback');

/**
 * The one transaction of a GraphQL operation. Opened on first use, so an operation that
 * never touches the database holds no connection; its first statement applies the caller's
 * claims; finish() commits or rolls back. Mutations run in savepoints so one failed
 * mutation leaves nothing behind without undoing the others of the same operation; an
 * operation of one mutation needs none, as rolling the whole transaction back leaves the same.
 */
export class RequestTransaction {
  private client?: Promise<TransactionClient>;
  /** The connection BEGIN was sent on, when the database opens it (a server); Prisma joins it on first use. */
  private connection?: Promise<BegunConnection>;
  /** Where the transaction began (its trace span, its request), for ending it in the same place. */
  private beganIn?: AsyncResource;
  private settled?: Promise<void>;
  private decide?: (outcome: 'commit' | 'rollback') => void;
  private readOnly = false;
  private savepoints = 0;
  /** The operation is one mutation: its writes need no savepoint of their own. */
  private soleMutation = false;
  /** A write outside any savepoint failed, so the transaction can only roll back. */
  private failed = false;
  /** The operation's one statement ran as a transaction of its own (only()); nothing more may run. */
  private over = false;

  constructor(
    private readonly prisma: PrismaClient,
    readonly claims: RequestClaims,
    private readonly options: RequestTransactionOptions = {},
  ) {}

  get isOpen(): boolean {
    return this.client !== undefined || this.connection !== undefined;
  }

  /** Whether any statement ran (or began to) as the caller: the transaction opened, or the operation's one statement ran. */
  get used(): boolean {
    return this.isOpen || this.over;
  }

  /** Must be called before the first statement; queries and subscriptions never write. */
  setReadOnly(readOnly: boolean): void {
    if (this.isOpen) throw new Error('setReadOnly must be called before the transaction opens');
    this.readOnly = readOnly;
  }

  /**
   * Declares the operation to be a single mutation field. Its first savepoint is then left out
   * (two round trips fewer): if that mutation fails, finish() rolls the whole transaction back,
   * which undoes exactly what the savepoint would have.
   */
  setSoleMutation(): void {
    this.soleMutation = true;
  }

  get(): Promise<TransactionClient> {
    if (this.over) return Promise.reject(new Error('the operation ran as one statement; its transaction is over'));
    this.client ??= this.open();
    return this.client;
  }

  /** The opening statement: the caller's claims, read-only or not, the timeouts. */
  private claimsStatement(): string {
    return claimsStatement(this.claims, {
      readOnly: this.readOnly,
      statementTimeoutMs: this.options.statementTimeoutMs,
      // The server frees the connection if the gateway stops using it for as long as a request may take.
      idleTimeoutMs: this.options.timeoutMs ?? 30_000,
    });
  }

  /** BEGIN and the claims in one round trip, on a server; Prisma is not involved until it is asked for. */
  private begun(begin: NonNullable<RequestTransactionOptions['begin']>): Promise<BegunConnection> {
    this.beganIn ??= new AsyncResource('RequestTransaction');
    this.connection ??= Promise.resolve()
      .then(() => begin(this.claimsStatement()))
      .then((connection) => {
        countStatement();
        return connection;
      });
    return this.connection;
  }

  private open(): Promise<TransactionClient> {
    const decided = new Promise<'commit' | 'rollback'>((resolve) => (this.decide = resolve));
    const limits = { timeout: this.options.timeoutMs ?? 30_000, maxWait: this.options.maxWaitMs ?? 10_000 };
    const begin = this.options.begin;
    return new Promise<TransactionClient>((resolveClient, rejectClient) => {
      let opened = false;
      const hold = async (tx: TransactionClient, first?: () => Promise<unknown>) => {
        await first?.();
        opened = true;
        resolveClient(tx);
        if ((await decided) === 'rollback') throw ROLLBACK;
      };
      const settle = (run: Promise<unknown>) =>
        run.then(
          () => undefined,
          (error: unknown) => {
            if (error === ROLLBACK) return;
            // Before opening, the error belongs to whoever asked for the client; after, to finish().
            if (!opened) return rejectClient(error);
            throw error;
          },
        );
      if (!begin) {
        // Inside the executor: claims that cannot be applied reject the client, as any opening failure does.
        this.settled = settle(
          Promise.resolve().then(() => {
            const claims = this.claimsStatement();
            return this.prisma.$transaction((tx) => hold(tx, () => tx.$queryRawUnsafe(claims)), limits);
          }),
        );
        return;
      }
      // Prisma's transaction runs on the connection already begun with the claims.
      this.settled = settle(
        this.begun(begin).then((connection) =>
          connection.lend(() => this.prisma.$transaction((tx) => hold(tx), limits)).finally(() => connection.release()),
        ),
      );
    });
  }

  /**
   * Runs one statement in the transaction and returns its rows: on a server directly on the
   * transaction's connection as a prepared statement, otherwise through Prisma. For statements
   * the gateway writes itself (planned reads); the claims apply as to every other statement.
   */
  async query<Row>(sql: string, params: readonly unknown[]): Promise<Row[]> {
    if (this.over) throw new Error('the operation ran as one statement; its transaction is over');
    const begin = this.options.begin;
    if (!begin) return (await this.get()).$queryRawUnsafe<Row[]>(sql, ...params);
    const connection = await this.begun(begin);
    countStatement();
    return connection.query<Row>(sql, params, { prepare: true });
  }

  /**
   * Runs the operation's only statement, which takes no parameters, as a transaction of its own:
   * on a server BEGIN, the claims, the statement and COMMIT travel as one script, so the
   * transaction (and any row lock it takes) lasts one round trip. Elsewhere, or when the
   * transaction is already open, it runs as query() does and finish() ends it.
   */
  async only<Row>(sql: string): Promise<Row[]> {
    const once = this.options.once;
    if (!once || this.isOpen || this.over) return this.query<Row>(sql, []);
    this.over = true;
    countStatement();
    return once<Row>(this.claimsStatement(), sql);
  }

  /** Runs fn in a savepoint: rolled back to it if fn throws, released otherwise. */
  async inSavepoint<T>(fn: (tx: TransactionClient) => Promise<T>): Promise<T> {
    const tx = await this.get();
    if (this.soleMutation && this.savepoints === 0) {
      // Counted as one, so any later call in the same operation takes a real savepoint.
      this.savepoints += 1;
      try {
        return await fn(tx);
      } catch (error) {
        this.failed = true;
        throw error;
      }
    }
    const name = `mutation_${++this.savepoints}`;
    await tx.$executeRawUnsafe(`savepoint ${name}`);
    try {
      const result = await fn(tx);
      await tx.$executeRawUnsafe(`release savepoint ${name}`);
      return result;
    } catch (error) {
      await tx.$executeRawUnsafe(`rollback to savepoint ${name}`);
      throw error;
    }
  }

  /**
   * Rolls back everything the operation wrote so far and forgets the transaction: the next
   * statement begins a new one, with the same claims and settings. For the planner, whose
   * refused write is then run again field by field.
   */
  async restart(): Promise<void> {
    await this.finish('rollback');
    this.client = undefined;
    this.connection = undefined;
    this.beganIn = undefined;
    this.settled = undefined;
    this.decide = undefined;
    this.savepoints = 0;
    this.failed = false;
    this.over = false;
  }

  /** Commits (or rolls back) and waits for it; a no-op when the transaction never opened. */
  async finish(outcome: 'commit' | 'rollback'): Promise<void> {
    if (this.client) {
      this.decide?.(this.failed ? 'rollback' : outcome);
      await this.settled;
      return;
    }
    if (!this.connection) return;
    // Only the gateway's own statements ran: it ends the transaction itself, without Prisma.
    let connection: BegunConnection;
    try {
      connection = await this.connection;
    } catch {
      return; // BEGIN failed: there is nothing to end, and the statement that needed it has said why.
    }
    const end = this.failed ? 'rollback' : outcome;
    await this.beganIn!.runInAsyncScope(() => {
      countStatement();
      return connection.end(end);
    });
  }
}
