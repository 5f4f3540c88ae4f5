import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { addMember, ANON, as, claimsOf, createUser, createWorld, sqlState, type World } from '../support/world.ts';

let db: TestDatabase;
let world: World;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
});
afterAll(() => db?.close());

const ids = (rows: { id: string }[]) => rows.map((row) => row.id).sort();

describe('tenants', () => {
  it('members read every tenant they belong to and no other', async () => {
    const both = await createUser(db.owner, 'both');
    await addMember(db.owner, world.a.id, both.id, 'VIEWER');
    await addMember(db.owner, world.b.id, both.id, 'MEMBER');
    expect(ids(await as(db.gateway, claimsOf(both, world.a.id), 'select id from public.tenants'))).toEqual(
      [world.a.id, world.b.id].sort(),
    );
    expect(await as(db.gateway, claimsOf(world.a.member, world.a.id), 'select id from public.tenants')).toEqual([
      { id: world.a.id },
    ]);
    expect(await as(db.gateway, claimsOf(world.outsider, world.a.id), 'select id from public.tenants')).toEqual([]);
    expect(await as(db.gateway, ANON, 'select id from public.tenants')).toEqual([]);
  });

  it('OWNER and ADMIN rename the active tenant; MEMBER, VIEWER and other tenants cannot', async () => {
    const rename = (user: typeof world.a.owner, tenantId: string, target: string) =>
      as(db.gateway, claimsOf(user, tenantId), "update public.tenants set name = 'Renamed' where id = $1 returning id", [
        target,
      ]);
    expect(await rename(world.a.owner, world.a.id, world.a.id)).toHaveLength(1);
    expect(await rename(world.a.admin, world.a.id, world.a.id)).toHaveLength(1);
    expect(await rename(world.a.member, world.a.id, world.a.id)).toHaveLength(0);
    expect(await rename(world.a.viewer, world.a.id, world.a.id)).toHaveLength(0);
    expect(await rename(world.b.owner, world.b.id, world.a.id)).toHaveLength(0);
    expect(await rename(world.b.owner, world.a.id, world.a.id)).toHaveLength(0);
  });

  it('nobody but service_role changes plan, status or quotas', async () => {
    const upgrade = as(db.gateway, claimsOf(world.a.owner, world.a.id), "update public.tenants set plan = 'ENTERPRISE'");
    expect(await sqlState(upgrade)).toBe('42501');
    const quota = as(db.gateway, claimsOf(world.a.owner, world.a.id), 'update public.tenants set max_users = 10000');
    expect(await sqlState(quota)).toBe('42501');
  });

  it('tenants are created only through create_tenant, which makes the caller OWNER', async () => {
    const founder = await createUser(db.owner, 'founder');
    const direct = as(db.gateway, claimsOf(founder), "insert into public.tenants (name, slug) values ('X', 'x-direct')");
    expect(await sqlState(direct)).toBe('42501');
    const [created] = await as<{ id: string; plan: string }>(
      db.gateway,
      claimsOf(founder),
      "select id, plan from public.create_tenant('Founded', 'founded-' || substr(md5(random()::text), 1, 8))",
    );
    expect(created!.plan).toBe('FREE');
    const membership = await db.owner.query('select role from public.tenant_users where tenant_id = $1 and user_id = $2', [
      created!.id,
      founder.id,
    ]);
    expect(membership.rows).toEqual([{ role: 'OWNER' }]);
    expect(await sqlState(as(db.gateway, ANON, "select public.create_tenant('Anon', 'anon-tenant')"))).toBe('42501');
  });

  it('only the OWNER deletes the tenant, and everything in it goes with it', async () => {
    const owner = await createUser(db.owner, 'doomed-owner');
    const [tenant] = await as<{ id: string }>(
      db.gateway,
      claimsOf(owner),
      "select id from public.create_tenant('Doomed', 'doomed-' || substr(md5(random()::text), 1, 8))",
    );
    const admin = await createUser(db.owner, 'doomed-admin');
    await addMember(db.owner, tenant!.id, admin.id, 'ADMIN');
    await db.owner.query("insert into public.projects (tenant_id, user_id, name) values ($1, $2, 'P')", [tenant!.id, admin.id]);
    const byAdmin = await as(db.gateway, claimsOf(admin, tenant!.id), 'delete from public.tenants where id = $1 returning id', [
      tenant!.id,
    ]);
    expect(byAdmin).toHaveLength(0);
    const byOwner = await as(db.gateway, claimsOf(owner, tenant!.id), 'delete from public.tenants where id = $1 returning id', [
      tenant!.id,
    ]);
    expect(byOwner).toHaveLength(1);
    const left = await db.owner.query<{ n: number }>(
      'select (select count(*) from public.projects where tenant_id = $1)::int + (select count(*) from public.tenant_users where tenant_id = $1)::int as n',
      [tenant!.id],
    );
    expect(left.rows[0]!.n).toBe(0);
  });
});

describe('tenant_users', () => {
  it('members read the memberships of their tenants only', async () => {
    const rows = await as<{ id: string }>(db.gateway, claimsOf(world.a.viewer, world.a.id), 'select id from public.tenant_users');
    const truth = await db.owner.query<{ id: string }>('select id from public.tenant_users where tenant_id = $1', [world.a.id]);
    expect(ids(rows)).toEqual(ids(truth.rows));
    expect(await as(db.gateway, claimsOf(world.outsider, world.a.id), 'select id from public.tenant_users')).toEqual([]);
  });

  it('memberships come only from invitations: OWNER and ADMIN invite, ADMIN cannot invite an OWNER, nobody inserts directly', async () => {
    const invite = async (user: typeof world.a.owner, tenantId: string, role: string) => {
      const newcomer = await createUser(db.owner, 'newcomer');
      const direct = await sqlState(
        as(db.gateway, claimsOf(user, tenantId), 'insert into public.tenant_users (tenant_id, user_id, role) values ($1, $2, $3)', [
          tenantId,
          newcomer.id,
          role,
        ]),
      );
      expect(direct).toBe('42501');
      return sqlState(as(db.gateway, claimsOf(user, tenantId), 'select public.invite_tenant_member($1, $2)', [newcomer.email, role]));
    };
    expect(await invite(world.a.admin, world.a.id, 'MEMBER')).toBe('ok');
    expect(await invite(world.a.admin, world.a.id, 'ADMIN')).toBe('ok');
    expect(await invite(world.a.admin, world.a.id, 'OWNER')).toBe('42501');
    expect(await invite(world.a.owner, world.a.id, 'OWNER')).toBe('ok');
    expect(await invite(world.a.member, world.a.id, 'VIEWER')).toBe('42501');
    expect(await invite(world.b.owner, world.a.id, 'MEMBER')).toBe('42501');
  });

  it('a member cannot promote themselves, and ADMIN cannot touch an OWNER', async () => {
    const promote = await as(
      db.gateway,
      claimsOf(world.a.member, world.a.id),
      "update public.tenant_users set role = 'ADMIN' where user_id = $1 returning id",
      [world.a.member.id],
    );
    expect(promote).toHaveLength(0);
    const demoteOwner = await as(
      db.gateway,
      claimsOf(world.a.admin, world.a.id),
      "update public.tenant_users set role = 'MEMBER' where user_id = $1 and tenant_id = $2 returning id",
      [world.a.owner.id, world.a.id],
    );
    expect(demoteOwner).toHaveLength(0);
    const selfOwner = as(
      db.gateway,
      claimsOf(world.a.admin, world.a.id),
      "update public.tenant_users set role = 'OWNER' where user_id = $1 and tenant_id = $2",
      [world.a.admin.id, world.a.id],
    );
    expect(await sqlState(selfOwner)).toBe('42501');
  });

  it('the last OWNER can be neither demoted nor removed', async () => {
    const founder = await createUser(db.owner, 'solo');
    const [tenant] = await as<{ id: string }>(
      db.gateway,
      claimsOf(founder),
      "select id from public.create_tenant('Solo', 'solo-' || substr(md5(random()::text), 1, 8))",
    );
    const claims = claimsOf(founder, tenant!.id);
    const demote = as(db.gateway, claims, "update public.tenant_users set role = 'ADMIN' where user_id = $1", [founder.id]);
    expect(await sqlState(demote)).toBe('GW002');
    const leave = as(db.gateway, claims, 'delete from public.tenant_users where user_id = $1', [founder.id]);
    expect(await sqlState(leave)).toBe('GW002');
    const second = await createUser(db.owner, 'second-owner');
    await addMember(db.owner, tenant!.id, second.id, 'OWNER');
    expect(await sqlState(as(db.gateway, claims, 'delete from public.tenant_users where user_id = $1', [founder.id]))).toBe('ok');
  });

  it('a member can leave; a tenant refuses members beyond its quota', async () => {
    const leaver = await createUser(db.owner, 'leaver');
    await addMember(db.owner, world.b.id, leaver.id, 'MEMBER');
    const left = await as(db.gateway, claimsOf(leaver, world.b.id), 'delete from public.tenant_users where user_id = $1 returning id', [
      leaver.id,
    ]);
    expect(left).toHaveLength(1);
    const founder = await createUser(db.owner, 'quota');
    const [tenant] = await as<{ id: string }>(
      db.gateway,
      claimsOf(founder),
      "select id from public.create_tenant('Quota', 'quota-' || substr(md5(random()::text), 1, 8))",
    );
    await db.owner.query('update public.tenants set max_users = 2 where id = $1', [tenant!.id]);
    const invite = async () => {
      const user = await createUser(db.owner, 'invitee');
      const [invitation] = await as<{ id: string }>(db.gateway, claimsOf(founder, tenant!.id), 'select id from public.invite_tenant_member($1)', [
        user.email,
      ]);
      return sqlState(as(db.gateway, claimsOf(user), 'select public.accept_tenant_invitation($1)', [invitation!.id]));
    };
    expect(await invite()).toBe('ok');
    expect(await invite()).toBe('GW005');
  });
});

describe('tenant_settings', () => {
  it('members read; OWNER and ADMIN write; others and other tenants cannot', async () => {
    await db.owner.query("insert into public.tenant_settings (tenant_id, key, value) values ($1, 'ai.model', '\"small\"')", [
      world.a.id,
    ]);
    for (const user of [world.a.owner, world.a.viewer]) {
      expect(await as(db.gateway, claimsOf(user, world.a.id), 'select key from public.tenant_settings')).toEqual([
        { key: 'ai.model' },
      ]);
    }
    expect(await as(db.gateway, claimsOf(world.b.owner, world.b.id), 'select key from public.tenant_settings')).toEqual([]);
    expect(await as(db.gateway, claimsOf(world.b.owner, world.a.id), 'select key from public.tenant_settings')).toEqual([]);
    const write = (user: typeof world.a.owner, tenantId: string, key: string) =>
      sqlState(
        as(db.gateway, claimsOf(user, tenantId), "insert into public.tenant_settings (tenant_id, key, value) values ($1, $2, 'true')", [
          world.a.id,
          key,
        ]),
      );
    expect(await write(world.a.admin, world.a.id, 'flags.beta')).toBe('ok');
    expect(await write(world.a.member, world.a.id, 'flags.member')).toBe('42501');
    expect(await write(world.b.owner, world.a.id, 'flags.foreign')).toBe('42501');
    const change = await as(db.gateway, claimsOf(world.a.member, world.a.id), "update public.tenant_settings set value = '1' returning id");
    expect(change).toHaveLength(0);
    const removed = await as(db.gateway, claimsOf(world.a.viewer, world.a.id), 'delete from public.tenant_settings returning id');
    expect(removed).toHaveLength(0);
  });
});

describe('users', () => {
  it('a user reads their own profile and those sharing a tenant, nobody else’s', async () => {
    const seen = await as<{ id: string }>(db.gateway, claimsOf(world.a.viewer, world.a.id), 'select id from public.users');
    const truth = await db.owner.query<{ id: string }>('select user_id as id from public.tenant_users where tenant_id = $1', [
      world.a.id,
    ]);
    expect(ids(seen)).toEqual(ids(truth.rows));
    expect(ids(seen)).not.toContain(world.b.member.id);
    expect(await as(db.gateway, claimsOf(world.outsider), 'select id from public.users')).toEqual([{ id: world.outsider.id }]);
    expect(await as(db.gateway, ANON, 'select id from public.users')).toEqual([]);
  });

  it('a user updates only their own name and avatar', async () => {
    const own = await as(db.gateway, claimsOf(world.a.member, world.a.id), "update public.users set name = 'New Name' returning id");
    expect(own).toEqual([{ id: world.a.member.id }]);
    expect(await sqlState(as(db.gateway, claimsOf(world.a.member), "update public.users set role = 'ADMIN'"))).toBe('42501');
    expect(await sqlState(as(db.gateway, claimsOf(world.a.member), 'update public.users set is_active = false'))).toBe('42501');
    expect(await sqlState(as(db.gateway, claimsOf(world.a.member), "update public.users set email = 'x@example.test'"))).toBe('42501');
    const other = await as(db.gateway, claimsOf(world.a.owner, world.a.id), "update public.users set name = 'Hijack' where id = $1 returning id", [
      world.a.member.id,
    ]);
    expect(other).toHaveLength(0);
  });
});
