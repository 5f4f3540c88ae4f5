import type { Database } from '../../src/db/database.ts';

export type ApiRoleName = 'anon' | 'authenticated';
/** `true` for a whole-table privilege; a column list where it is granted on some columns only. */
export type Grant = true | readonly string[];

export interface RoleGrants {
  select?: Grant;
  insert?: Grant;
  update?: Grant;
  delete?: true;
  truncate?: true;
  references?: Grant;
  trigger?: true;
}

/** What the API roles may do with one table: privileges first, then the row policies. */
export interface TableAccess {
  anon?: RoleGrants;
  authenticated?: RoleGrants;
  /** `<command> to <roles>: <policy name>`, sorted. */
  policies: readonly string[];
}

/** Schemas whose objects the API roles could reach: the exposed one and the project's own. */
export const AUDITED_SCHEMAS = ['public', 'private', 'auth', 'extensions', 'supabase_migrations'];
/** Functions are audited in the project's schemas; extensions' (pgvector's) are executable by everyone by design. */
export const AUDITED_FUNCTION_SCHEMAS = ['public', 'private', 'auth'];

/** The privileges and policies the database actually has, in the matrix's shape. Run it as the owner. */
export async function readTableAccess(db: Database): Promise<Record<string, TableAccess>> {
  const columns = await db.query<{ tbl: string; role: ApiRoleName; privilege: string; granted: string[]; total: number }>(
    `select format('%s.%s', n.nspname, c.relname) as tbl, r.role, p.privilege,
            coalesce(array_agg(a.attname::text order by a.attnum)
                       filter (where has_column_privilege(r.role, c.oid, a.attnum, p.privilege)), '{}') as granted,
            count(*)::int as total
     from pg_class c
     join pg_namespace n on n.oid = c.relnamespace
     join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
     cross join (values ('anon'), ('authenticated')) as r (role)
     cross join (values ('SELECT'), ('INSERT'), ('UPDATE'), ('REFERENCES')) as p (privilege)
     where c.relkind in ('r', 'p', 'v', 'm') and n.nspname = any($1)
     group by 1, 2, 3`,
    [AUDITED_SCHEMAS],
  );
  const tables = await db.query<{ tbl: string; role: ApiRoleName; privilege: string }>(
    `select format('%s.%s', n.nspname, c.relname) as tbl, r.role, p.privilege
     from pg_class c
     join pg_namespace n on n.oid = c.relnamespace
     cross join (values ('anon'), ('authenticated')) as r (role)
     cross join (values ('DELETE'), ('TRUNCATE'), ('TRIGGER')) as p (privilege)
     where c.relkind in ('r', 'p', 'v', 'm') and n.nspname = any($1) and has_table_privilege(r.role, c.oid, p.privilege)`,
    [AUDITED_SCHEMAS],
  );
  const policies = await db.query<{ tbl: string; line: string }>(
    `select format('%s.%s', schemaname, tablename) as tbl,
            format('%s to %s: %s', lower(cmd), array_to_string(roles, ', '), policyname) as line
     from pg_policies where schemaname = any($1)`,
    [AUDITED_SCHEMAS],
  );

  const access: Record<string, TableAccess> = {};
  const entry = (tbl: string) => (access[tbl] ??= { policies: [] });
  const grants = (tbl: string, role: ApiRoleName) => (entry(tbl)[role] ??= {});
  for (const row of columns.rows) {
    if (row.granted.length === 0) continue;
    const key = row.privilege.toLowerCase() as 'select' | 'insert' | 'update' | 'references';
    grants(row.tbl, row.role)[key] = row.granted.length === row.total ? true : row.granted;
  }
  for (const row of tables.rows) {
    grants(row.tbl, row.role)[row.privilege.toLowerCase() as 'delete' | 'truncate' | 'trigger'] = true;
  }
  for (const row of policies.rows) (entry(row.tbl).policies as string[]).push(row.line);
  for (const [tbl, value] of Object.entries(access)) {
    if (!value.anon && !value.authenticated && value.policies.length === 0) delete access[tbl];
    else (value.policies as string[]).sort();
  }
  return access;
}

/** Every function of the project's schemas that anon or authenticated may execute: `schema.name(args)` per role. */
export async function readExecutableFunctions(db: Database): Promise<Record<ApiRoleName, string[]>> {
  const { rows } = await db.query<{ role: ApiRoleName; fn: string }>(
    `select r.role, format('%s.%s(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) as fn
     from pg_proc p
     join pg_namespace n on n.oid = p.pronamespace
     cross join (values ('anon'), ('authenticated')) as r (role)
     where n.nspname = any($1) and has_function_privilege(r.role, p.oid, 'EXECUTE')
     order by 2`,
    [AUDITED_FUNCTION_SCHEMAS],
  );
  const result: Record<ApiRoleName, string[]> = { anon: [], authenticated: [] };
  for (const row of rows) result[row.role].push(row.fn);
  return result;
}
