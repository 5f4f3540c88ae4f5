import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantCredits } from '../support/ledger.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { as, claimsOf, createUser, createWorld, insertRow, SERVICE, sqlState, type World } from '../support/world.ts';

let db: TestDatabase;
let world: World;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
});
afterAll(() => db?.close());

// Run as the owner, who bypasses RLS: the keys alone must refuse a parent in another tenant.
describe('composite foreign keys', () => {
  const projectIn = (tenantId: string, userId: string) =>
    db.owner.transaction((tx) => insertRow(tx, 'projects', { tenant_id: tenantId, user_id: userId, name: 'Parent' }));
  const childTables = [
    ['analyses', { type: 'TEXT_ANALYSIS', input: 'x' }],
    ['uploads', { filename: 'a', original_name: 'a', path: '/a', size_bytes: 1, mime_type: 'text/plain' }],
    ['content_generations', { type: 'TEXT', prompt: 'x' }],
    ['contract_analyses', { contract_title: 'c', contract_type: 'NDA' }],
    ['localization_analyses', { product_name: 'p', target_market: 'm' }],
    ['customer_behavior_analyses', {}],
    ['compliance_monitoring', { business_type: 'b', jurisdiction: 'j' }],
    ['learning_paths', {}],
  ] as const;

  it.each(childTables)('%s refuses a project of another tenant', async (table, values) => {
    const foreignProject = await projectIn(world.b.id, world.b.member.id);
    const insert = db.owner.transaction((tx) =>
      insertRow(tx, table, { tenant_id: world.a.id, user_id: world.a.member.id, project_id: foreignProject, ...values }),
    );
    expect(await sqlState(insert)).toBe('23503');
    const ownProject = await projectIn(world.a.id, world.a.member.id);
    const ok = db.owner.transaction((tx) =>
      insertRow(tx, table, { tenant_id: world.a.id, user_id: world.a.member.id, project_id: ownProject, ...values }),
    );
    expect(await sqlState(ok)).toBe('ok');
  });

  it('deleting a project keeps its children and their tenant, unlinking only project_id', async () => {
    const project = await projectIn(world.a.id, world.a.member.id);
    const analysis = await db.owner.transaction((tx) =>
      insertRow(tx, 'analyses', { tenant_id: world.a.id, user_id: world.a.member.id, project_id: project, type: 'TEXT_ANALYSIS', input: 'x' }),
    );
    await db.owner.query('delete from public.projects where id = $1', [project]);
    const { rows } = await db.owner.query('select tenant_id, project_id from public.analyses where id = $1', [analysis]);
    expect(rows).toEqual([{ tenant_id: world.a.id, project_id: null }]);
  });

  it('messages refuse a conversation of another tenant; usage refuses a subscription of another tenant', async () => {
    const conversation = await db.owner.transaction((tx) =>
      insertRow(tx, 'conversations', { tenant_id: world.b.id, user_id: world.b.member.id }),
    );
    const message = db.owner.transaction((tx) =>
      insertRow(tx, 'messages', { tenant_id: world.a.id, conversation_id: conversation, role: 'USER', content: 'x' }),
    );
    expect(await sqlState(message)).toBe('23503');
    const subscription = await db.owner.transaction((tx) =>
      insertRow(tx, 'subscriptions', {
        tenant_id: world.b.id,
        plan: 'PRO',
        current_period_start: '2025-01-01T00:00:00Z',
        current_period_end: '2025-02-01T00:00:00Z',
      }),
    );
    const usage = db.owner.transaction((tx) =>
      insertRow(tx, 'subscription_usage', { tenant_id: world.a.id, subscription_id: subscription, metric: 'calls', period: '2025-01' }),
    );
    expect(await sqlState(usage)).toBe('23503');
  });

  it('an API key needs its user to be a member of its tenant', async () => {
    const key = db.owner.transaction((tx) =>
      insertRow(tx, 'api_keys', { tenant_id: world.a.id, user_id: world.b.member.id, name: 'k', prefix: 'gw_abcd', key_hash: 'b'.repeat(64) }),
    );
    expect(await sqlState(key)).toBe('23503');
  });
});

describe('analysis status lifecycle', () => {
  it('moves only PENDING -> PROCESSING -> COMPLETED | FAILED', async () => {
    const analysis = await db.owner.transaction((tx) =>
      insertRow(tx, 'analyses', { tenant_id: world.a.id, user_id: world.a.member.id, type: 'TEXT_ANALYSIS', input: 'x' }),
    );
    const move = (status: string) => sqlState(db.owner.query('update public.analyses set status = $2 where id = $1', [analysis, status]));
    expect(await move('COMPLETED')).toBe('GW003');
    expect(await move('PROCESSING')).toBe('ok');
    expect(await move('PENDING')).toBe('GW003');
    expect(await move('COMPLETED')).toBe('ok');
    expect(await move('FAILED')).toBe('GW003');
  });

  it('starts PENDING when created through the API, which cannot name a status at all', async () => {
    const claims = claimsOf(world.a.member, world.a.id);
    const create = (status: string) =>
      sqlState(
        as(db.gateway, claims, "insert into public.analyses (tenant_id, user_id, type, input, status) values ($1, $2, 'TEXT_ANALYSIS', 'x', $3)", [
          world.a.id,
          world.a.member.id,
          status,
        ]),
      );
    expect(await create('COMPLETED')).toBe('42501');
    expect(await create('PENDING')).toBe('42501');
    await grantCredits(db.owner, world.a.id, world.a.member.id, 10);
    const [row] = await as<{ status: string }>(db.gateway, claims, "insert into public.analyses (tenant_id, user_id, type, input) values ($1, $2, 'TEXT_ANALYSIS', 'x') returning status", [
      world.a.id,
      world.a.member.id,
    ]);
    expect(row).toEqual({ status: 'PENDING' });
  });
});

describe('posts', () => {
  it('publishing stamps published_at and unpublishing clears it', async () => {
    const post = await db.owner.transaction((tx) =>
      insertRow(tx, 'posts', { tenant_id: world.a.id, author_id: world.a.member.id, title: 'T', slug: 'stamp' }),
    );
    const stamped = async () =>
      (await db.owner.query<{ s: boolean }>('select published_at is not null as s from public.posts where id = $1', [post])).rows[0]!.s;
    await db.owner.query('update public.posts set published = true where id = $1', [post]);
    expect(await stamped()).toBe(true);
    await db.owner.query('update public.posts set published = false where id = $1', [post]);
    expect(await stamped()).toBe(false);
  });
});

describe('identities', () => {
  it('deleting an identity removes its profile, memberships and ledger; email changes reach the profile', async () => {
    const user = await createUser(db.owner, 'leaving');
    await db.owner.query("insert into public.tenant_users (tenant_id, user_id, role) values ($1, $2, 'MEMBER')", [world.a.id, user.id]);
    await as(db.gateway, SERVICE, "select public.grant_credits($1, 5, 'welcome', 'GRANT', $2)", [user.id, world.a.id]);
    await db.owner.query("update auth.users set email = 'renamed@example.test' where id = $1", [user.id]);
    const profile = await db.owner.query('select email from public.users where id = $1', [user.id]);
    expect(profile.rows).toEqual([{ email: 'renamed@example.test' }]);
    await db.owner.query('delete from auth.users where id = $1', [user.id]);
    const { rows } = await db.owner.query<{ n: number }>(
      `select (select count(*) from public.users where id = $1)::int
            + (select count(*) from public.tenant_users where user_id = $1)::int
            + (select count(*) from public.credit_transactions where user_id = $1)::int as n`,
      [user.id],
    );
    expect(rows[0]!.n).toBe(0);
  });
});

describe('timestamps', () => {
  it('updated_at follows every update whatever the client sends', async () => {
    const project = await db.owner.transaction((tx) =>
      insertRow(tx, 'projects', { tenant_id: world.a.id, user_id: world.a.member.id, name: 'Clock', updated_at: '2000-01-01T00:00:00Z' }),
    );
    await db.owner.query("update public.projects set name = 'Tick', updated_at = '2000-01-01' where id = $1", [project]);
    const { rows } = await db.owner.query<{ fresh: boolean }>(
      "select updated_at > now() - interval '1 minute' as fresh from public.projects where id = $1",
      [project],
    );
    expect(rows[0]!.fresh).toBe(true);
  });
});
