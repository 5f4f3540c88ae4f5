import type { Database } from '../db/database.ts';
import { claimsStatement, type RequestClaims } from '../session/claims.ts';

// The rows realtime subscribers follow, read as they may read them. Both what is delivered (the
// hub's one read per change) and what a Supabase client may filter on are the columns the
// `authenticated` role holds SELECT on: read once per table from the database's own privileges.

/** The tables whose changes subscribers receive: the ones 20251124001900_change_feed.sql announces. */
export const LIFECYCLE_TABLES = [
  'analyses',
  'content_generations',
  'contract_analyses',
  'localization_analyses',
  'customer_behavior_analyses',
  'compliance_monitoring',
  'learning_paths',
  'uploads',
] as const;
export type LifecycleTable = (typeof LIFECYCLE_TABLES)[number];
export const isLifecycleTable = (table: string): table is LifecycleTable => (LIFECYCLE_TABLES as readonly string[]).includes(table);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class LifecycleRows {
  private readonly readable = new Map<LifecycleTable, Promise<readonly string[]>>();

  constructor(private readonly db: Database) {}

  /** The columns `authenticated` may select (the embedding is not one), in table order; asked once per table. */
  columns(table: LifecycleTable): Promise<readonly string[]> {
    let columns = this.readable.get(table);
    if (!columns) {
      columns = this.db
        .query<{ name: string }>(
          `select attname as name from pg_attribute
           where attrelid = ('public.' || quote_ident($1))::regclass and attnum > 0 and not attisdropped
             and has_column_privilege('authenticated', attrelid, attnum, 'SELECT')
           order by attnum`,
          [table],
        )
        .then(({ rows }) => rows.map(({ name }) => name));
      columns.catch(() => this.readable.delete(table));
      this.readable.set(table, columns);
    }
    return columns;
  }

  /**
   * The row as `claims` may read it, those columns as the database's JSON gives them (snake_case),
   * or null: one transaction, one round trip on a server.
   */
  async read(table: LifecycleTable, id: string, claims: RequestClaims): Promise<Record<string, unknown> | null> {
    // Inlined (a script takes no parameters): only ever a uuid.
    if (!UUID.test(id)) return null;
    const columns = (await this.columns(table)).map((name) => `"${name.replaceAll('"', '""')}"`).join(', ');
    const select = `select to_jsonb(r) as row from (select ${columns} from public."${table}" where id = '${id}') r`;
    const opening = claimsStatement(claims, { readOnly: true });
    const rows = this.db.once
      ? await this.db.once<{ row: Record<string, unknown> }>(opening, select)
      : await this.db.transaction(async (tx) => (await tx.query<{ row: Record<string, unknown> }>(select)).rows, opening);
    return rows[0]?.row ?? null;
  }
}
