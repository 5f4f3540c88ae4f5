import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIFECYCLE_TABLES } from '../../src/realtime/lifecycle-rows.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

// The hub reads each change once for every subscriber of the row's tenant. That is right only
// while what a member may read of these tables depends on the tenant alone: this keeps it so.
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

describe('the premise of one read per change', () => {
  it('every lifecycle table has exactly one policy that lets members read, keyed on the active tenant alone', async () => {
    const { rows } = await db.owner.query<{ table: string; policies: string[] }>(
      `select tablename as table, array_agg(coalesce(qual, '') order by policyname) as policies from pg_policies
       where schemaname = 'public' and tablename = any($1) and cmd in ('SELECT', 'ALL') and permissive = 'PERMISSIVE'
         and roles && array['authenticated', 'public']::name[]
       group by tablename order by tablename`,
      [[...LIFECYCLE_TABLES]],
    );
    expect(rows.map((row) => row.table)).toEqual([...LIFECYCLE_TABLES].sort());
    for (const { table, policies } of rows) {
      expect(policies, table).toEqual(['(tenant_id = ( SELECT private.active_tenant_id() AS active_tenant_id))']);
    }
    const restrictive = await db.owner.query(
      `select 1 from pg_policies where schemaname = 'public' and tablename = any($1) and permissive = 'RESTRICTIVE'`,
      [[...LIFECYCLE_TABLES]],
    );
    expect(restrictive.rows).toEqual([]);
  });
});
