import { readFile } from 'node:fs/promises';
import type { Database } from './database.ts';
import { SEED_FILE } from './paths.ts';

/** Loads supabase/seed.sql in one transaction, only into a database that has no tenants yet. */
export async function loadDemoDataIfEmpty(owner: Database): Promise<boolean> {
  const { rows } = await owner.query<{ empty: boolean }>('select not exists (select 1 from public.tenants) as empty');
  if (!rows[0]?.empty) return false;
  const script = await readFile(SEED_FILE, 'utf8');
  await owner.transaction((tx) => tx.exec(script));
  return true;
}
