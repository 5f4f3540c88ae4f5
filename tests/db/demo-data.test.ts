import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemoDataIfEmpty } from '../../src/db/seed.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { ANON, as, claimsOf } from '../support/world.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  expect(await loadDemoDataIfEmpty(db.owner)).toBe(true);
});
afterAll(() => db?.close());

const count = async (table: string) =>
  Number((await db.owner.query<{ n: string }>(`select count(*)::text as n from ${table}`)).rows[0]!.n);

describe('demo data', () => {
  it('matches the specified counts', async () => {
    const expected: Record<string, number> = {
      'public.tenants': 3,
      'public.users': 5,
      'public.tenant_users': 5,
      'public.tenant_settings': 7,
      'public.projects': 37,
      'public.analyses': 28,
      'public.conversations': 22,
      'public.posts': 28,
      'public.content_generations': 3,
      'public.subscriptions': 4,
      'public.credit_transactions': 8,
    };
    const actual: Record<string, number> = {};
    for (const table of Object.keys(expected)) actual[table] = await count(table);
    expect(actual).toEqual(expected);
    expect(await count('public.messages')).toBeGreaterThanOrEqual(22);
    expect(await count('public.audit_logs')).toBeGreaterThan(0);
  });

  it('has the named tenants, plans and balances', async () => {
    const tenants = await db.owner.query('select name, plan from public.tenants order by name');
    expect(tenants.rows).toEqual([
      { name: 'Default Organization', plan: 'ENTERPRISE' },
      { name: 'Enterprise Solutions Inc', plan: 'ENTERPRISE' },
      { name: 'Startup Innovations', plan: 'PRO' },
    ]);
    const balances = await db.owner.query<{ name: string; balance: string }>(`
      select u.name, (select ct.balance_after from public.credit_transactions ct
                      where ct.user_id = u.id order by ct.seq desc limit 1)::text as balance
      from public.users u order by u.name`);
    expect(Object.fromEntries(balances.rows.map((r) => [r.name, Number(r.balance)]))).toEqual({
      'Admin User': 1000,
      'Enterprise Manager': 1000,
      'Test User': 1000,
      'AI Specialist': 3000,
      'Security Analyst': 2000,
    });
    const pools = await db.owner.query<{ name: string; pool: string }>(`
      select t.name, (select ct.balance_after from public.credit_transactions ct
                      where ct.tenant_id = t.id and ct.user_id is null order by ct.seq desc limit 1)::text as pool
      from public.tenants t order by t.name`);
    expect(Object.fromEntries(pools.rows.map((r) => [r.name, Number(r.pool)]))).toEqual({
      'Default Organization': 10000,
      'Enterprise Solutions Inc': 10000,
      'Startup Innovations': 2500,
    });
  });

  it('keeps every row’s user inside the row’s tenant', async () => {
    const { rows } = await db.owner.query(`
      select 'projects' as t, id from public.projects p
        where not exists (select 1 from public.tenant_users tu where tu.tenant_id = p.tenant_id and tu.user_id = p.user_id)
      union all select 'analyses', id from public.analyses a
        where not exists (select 1 from public.tenant_users tu where tu.tenant_id = a.tenant_id and tu.user_id = a.user_id)
      union all select 'conversations', id from public.conversations c
        where not exists (select 1 from public.tenant_users tu where tu.tenant_id = c.tenant_id and tu.user_id = c.user_id)
      union all select 'posts', id from public.posts p
        where not exists (select 1 from public.tenant_users tu where tu.tenant_id = p.tenant_id and tu.user_id = p.author_id)`);
    expect(rows).toEqual([]);
  });

  it('is seen through the policies as its users would see it', async () => {
    const { rows } = await db.owner.query<{ id: string; tenant: string }>(
      "select id, raw_app_meta_data ->> 'tenant_id' as tenant from auth.users where email = 'admin@example.com'",
    );
    const admin = { id: rows[0]!.id, email: 'admin@example.com' };
    const projects = await as(db.gateway, claimsOf(admin, rows[0]!.tenant), 'select id from public.projects');
    const ownTenant = await db.owner.query<{ n: string }>('select count(*)::text as n from public.projects where tenant_id = $1', [
      rows[0]!.tenant,
    ]);
    expect(projects.length).toBe(Number(ownTenant.rows[0]!.n));
    expect(projects.length).toBeLessThan(37);
    const published = await as(db.gateway, ANON, 'select id from public.posts');
    const truth = await db.owner.query<{ n: string }>('select count(*)::text as n from public.posts where published');
    expect(published.length).toBe(Number(truth.rows[0]!.n));
  });

  it('loads only into an empty database', async () => {
    expect(await loadDemoDataIfEmpty(db.owner)).toBe(false);
    expect(await count('public.tenants')).toBe(3);
  });
});
