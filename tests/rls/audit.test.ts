import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { as, claimsOf, createWorld, insertRow, SERVICE, sqlState, type World } from '../support/world.ts';

let db: TestDatabase;
let world: World;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
});
afterAll(() => db?.close());

describe('audit_logs', () => {
  it('records every write with actor, tenant, table, row, action and values', async () => {
    const claims = claimsOf(world.a.member, world.a.id);
    const [project] = await as<{ id: string }>(db.gateway, claims, "insert into public.projects (tenant_id, user_id, name) values ($1, $2, 'Audited') returning id", [
      world.a.id,
      world.a.member.id,
    ]);
    await as(db.gateway, claims, "update public.projects set name = 'Renamed' where id = $1", [project!.id]);
    await as(db.gateway, claims, 'delete from public.projects where id = $1', [project!.id]);
    const { rows } = await db.owner.query(
      'select tenant_id, actor_id, actor_role, table_name, action, old_values ->> $2 as old_name, new_values ->> $2 as new_name from public.audit_logs where row_id = $1 order by seq',
      [project!.id, 'name'],
    );
    const base = { tenant_id: world.a.id, actor_id: world.a.member.id, actor_role: 'authenticated', table_name: 'projects' };
    expect(rows).toEqual([
      { ...base, action: 'INSERT', old_name: null, new_name: 'Audited' },
      { ...base, action: 'UPDATE', old_name: 'Audited', new_name: 'Renamed' },
      { ...base, action: 'DELETE', old_name: 'Renamed', new_name: null },
    ]);
  });

  it('keeps private content out of the trail', async () => {
    const conversation = await db.owner.transaction((tx) =>
      insertRow(tx, 'conversations', { tenant_id: world.a.id, user_id: world.a.member.id, title: 'Salary talk' }),
    );
    await db.owner.transaction((tx) =>
      insertRow(tx, 'messages', { tenant_id: world.a.id, conversation_id: conversation, role: 'USER', content: 'my secret' }),
    );
    const { rows } = await db.owner.query<{ trail: string }>(
      "select string_agg(coalesce(new_values::text, ''), ' ') as trail from public.audit_logs where table_name in ('conversations', 'messages')",
    );
    expect(rows[0]!.trail).not.toContain('my secret');
    expect(rows[0]!.trail).not.toContain('Salary talk');
  });

  it('OWNER and ADMIN read their tenant’s trail; members, viewers and other tenants do not', async () => {
    await db.owner.query("insert into public.tenant_settings (tenant_id, key, value) values ($1, 'audit.probe', 'true')", [world.a.id]);
    const count = async (user: typeof world.a.owner, tenantId: string) =>
      (await as(db.gateway, claimsOf(user, tenantId), "select id from public.audit_logs where table_name = 'tenant_settings'")).length;
    expect(await count(world.a.owner, world.a.id)).toBeGreaterThan(0);
    expect(await count(world.a.admin, world.a.id)).toBeGreaterThan(0);
    expect(await count(world.a.member, world.a.id)).toBe(0);
    expect(await count(world.a.viewer, world.a.id)).toBe(0);
    expect(await count(world.b.owner, world.a.id)).toBe(0);
    expect(await count(world.b.owner, world.b.id)).toBe(0);
  });

  it('cannot be written, changed or deleted by anyone, the owner included', async () => {
    const forge = as(
      db.gateway,
      claimsOf(world.a.owner, world.a.id),
      "insert into public.audit_logs (tenant_id, actor_role, table_name, action) values ($1, 'x', 'x', 'INSERT')",
      [world.a.id],
    );
    expect(await sqlState(forge)).toBe('42501');
    expect(await sqlState(as(db.gateway, claimsOf(world.a.owner, world.a.id), 'delete from public.audit_logs'))).toBe('42501');
    expect(await sqlState(as(db.gateway, SERVICE, "update public.audit_logs set action = 'DELETE'"))).toBe('42501');
    expect(await sqlState(db.owner.query("update public.audit_logs set table_name = 'x'"))).toBe('42501');
    expect(await sqlState(db.owner.query('delete from public.audit_logs'))).toBe('42501');
    expect(await sqlState(db.owner.query('truncate public.audit_logs'))).toBe('42501');
  });
});
