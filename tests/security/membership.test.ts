import { readFile } from 'node:fs/promises';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway, tokenFor } from '../support/gateway.ts';
import { as, claimsOf, createUser, createWorld, insertRow, SERVICE, sqlState, type World } from '../support/world.ts';

let db: TestDatabase;
let world: World;
let api: ReturnType<typeof createTestGateway>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  api = createTestGateway(db);
});
afterAll(() => db?.close());

const adminOfA = () => claimsOf(world.a.admin, world.a.id);
const membersOf = async (tenantId: string) =>
  (await db.owner.query<{ user_id: string }>('select user_id from public.tenant_users where tenant_id = $1', [tenantId])).rows.map(
    (row) => row.user_id,
  );

describe('joining a tenant takes the invitee’s consent (finding 1)', () => {
  it('an ADMIN cannot insert a membership for someone else through the Data API', async () => {
    const victim = await createUser(db.owner, 'victim');
    const insert = as(db.gateway, adminOfA(), "insert into public.tenant_users (tenant_id, user_id, role) values ($1, $2, 'VIEWER')", [
      world.a.id,
      victim.id,
    ]);
    expect(await sqlState(insert)).toBe('42501');
    expect(await membersOf(world.a.id)).not.toContain(victim.id);
  });

  it('the add-by-email function is gone, and a victim’s profile stays unreadable', async () => {
    const victim = await createUser(db.owner, 'victim');
    expect(await sqlState(as(db.gateway, adminOfA(), 'select public.add_tenant_member($1)', [victim.email]))).toBe('42883');
    expect(await as(db.gateway, adminOfA(), 'select email from public.users where id = $1', [victim.id])).toEqual([]);
  });

  it('inviting answers the same for a registered and an unknown email, and adds nobody', async () => {
    const victim = await createUser(db.owner, 'victim');
    const invite = (email: string) =>
      as<Record<string, unknown>>(
        db.gateway,
        adminOfA(),
        'select tenant_id, email, role, status from public.invite_tenant_member($1, $2)',
        [email, 'MEMBER'],
      );
    const known = await invite(victim.email.toUpperCase());
    const unknown = await invite('nobody.at.all@example.test');
    expect(known).toEqual([{ tenant_id: world.a.id, email: victim.email, role: 'MEMBER', status: 'PENDING' }]);
    expect(unknown).toEqual([{ tenant_id: world.a.id, email: 'nobody.at.all@example.test', role: 'MEMBER', status: 'PENDING' }]);
    expect(await membersOf(world.a.id)).not.toContain(victim.id);
    expect(await as(db.gateway, adminOfA(), 'select email from public.users where id = $1', [victim.id])).toEqual([]);
  });

  it('a pending invitation is visible to its invitee, not a membership, until accepted', async () => {
    const invitee = await createUser(db.owner, 'invitee');
    const [invitation] = await as<{ id: string }>(db.gateway, adminOfA(), 'select id from public.invite_tenant_member($1)', [invitee.email]);
    const asInvitee = claimsOf(invitee);
    expect(await as(db.gateway, asInvitee, 'select id, status from public.tenant_invitations')).toEqual([
      { id: invitation!.id, status: 'PENDING' },
    ]);
    // Not a member yet: the tenant's rows stay out of reach.
    expect(await as(db.gateway, claimsOf(invitee, world.a.id), 'select id from public.tenants')).toEqual([]);
    // Someone else cannot accept it, not even a member of the tenant.
    expect(await sqlState(as(db.gateway, claimsOf(world.a.member), 'select public.accept_tenant_invitation($1)', [invitation!.id]))).toBe(
      'P0002',
    );
    const [membership] = await as<{ role: string; user_id: string }>(
      db.gateway,
      asInvitee,
      'select role, user_id from public.accept_tenant_invitation($1)',
      [invitation!.id],
    );
    expect(membership).toEqual({ role: 'MEMBER', user_id: invitee.id });
    expect(await membersOf(world.a.id)).toContain(invitee.id);
    // Accepted once; a second acceptance finds nothing pending.
    expect(await sqlState(as(db.gateway, asInvitee, 'select public.accept_tenant_invitation($1)', [invitation!.id]))).toBe('P0002');
  });

  it('invitees decline, admins revoke, and only an OWNER invites an OWNER', async () => {
    const invitee = await createUser(db.owner, 'decliner');
    const [first] = await as<{ id: string }>(db.gateway, adminOfA(), 'select id from public.invite_tenant_member($1)', [invitee.email]);
    await as(db.gateway, claimsOf(invitee), 'select public.decline_tenant_invitation($1)', [first!.id]);
    const [second] = await as<{ id: string }>(db.gateway, adminOfA(), 'select id from public.invite_tenant_member($1)', [invitee.email]);
    await as(db.gateway, adminOfA(), 'select public.revoke_tenant_invitation($1)', [second!.id]);
    const { rows } = await db.owner.query('select status from public.tenant_invitations where id in ($1, $2) order by created_at', [
      first!.id,
      second!.id,
    ]);
    expect(rows.map((row) => row.status).sort()).toEqual(['DECLINED', 'REVOKED']);
    expect(await sqlState(as(db.gateway, claimsOf(invitee), 'select public.accept_tenant_invitation($1)', [second!.id]))).toBe('P0002');
    expect(await sqlState(as(db.gateway, adminOfA(), "select public.invite_tenant_member('x@example.test', 'OWNER')"))).toBe('42501');
    expect(await sqlState(as(db.gateway, claimsOf(world.a.member, world.a.id), "select public.invite_tenant_member('y@example.test')"))).toBe(
      '42501',
    );
  });

  it('through GraphQL: invite, see it as the invitee, accept', async () => {
    const invitee = await createUser(db.owner, 'graphql-invitee');
    const invite = `mutation ($email: String!) { inviteTenantMember(input: { email: $email }) {
      ... on MutationInviteTenantMemberSuccess { invitation { id email role status } } ... on MutationError { code } } }`;
    const known = await api.as<{ inviteTenantMember: { invitation: { id: string; email: string } } }>(world.a.admin, world.a.id, invite, {
      email: invitee.email,
    });
    const unknown = await api.as<{ inviteTenantMember: { invitation: { email: string } } }>(world.a.admin, world.a.id, invite, {
      email: 'unknown.person@example.test',
    });
    const shape = (value: object) => Object.keys(value).sort();
    expect(shape(known.body.data!.inviteTenantMember.invitation)).toEqual(shape(unknown.body.data!.inviteTenantMember.invitation));
    const invitationId = known.body.data!.inviteTenantMember.invitation.id;

    const mine = await api.as<{ viewer: { invitations: { id: string; tenantName: string }[] } }>(
      invitee,
      undefined,
      '{ viewer { invitations { id tenantName role } } }',
    );
    expect(mine.body.data!.viewer.invitations).toEqual([{ id: invitationId, tenantName: 'Tenant a', role: 'MEMBER' }]);

    const accept = `mutation ($id: ID!) { acceptTenantInvitation(id: $id) {
      ... on MutationAcceptTenantInvitationSuccess { member { role tenant { slug } } } ... on MutationError { code } } }`;
    const accepted = await api.as<{ acceptTenantInvitation: unknown }>(invitee, undefined, accept, { id: invitationId });
    expect(accepted.body.data!.acceptTenantInvitation).toEqual({ member: { role: 'MEMBER', tenant: { slug: world.a.slug } } });

    const removed = await api.graphql('mutation { addTenantMember(input: { email: "a@b.c" }) { __typename } }', {
      token: await tokenFor(world.a.admin, world.a.id),
    });
    expect(removed.body.errors?.[0]?.message).toMatch(/Cannot query field "addTenantMember"/);
  });
});

describe('invitations match confirmed emails only (finding 2)', () => {
  it('whoever registers the address first without confirming it cannot see or accept the invitation', async () => {
    const squatter = await createUser(db.owner, 'squatter', { confirmed: false });
    const [invitation] = await as<{ id: string }>(db.gateway, adminOfA(), 'select id from public.invite_tenant_member($1)', [squatter.email]);
    expect(await as(db.gateway, claimsOf(squatter), 'select id from public.tenant_invitations')).toEqual([]);
    expect(await sqlState(as(db.gateway, claimsOf(squatter), 'select public.accept_tenant_invitation($1)', [invitation!.id]))).toBe('42501');
    expect(await membersOf(world.a.id)).not.toContain(squatter.id);
    const viaGraphQL = await api.as<{ viewer: { invitations: unknown[] }; accepted: { code?: string } }>(
      squatter,
      undefined,
      `query { viewer { invitations { id } } }`,
    );
    expect(viaGraphQL.body.data!.viewer.invitations).toEqual([]);
    const accept = await api.as<{ acceptTenantInvitation: { code?: string } }>(
      squatter,
      undefined,
      'mutation ($id: ID!) { acceptTenantInvitation(id: $id) { ... on MutationError { code } } }',
      { id: encodeGlobalID('TenantInvitation', invitation!.id) },
    );
    expect(accept.body.data!.acceptTenantInvitation).toEqual({ code: 'FORBIDDEN' });

    await db.owner.query('update auth.users set email_confirmed_at = now() where id = $1', [squatter.id]);
    expect(await as(db.gateway, claimsOf(squatter), 'select id from public.tenant_invitations')).toEqual([{ id: invitation!.id }]);
  });

  it('email confirmation is on for the Supabase project', async () => {
    const config = await readFile(new URL('../../supabase/config.toml', import.meta.url), 'utf8');
    const email = /\[auth\.email\]([\s\S]*?)(?:\n\[|$)/.exec(config)?.[1] ?? '';
    expect(email).toMatch(/^enable_confirmations\s*=\s*true$/m);
  });
});

describe('content rows belong to members of their tenant (finding 9)', () => {
  it('an ADMIN cannot hand a row to a user outside the tenant, or move it to another tenant', async () => {
    const project = await db.owner.transaction((tx) =>
      insertRow(tx, 'projects', { tenant_id: world.a.id, user_id: world.a.member.id, name: 'Owned' }),
    );
    for (const [column, value] of [
      ['user_id', world.outsider.id],
      ['user_id', world.b.owner.id],
      ['tenant_id', world.b.id],
    ] as const) {
      const update = as(db.gateway, adminOfA(), `update public.projects set ${column} = $2 where id = $1`, [project, value]);
      expect(await sqlState(update)).toBe('42501');
    }
    const { rows } = await db.owner.query('select user_id from public.projects where id = $1', [project]);
    expect(rows).toEqual([{ user_id: world.a.member.id }]);
  });

  it('even service_role cannot name a user who never belonged to the tenant', async () => {
    const insert = as(db.gateway, SERVICE, "insert into public.projects (tenant_id, user_id, name) values ($1, $2, 'Forged')", [
      world.a.id,
      world.outsider.id,
    ]);
    expect(await sqlState(insert)).toBe('23503');
  });

  it('a removed member’s rows stay in the tenant, attributed to them; they lose access', async () => {
    const leaver = await createUser(db.owner, 'leaver');
    await db.owner.query("insert into public.tenant_users (tenant_id, user_id, role) values ($1, $2, 'MEMBER')", [world.a.id, leaver.id]);
    const [project] = await as<{ id: string }>(db.gateway, claimsOf(leaver, world.a.id), "insert into public.projects (tenant_id, user_id, name) values ($1, $2, 'Left behind') returning id", [
      world.a.id,
      leaver.id,
    ]);
    await as(db.gateway, adminOfA(), 'delete from public.tenant_users where tenant_id = $1 and user_id = $2', [world.a.id, leaver.id]);
    expect(await as(db.gateway, adminOfA(), 'select user_id from public.projects where id = $1', [project!.id])).toEqual([
      { user_id: leaver.id },
    ]);
    expect(await as(db.gateway, claimsOf(leaver, world.a.id), 'select id from public.projects where id = $1', [project!.id])).toEqual([]);
    const owner = await api.as<{ node: { owner: unknown } }>(world.a.admin, world.a.id, 'query ($id: ID!) { node(id: $id) { ... on Project { name owner { id } } } }', {
      id: encodeGlobalID('Project', project!.id),
    });
    expect(owner.body).toEqual({ data: { node: { name: 'Left behind', owner: null } } });
  });
});
