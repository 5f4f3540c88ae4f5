import { fileURLToPath } from 'node:url';

const root = (relative: string) => fileURLToPath(new URL(`../../${relative}`, import.meta.url));

export const MIGRATIONS_DIR = root('supabase/migrations');
export const BOOTSTRAP_FILE = root('supabase/compat/bootstrap.sql');
export const SEED_FILE = root('supabase/seed.sql');
