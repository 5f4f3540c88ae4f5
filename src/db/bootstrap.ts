import { readFile } from 'node:fs/promises';
import type { Database } from './database.ts';
import { BOOTSTRAP_FILE } from './paths.ts';

/** True when the Supabase objects the migrations rely on already exist (a Supabase project). */
export async function hasSupabaseEnvironment(db: Database): Promise<boolean> {
  const { rows } = await db.query<{ ready: boolean }>(`
    select to_regprocedure('auth.uid()') is not null
       and to_regprocedure('auth.jwt()') is not null
       and to_regprocedure('auth.role()') is not null
       and to_regclass('auth.users') is not null
       and (select count(*) from pg_roles
            where rolname in ('anon', 'authenticated', 'service_role', 'authenticator')) = 4
       as ready`);
  return rows[0]?.ready === true;
}

/** Recreates Supabase's roles, auth schema and functions where they are missing. */
export async function applyBootstrapIfMissing(db: Database): Promise<boolean> {
  if (await hasSupabaseEnvironment(db)) return false;
  const script = await readFile(BOOTSTRAP_FILE, 'utf8');
  await db.transaction((tx) => tx.exec(script));
  return true;
}
