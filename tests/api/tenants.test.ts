import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway } from '../support/gateway.ts';
import { addMember, createUser, createWorld, type World } from '../support/world.ts';

let db: TestDatabase;
let world: World;
let api: ReturnType<typeof createTestGateway>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  api = createTestGateway(db);
});
afterAll(() => db?.close());

const gid = (type: string, id: string) => encodeGlobalID(type, id);
type Result = { code?: string; message?: string; [key: string]: unknown };

describe('viewer', () => {
  it('tells who the caller is, their active tenant, role and tenants', async () => {
    await addMember(db.owner, world.b.id, world.a.admin.id, 'VIEWER');
    const query = '{ viewer { user { id email } tenant { id slug } role tenants { slug } creditBalance } }';
    const response = await api.as<{ viewer: Record<string, unknown> }>(world.a.admin, world.a.id, query);
    expect(response.body.data!.viewer).toEqual({
      user: { id: gid('User', world.a.admin.id), email: world.a.admin.email },
      tenant: { id: gid('Tenant', world.a.id), slug: world.a.slug },
      role: 'ADMIN',
      tenants: [{ slug: world.a.slug }, { slug: world.b.slug }].sort((x, y) => x.slug.localeCompare(y.slug)),
      creditBalance: 0,
    });
  });

  it('a token naming a tenant the user does not belong to has no tenant and no role', async () => {
    const response = await api.as<{ viewer: Record<string, unknown> }>(world.b.member, world.a.id, '{ viewer { tenant { id } role } }');
    expect(response.body.data!.viewer).toEqual({ tenant: null, role: null });
  });
});

describe('tenant mutations', () => {
  it('createTenant makes the caller OWNER; slugs are validated and unique', async () => {
    const founder = await createUser(db.owner, 'founder');
    const create = `mutation ($input: CreateTenantInput!) {
      createTenant(input: $input) { ... on MutationCreateTenantSuccess { tenant { slug plan } } ... on MutationError { code message } }
    }`;
    const ok = await api.as<{ createTenant: Result }>(founder, undefined, create, { input: { name: 'Acme', slug: 'acme-founded' } });
    expect(ok.body.data!.createTenant).toEqual({ tenant: { slug: 'acme-founded', plan: 'FREE' } });
    const { rows } = await db.owner.query("select role from public.tenant_users tu join public.tenants t on t.id = tu.tenant_id where t.slug = 'acme-founded'");
    expect(rows).toEqual([{ role: 'OWNER' }]);
    const taken = await api.as<{ createTenant: Result }>(founder, undefined, create, { input: { name: 'Again', slug: 'acme-founded' } });
    expect(taken.body.data!.createTenant.code).toBe('CONFLICT');
    const bad = await api.as<{ createTenant: Result }>(founder, undefined, create, { input: { name: 'Bad', slug: 'Not A Slug' } });
    expect(bad.body.data!.createTenant.code).toBe('VALIDATION_FAILED');
    const anon = await api.graphql<{ createTenant: Result }>(create, { variables: { input: { name: 'Anon', slug: 'anon-x' } } });
    expect(anon.body.data!.createTenant.code).toBe('UNAUTHENTICATED');
  });

  it('updateTenant: OWNER and ADMIN of the active tenant only', async () => {
    const update = `mutation { updateTenant(input: { name: "Renamed" }) { ... on MutationUpdateTenantSuccess { tenant { name } } ... on MutationError { code } } }`;
    expect((await api.as<{ updateTenant: Result }>(world.a.admin, world.a.id, update)).body.data!.updateTenant).toEqual({ tenant: { name: 'Renamed' } });
    expect((await api.as<{ updateTenant: Result }>(world.a.member, world.a.id, update)).body.data!.updateTenant).toEqual({ code: 'FORBIDDEN' });
    expect((await api.as<{ updateTenant: Result }>(world.b.owner, world.a.id, update)).body.data!.updateTenant).toEqual({ code: 'FORBIDDEN' });
  });

  it('inviteTenantMember, acceptTenantInvitation, changeMemberRole and removeTenantMember follow the role rules', async () => {
    const newcomer = await createUser(db.owner, 'newcomer');
    const invite = `mutation ($email: String!, $role: TenantRole) {
      inviteTenantMember(input: { email: $email, role: $role }) {
        ... on MutationInviteTenantMemberSuccess { invitation { id email role status } } ... on MutationError { code message }
      }
    }`;
    type Invited = { inviteTenantMember: Result & { invitation?: { id: string; email: string; role: string; status: string } } };
    const asAdmin = (email: string, role?: string) => api.as<Invited>(world.a.admin, world.a.id, invite, { email, role });
    expect((await asAdmin(newcomer.email, 'OWNER')).body.data!.inviteTenantMember.code).toBe('FORBIDDEN');
    const invited = (await asAdmin(newcomer.email.toUpperCase())).body.data!.inviteTenantMember;
    expect(invited.invitation).toMatchObject({ email: newcomer.email, role: 'MEMBER', status: 'PENDING' });
    expect((await asAdmin(newcomer.email)).body.data!.inviteTenantMember.code).toBe('CONFLICT');
    expect((await asAdmin(world.a.member.email)).body.data!.inviteTenantMember.code).toBe('CONFLICT');
    expect((await asAdmin('not an email')).body.data!.inviteTenantMember.code).toBe('VALIDATION_FAILED');
    const byMember = await api.as<Invited>(world.a.member, world.a.id, invite, { email: world.outsider.email });
    expect(byMember.body.data!.inviteTenantMember.code).toBe('FORBIDDEN');

    const accept = `mutation ($id: ID!) { acceptTenantInvitation(id: $id) {
      ... on MutationAcceptTenantInvitationSuccess { member { id role user { email } } } ... on MutationError { code } } }`;
    type Accepted = { acceptTenantInvitation: Result & { member?: { id: string; role: string } } };
    const byOther = await api.as<Accepted>(world.outsider, undefined, accept, { id: invited.invitation!.id });
    expect(byOther.body.data!.acceptTenantInvitation).toEqual({ code: 'NOT_FOUND' });
    const added = (await api.as<Accepted>(newcomer, undefined, accept, { id: invited.invitation!.id })).body.data!.acceptTenantInvitation;
    expect(added.member).toMatchObject({ role: 'MEMBER', user: { email: newcomer.email } });

    const change = `mutation ($id: ID!, $role: TenantRole!) {
      changeMemberRole(memberId: $id, role: $role) { ... on MutationChangeMemberRoleSuccess { member { role } } ... on MutationError { code } }
    }`;
    const memberId = added.member!.id;
    expect((await api.as<{ changeMemberRole: Result }>(world.a.admin, world.a.id, change, { id: memberId, role: 'ADMIN' })).body.data!.changeMemberRole).toEqual({
      member: { role: 'ADMIN' },
    });
    expect((await api.as<{ changeMemberRole: Result }>(world.a.admin, world.a.id, change, { id: memberId, role: 'OWNER' })).body.data!.changeMemberRole).toEqual({
      code: 'FORBIDDEN',
    });
    // Another tenant's membership is invisible, so it is not found rather than forbidden.
    expect((await api.as<{ changeMemberRole: Result }>(world.b.owner, world.b.id, change, { id: memberId, role: 'VIEWER' })).body.data!.changeMemberRole).toEqual({
      code: 'NOT_FOUND',
    });

    const remove = `mutation ($id: ID!) { removeTenantMember(memberId: $id) { ... on MutationRemoveTenantMemberSuccess { removedMemberId } ... on MutationError { code } } }`;
    expect((await api.as<{ removeTenantMember: Result }>(world.b.owner, world.b.id, remove, { id: memberId })).body.data!.removeTenantMember).toEqual({
      code: 'NOT_FOUND',
    });
    const removed = await api.as<{ removeTenantMember: Result }>(world.a.owner, world.a.id, remove, { id: memberId });
    expect(removed.body.data!.removeTenantMember).toHaveProperty('removedMemberId');
  });

  it('the last OWNER cannot be demoted: LAST_OWNER, and nothing changes', async () => {
    const { rows } = await db.owner.query<{ id: string }>('select id from public.tenant_users where tenant_id = $1 and user_id = $2', [
      world.b.id,
      world.b.owner.id,
    ]);
    const change = `mutation ($id: ID!) { changeMemberRole(memberId: $id, role: ADMIN) { ... on MutationError { code message } } }`;
    const response = await api.as<{ changeMemberRole: Result }>(world.b.owner, world.b.id, change, { id: gid('TenantMember', rows[0]!.id) });
    expect(response.body.data!.changeMemberRole).toMatchObject({ code: 'LAST_OWNER' });
    const after = await db.owner.query('select role from public.tenant_users where id = $1', [rows[0]!.id]);
    expect(after.rows).toEqual([{ role: 'OWNER' }]);
  });

  it('tenant settings: members read, OWNER and ADMIN upsert, others refused', async () => {
    const upsert = `mutation ($value: JSON!) {
      upsertTenantSetting(key: "ai.default_model", value: $value) { ... on MutationUpsertTenantSettingSuccess { setting { key value } } ... on MutationError { code } }
    }`;
    expect((await api.as<{ upsertTenantSetting: Result }>(world.a.owner, world.a.id, upsert, { value: { name: 'small' } })).body.data!.upsertTenantSetting).toEqual({
      setting: { key: 'ai.default_model', value: { name: 'small' } },
    });
    expect((await api.as<{ upsertTenantSetting: Result }>(world.a.admin, world.a.id, upsert, { value: 'large' })).body.data!.upsertTenantSetting).toEqual({
      setting: { key: 'ai.default_model', value: 'large' },
    });
    expect((await api.as<{ upsertTenantSetting: Result }>(world.a.member, world.a.id, upsert, { value: 'x' })).body.data!.upsertTenantSetting).toEqual({
      code: 'FORBIDDEN',
    });
    const read = await api.as<{ viewer: { tenant: { settings: unknown[]; members: { totalCount: number } } } }>(
      world.a.viewer,
      world.a.id,
      '{ viewer { tenant { settings { key value } members { totalCount } } } }',
    );
    expect(read.body.data!.viewer.tenant.settings).toEqual([{ key: 'ai.default_model', value: 'large' }]);
    expect(read.body.data!.viewer.tenant.members.totalCount).toBeGreaterThanOrEqual(4);
    const foreign = await api.as<{ viewer: { tenant: { settings: unknown[] } } }>(world.b.owner, world.b.id, '{ viewer { tenant { settings { key } } } }');
    expect(foreign.body.data!.viewer.tenant.settings).toEqual([]);
  });

  it('updateProfile changes only the caller’s own name and avatar', async () => {
    const update = `mutation ($input: UpdateProfileInput!) {
      updateProfile(input: $input) { ... on MutationUpdateProfileSuccess { user { id name avatarUrl } } ... on MutationError { code } }
    }`;
    const ok = await api.as<{ updateProfile: Result }>(world.a.viewer, world.a.id, update, {
      input: { name: 'Vera', avatarUrl: 'https://cdn.example.test/v.png' },
    });
    expect(ok.body.data!.updateProfile).toEqual({
      user: { id: gid('User', world.a.viewer.id), name: 'Vera', avatarUrl: 'https://cdn.example.test/v.png' },
    });
    const bad = await api.as<{ updateProfile: Result }>(world.a.viewer, world.a.id, update, { input: { avatarUrl: 'javascript:alert(1)' } });
    expect(bad.body.data!.updateProfile).toEqual({ code: 'VALIDATION_FAILED' });
  });
});
