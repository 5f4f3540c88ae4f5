import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_TABLES } from '../support/content-tables.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { grantCredits } from '../support/ledger.ts';
import { ANON, as, claimsOf, createWorld, insertRow, sqlState, type World } from '../support/world.ts';

let db: TestDatabase;
let world: World;
let counter = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  // Paid requests charge their requester: give every writer enough, so refusals below are about the policies.
  for (const tenant of [world.a, world.b]) {
    for (const user of [tenant.owner, tenant.admin, tenant.member, tenant.viewer]) await grantCredits(db.owner, tenant.id, user.id, 10_000);
  }
});
afterAll(() => db?.close());

describe.each(CONTENT_TABLES)('$table', ({ table, ownerColumn, minimalRow }) => {
  const seedRow = (tenantId: string, userId: string) =>
    db.owner.transaction((tx) =>
      insertRow(tx, table, { tenant_id: tenantId, [ownerColumn]: userId, ...minimalRow(++counter) }),
    );
  const ids = (rows: { id: string }[]) => rows.map((row) => row.id);
  const touch = (rows: { id: string }[]) => rows.length;

  it('members read their tenant’s rows and never another tenant’s', async () => {
    const inA = await seedRow(world.a.id, world.a.member.id);
    const inB = await seedRow(world.b.id, world.b.member.id);
    for (const user of [world.a.owner, world.a.admin, world.a.member, world.a.viewer]) {
      const seen = ids(await as(db.gateway, claimsOf(user, world.a.id), `select id from public.${table}`));
      expect(seen).toContain(inA);
      expect(seen).not.toContain(inB);
    }
    const seenByB = ids(await as(db.gateway, claimsOf(world.b.member, world.b.id), `select id from public.${table}`));
    expect(seenByB).toContain(inB);
    expect(seenByB).not.toContain(inA);
  });

  it('a forged or foreign tenant claim, user_metadata and no membership all see nothing', async () => {
    const inA = await seedRow(world.a.id, world.a.member.id);
    const attempts = [
      claimsOf(world.b.owner, world.a.id),
      claimsOf(world.outsider, world.a.id),
      claimsOf(world.b.owner, undefined, { user_metadata: { tenant_id: world.a.id } }),
      claimsOf(world.a.member, 'not-a-uuid'),
      claimsOf(world.a.member),
    ];
    for (const claims of attempts) {
      const rows = await as<{ id: string }>(db.gateway, claims, `select id from public.${table} where id = $1`, [inA]);
      expect(rows).toEqual([]);
    }
  });

  it('anon reads nothing and cannot write', async () => {
    const inA = await seedRow(world.a.id, world.a.member.id);
    expect(await as(db.gateway, ANON, `select id from public.${table} where id = $1`, [inA])).toEqual([]);
    const insert = sqlState(
      as(db.gateway, ANON, `insert into public.${table} (tenant_id, ${ownerColumn}) values ($1, $2)`, [
        world.a.id,
        world.a.member.id,
      ]),
    );
    expect(await insert).toBe('42501');
  });

  it('MEMBER and up insert as themselves; VIEWER, impersonation and other tenants are refused', async () => {
    const row = (tenantId: string, userId: string) => ({ tenant_id: tenantId, [ownerColumn]: userId, ...minimalRow(++counter) });
    const insertAs = (claims: ReturnType<typeof claimsOf>, values: Record<string, unknown>) =>
      sqlState(as(db.gateway, claims, buildInsert(table, values), Object.values(values)));
    for (const user of [world.a.owner, world.a.admin, world.a.member]) {
      expect(await insertAs(claimsOf(user, world.a.id), row(world.a.id, user.id))).toBe('ok');
    }
    expect(await insertAs(claimsOf(world.a.viewer, world.a.id), row(world.a.id, world.a.viewer.id))).toBe('42501');
    expect(await insertAs(claimsOf(world.a.member, world.a.id), row(world.a.id, world.a.admin.id))).toBe('42501');
    expect(await insertAs(claimsOf(world.a.member, world.a.id), row(world.b.id, world.a.member.id))).toBe('42501');
    expect(await insertAs(claimsOf(world.a.member, world.b.id), row(world.b.id, world.a.member.id))).toBe('42501');
  });

  it('creators and ADMIN and up update; others, VIEWER and other tenants change nothing', async () => {
    const update = (claims: ReturnType<typeof claimsOf>, id: string) =>
      as<{ id: string }>(db.gateway, claims, `update public.${table} set metadata = '{"touched":true}' where id = $1 returning id`, [id]);
    const mine = await seedRow(world.a.id, world.a.member.id);
    expect(touch(await update(claimsOf(world.a.member, world.a.id), mine))).toBe(1);
    const others = await seedRow(world.a.id, world.a.admin.id);
    expect(touch(await update(claimsOf(world.a.member, world.a.id), others))).toBe(0);
    expect(touch(await update(claimsOf(world.a.viewer, world.a.id), others))).toBe(0);
    expect(touch(await update(claimsOf(world.b.owner, world.b.id), others))).toBe(0);
    expect(touch(await update(claimsOf(world.b.owner, world.a.id), others))).toBe(0);
    expect(touch(await update(claimsOf(world.a.admin, world.a.id), mine))).toBe(1);
    expect(touch(await update(claimsOf(world.a.owner, world.a.id), others))).toBe(1);
  });

  it('a row cannot be moved into another tenant', async () => {
    const mine = await seedRow(world.a.id, world.a.owner.id);
    const moved = sqlState(
      as(db.gateway, claimsOf(world.a.owner, world.a.id), `update public.${table} set tenant_id = $2 where id = $1`, [
        mine,
        world.b.id,
      ]),
    );
    expect(await moved).toBe('42501');
  });

  it('creators and ADMIN and up delete; others, VIEWER and other tenants delete nothing', async () => {
    const remove = (claims: ReturnType<typeof claimsOf>, id: string) =>
      as<{ id: string }>(db.gateway, claims, `delete from public.${table} where id = $1 returning id`, [id]);
    const others = await seedRow(world.a.id, world.a.admin.id);
    expect(touch(await remove(claimsOf(world.a.member, world.a.id), others))).toBe(0);
    expect(touch(await remove(claimsOf(world.a.viewer, world.a.id), others))).toBe(0);
    expect(touch(await remove(claimsOf(world.b.owner, world.b.id), others))).toBe(0);
    expect(touch(await remove(claimsOf(world.b.owner, world.a.id), others))).toBe(0);
    const mine = await seedRow(world.a.id, world.a.member.id);
    expect(touch(await remove(claimsOf(world.a.member, world.a.id), mine))).toBe(1);
    expect(touch(await remove(claimsOf(world.a.admin, world.a.id), others))).toBe(1);
  });
});

function buildInsert(table: string, values: Record<string, unknown>): string {
  const columns = Object.keys(values);
  return `insert into public.${table} (${columns.join(', ')}) values (${columns.map((_, i) => `$${i + 1}`).join(', ')})`;
}
