import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FUNCTION_ACCESS, TABLE_ACCESS } from '../support/privilege-matrix.ts';
import { readExecutableFunctions, readTableAccess } from '../support/privileges.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

describe('the privilege matrix', () => {
  it('lists every table the API roles can touch, with each grant and policy the database has', async () => {
    const actual = await readTableAccess(db.owner);
    for (const table of Object.keys({ ...actual, ...TABLE_ACCESS })) {
      expect(actual[table], `${table} in the database vs tests/support/privilege-matrix.ts`).toEqual(TABLE_ACCESS[table]);
    }
  });

  it('lists every function anon or authenticated may execute, and nothing more', async () => {
    const actual = await readExecutableFunctions(db.owner);
    for (const role of ['anon', 'authenticated'] as const) {
      const listed = Object.entries(FUNCTION_ACCESS)
        .filter(([, roles]) => roles[role] !== undefined)
        .map(([fn]) => fn)
        .sort();
      expect(actual[role], `functions ${role} may execute`).toEqual(listed);
    }
  });

  it('notices a new table (Supabase grants the API roles every table in public); a new function is nobody’s to call', async () => {
    await db.owner.query('create table public.unlisted_probe (id int)');
    await db.owner.query('create function public.unlisted_probe_fn() returns int language sql as $$ select 1 $$');
    try {
      // Supabase's defaults grant anon and authenticated every table in public; the function gets none.
      expect((await readTableAccess(db.owner))['public.unlisted_probe']).toBeDefined();
      expect((await readExecutableFunctions(db.owner)).authenticated).not.toContain('public.unlisted_probe_fn()');
    } finally {
      await db.owner.query('drop table public.unlisted_probe');
      await db.owner.query('drop function public.unlisted_probe_fn()');
    }
  });
});
